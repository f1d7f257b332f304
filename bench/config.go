package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Config is the server configuration a run measured, printed with every
// result: figures of the embedded default with its file-backed store and
// of a store in memory are not the same figures.
type Config struct {
	// Server is "embedded default" (NATS, worker and edge in one process),
	// with edge processes on its NATS when there are more edges, or "a
	// running server".
	Server string `json:"server"`
	// KV is where the worker keeps its records: "file" (JetStream's file
	// store, as a user runs it) or "memory" (SB_KV_MEMORY=true); empty for
	// a running server, whose configuration the tool cannot see.
	KV string `json:"kv,omitempty"`
	// DataDir holds the file store; FS is its filesystem.
	DataDir string `json:"dataDir,omitempty"`
	FS      string `json:"fs,omitempty"`
	// Env is what the tool set for the server processes beyond their
	// defaults, and the Go runtime settings they inherited; secrets are
	// redacted.
	Env []string `json:"env,omitempty"`
}

func (c Config) String() string {
	if c.KV == "" {
		return c.Server
	}
	t := c.Server + ", KV in memory"
	if c.KV == "file" {
		t = c.Server + ", KV file-backed"
		if c.FS != "" {
			t += " (" + c.FS + ")"
		}
	}
	if len(c.Env) > 0 {
		t += ", " + strings.Join(c.Env, " ")
	}
	return t
}

// toolEnv is what the tool sets for every server process it starts, beyond
// the defaults: the load comes from a few loopback addresses, thousands of
// connections from each, so no per-address cap; and the store in memory
// when asked.
func toolEnv(kvMemory bool) []string {
	env := []string{"SB_MAX_CONNS_PER_ADDR=0"}
	if kvMemory {
		env = append(env, "SB_KV_MEMORY=true")
	}
	return env
}

// goRuntimeVars are the caller's variables a server process inherits that
// change how Go runs it.
var goRuntimeVars = []string{"GOGC", "GOMEMLIMIT", "GOMAXPROCS", "GODEBUG"}

// startedConfig describes a server the tool starts.
func startedConfig(o clusterOptions) Config {
	c := Config{Server: "embedded default (NATS, worker and edge in one process)", KV: "file"}
	if o.Edges > 1 {
		c.Server = fmt.Sprintf("embedded default (NATS, worker and edge in one process) + %d edge processes on its NATS", o.Edges-1)
	}
	env := append(toolEnv(o.KVMemory), o.Env...)
	memory := false
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if k == "SB_KV_MEMORY" {
			memory, _ = strconv.ParseBool(v)
		}
		c.Env = append(c.Env, redact(k, v))
	}
	for _, k := range goRuntimeVars {
		if v, ok := os.LookupEnv(k); ok {
			c.Env = append(c.Env, k+"="+v)
		}
	}
	if memory {
		c.KV = "memory"
	} else {
		c.DataDir = dataDir(o.Dir)
		c.FS = fsType(o.Dir)
	}
	return c
}

// redact hides the value of a variable that may hold a secret.
func redact(k, v string) string {
	u := strings.ToUpper(k)
	for _, s := range []string{"SECRET", "CERT", "TOKEN", "PASSWORD", "KEY", "CREDENTIAL"} {
		if strings.Contains(u, s) {
			return k + "=(redacted)"
		}
	}
	return k + "=" + v
}

// fsType names the filesystem that holds dir.
func fsType(dir string) string {
	var st syscall.Statfs_t
	if syscall.Statfs(dir, &st) != nil {
		return ""
	}
	switch uint64(st.Type) {
	case 0xEF53:
		return "ext4"
	case 0x58465342:
		return "xfs"
	case 0x9123683E:
		return "btrfs"
	case 0x01021994:
		return "tmpfs: in memory"
	case 0x794C7630:
		return "overlayfs"
	}
	return fmt.Sprintf("filesystem 0x%x", uint64(st.Type))
}
