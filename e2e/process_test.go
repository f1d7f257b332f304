package e2e_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
)

// buildBinaries builds the commands into a temporary folder.
func buildBinaries(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range names {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, name), "../cmd/"+name)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", name, err, out)
		}
	}
	return dir
}

// startProcess runs bin with env and returns the first line of its standard
// output that contains want. The process is stopped with SIGTERM when the
// test ends, and must exit cleanly.
func startProcess(t *testing.T, bin string, env []string, want string) string {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = testWriter{t}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("%s did not exit cleanly on SIGTERM: %v", filepath.Base(bin), err)
			}
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("%s did not stop within 15 s of SIGTERM", filepath.Base(bin))
		}
	})
	if want == "" {
		return ""
	}
	deadline := time.After(30 * time.Second)
	for {
		select {
		case l := <-lines:
			if strings.Contains(l, want) {
				return l
			}
		case err := <-exited:
			t.Fatalf("%s exited early: %v", filepath.Base(bin), err)
		case <-deadline:
			t.Fatalf("%s printed no %q", filepath.Base(bin), want)
		}
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	if os.Getenv("SB_TEST_LOG") != "" {
		w.t.Logf("%s", p)
	}
	return len(p), nil
}

func TestProcesses_EdgeAndWorkerTalkOnlyThroughNATS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries")
	}
	t.Parallel()
	bins := buildBinaries(t, "edge", "worker")
	ns, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoSigs: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(ns.Shutdown)

	env := []string{
		"NATS_URL=" + ns.ClientURL(),
		"SB_APP_ID=" + testenv.App.ID,
		"SB_APP_CERTIFICATE=" + testenv.App.Certificate,
		"SB_APP_ALLOW_NO_TOKEN=true",
		"SB_LISTEN=127.0.0.1:0",
	}
	startProcess(t, filepath.Join(bins, "worker"), env, "")
	line := startProcess(t, filepath.Join(bins, "edge"), env, "WebSocket URL:")
	url := strings.TrimSpace(line[strings.Index(line, "ws://"):])

	alice := testenv.NewUser(t, "alice", url)
	alice.Login(testenv.App.ID, "alice", "_no_need_token", 0, "")
	alice.Wait(t, protocol.EvLoginSuccess)
	bob := testenv.NewUser(t, "bob", url)
	bob.Login(testenv.App.ID, "bob", "_no_need_token", 0, "")
	bob.Wait(t, protocol.EvLoginSuccess)
	alice.MessageInstantSend("bob", 0, "across processes", "p1")
	bob.Wait(t, protocol.EvMessageInstantReceive, testenv.Account("alice"), testenv.Msg("across processes"))
	alice.Wait(t, protocol.EvMessageSendSuccess, testenv.MsgID("p1"))
}

func TestProcesses_EmbeddedDefaultStartsAndStops(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries")
	}
	t.Parallel()
	bins := buildBinaries(t, "edge")
	line := startProcess(t, filepath.Join(bins, "edge"), []string{
		"NATS_URL=", "SB_APP_ID=", "SB_APPS_FILE=",
		"SB_LISTEN=127.0.0.1:0", "SB_DATA_DIR=" + t.TempDir(),
	}, "WebSocket URL:")
	url := strings.TrimSpace(line[strings.Index(line, "ws://"):])
	u := testenv.NewUser(t, "dev", url)
	u.Login("switchboard-dev", "dev", "_no_need_token", 0, "")
	u.Wait(t, protocol.EvLoginSuccess)
}
