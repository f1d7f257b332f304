package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/switchboard-io/switchboard/apps"
	"github.com/switchboard-io/switchboard/edge"
	"github.com/switchboard-io/switchboard/node"
)

// serveMain is Switchboard as cmd/edge runs it, for a tool that was given
// no server binary: the same node.FromEnv and node.Start, so the same
// server.
func serveMain() int {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := node.FromEnv(os.Getenv)
	if err != nil {
		log.Error("configuration", "err", err)
		return 1
	}
	cfg.Log = log
	cfg.Edge = true
	if cfg.NATSURL == "" {
		cfg.Worker = true
		if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
			log.Error("data directory", "err", err)
			return 1
		}
	}
	n, err := node.Start(ctx, cfg)
	if err != nil {
		log.Error("start", "err", err)
		return 1
	}
	fmt.Printf("Switchboard is running: %s\n", n.WebSocketURL())
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := n.Close(sctx); err != nil {
		log.Error("stop", "err", err)
		return 1
	}
	return 0
}

// cluster is the Switchboard the tool started: the embedded default (NATS,
// worker and an edge in one process) and, for more than one edge, edge
// processes joined to its NATS.
type cluster struct {
	procs []*serverProc
	dir   string
}

type serverProc struct {
	name  string
	cmd   *exec.Cmd
	log   string
	ws    string // WebSocket URL
	debug string // debug base URL
	ready string // /readyz URL
	done  chan struct{}
	err   error
}

type clusterOptions struct {
	Edges int
	// Bin is the server binary (cmd/edge); empty runs this binary in its
	// server role.
	Bin string
	// Env is extra environment for every server process.
	Env []string
	// Dir holds the logs and the data.
	Dir string
	// KVMemory keeps the worker's records in memory instead of the file
	// store a user runs.
	KVMemory bool
}

func dataDir(dir string) string { return filepath.Join(dir, "data") }

// startCluster starts the server processes and waits until every edge is
// ready.
func startCluster(ctx context.Context, o clusterOptions) (*cluster, error) {
	c := &cluster{dir: o.Dir}
	bin, role := o.Bin, ""
	if bin == "" {
		self, err := os.Executable()
		if err != nil {
			return nil, err
		}
		bin, role = self, RoleEnv+"=server"
	}
	natsPort := 0
	if o.Edges > 1 {
		natsPort = freePort()
	}
	for i := 0; i < max(1, o.Edges); i++ {
		wsPort, dbgPort := freePort(), freePort()
		env := cleanEnv()
		env = append(env,
			"SB_LISTEN=127.0.0.1:"+strconv.Itoa(wsPort),
			"SB_DEBUG_LISTEN=127.0.0.1:"+strconv.Itoa(dbgPort),
		)
		env = append(env, toolEnv(o.KVMemory)...)
		if role != "" {
			env = append(env, role)
		}
		if i == 0 {
			env = append(env, "SB_DATA_DIR="+dataDir(o.Dir))
			if natsPort != 0 {
				env = append(env, "SB_NATS_LISTEN=127.0.0.1:"+strconv.Itoa(natsPort))
			}
		} else {
			env = append(env, "NATS_URL=nats://127.0.0.1:"+strconv.Itoa(natsPort))
		}
		env = append(env, o.Env...)
		name := "embedded"
		if i > 0 {
			name = "edge-" + strconv.Itoa(i)
		}
		p, err := startServerProc(name, bin, env, filepath.Join(o.Dir, name+".log"))
		if err != nil {
			c.stop()
			return nil, err
		}
		p.ws = fmt.Sprintf("ws://127.0.0.1:%d/ws", wsPort)
		p.debug = fmt.Sprintf("http://127.0.0.1:%d", dbgPort)
		p.ready = fmt.Sprintf("http://127.0.0.1:%d/readyz", wsPort)
		c.procs = append(c.procs, p)
		// The other edges need the embedded NATS up first.
		if i == 0 {
			if err := p.waitReady(ctx, 60*time.Second); err != nil {
				c.stop()
				return nil, err
			}
		}
	}
	for _, p := range c.procs[1:] {
		if err := p.waitReady(ctx, 60*time.Second); err != nil {
			c.stop()
			return nil, err
		}
	}
	return c, nil
}

// cleanEnv is this process's environment without what would make a server
// process something other than what the tool asks for.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "NATS_") || strings.HasPrefix(k, "SB_") || strings.HasPrefix(k, "OTEL_") || k == RoleEnv {
			continue
		}
		out = append(out, kv)
	}
	return out
}

func startServerProc(name, bin string, env []string, logPath string) (*serverProc, error) {
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	p := &serverProc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		lf.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *serverProc) waitReady(ctx context.Context, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.ready, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("server %s exited before it was ready (%v); its log: %s\n%s", p.name, p.err, p.log, logTail(p.log))
		case <-ctx.Done():
			return fmt.Errorf("server %s not ready after %s; its log: %s", p.name, limit, p.log)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func logTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// urls are the edges' WebSocket URLs; debug their debug endpoints.
func (c *cluster) urls() (ws, debug []string) {
	for _, p := range c.procs {
		ws = append(ws, p.ws)
		debug = append(debug, p.debug)
	}
	return ws, debug
}

// exited names server processes that ended on their own.
func (c *cluster) exited() []string {
	var out []string
	for _, p := range c.procs {
		select {
		case <-p.done:
			out = append(out, fmt.Sprintf("server %s exited during the run (%v); its log: %s", p.name, p.err, p.log))
		default:
		}
	}
	return out
}

// stop ends the server processes: SIGTERM, then SIGKILL after 30 s. Edges
// go first, the embedded NATS last.
func (c *cluster) stop() {
	for i := len(c.procs) - 1; i >= 0; i-- {
		p := c.procs[i]
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(30 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
}

// freePort asks the kernel for a free loopback port. Another process could
// take it before the server listens on it; the server then fails to start
// and says so.
func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// readStats reads /debug/stats of every server process, collecting garbage
// first when gc.
func readStats(ctx context.Context, debug []string, gc bool) ([]edge.DebugStats, error) {
	out := make([]edge.DebugStats, len(debug))
	errs := make([]error, len(debug))
	var wg sync.WaitGroup
	for i, base := range debug {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := strings.TrimRight(base, "/") + "/debug/stats"
			if gc {
				u += "?gc=1"
			}
			ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs[i] = err
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				errs[i] = fmt.Errorf("%s: HTTP %d", u, resp.StatusCode)
				return
			}
			errs[i] = json.NewDecoder(resp.Body).Decode(&out[i])
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// fetchProfile saves a profile from a debug endpoint (path such as
// "/debug/pprof/profile?seconds=10") to file.
func fetchProfile(ctx context.Context, base, path, file string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: HTTP %d", path, resp.StatusCode)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// DevApp is the app the embedded default serves when none is configured.
const DevApp = apps.DevAppID
