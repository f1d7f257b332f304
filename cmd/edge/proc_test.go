package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-io/switchboard/apps"
	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
)

// proc is a command run as a user would run it: in a process group of its
// own, so that a signal can reach the whole group as Ctrl-C does, with its
// output (stdout and stderr, in order) kept line by line.
type proc struct {
	name string
	cmd  *exec.Cmd

	mu    sync.Mutex
	lines []string
	grew  chan struct{}
	done  chan struct{}
	err   error
}

// startProc runs name with args in dir with env added to the test's
// environment. The end of the test kills what is left of its group.
func startProc(t *testing.T, dir string, env []string, name string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{name: name, cmd: cmd, grew: make(chan struct{}), done: make(chan struct{})}
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if os.Getenv("SB_TEST_LOG") != "" {
				fmt.Fprintf(os.Stderr, "[%s] %s\n", name, sc.Text())
			}
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			close(p.grew)
			p.grew = make(chan struct{})
			p.mu.Unlock()
		}
	}()
	go func() {
		err := cmd.Wait()
		_ = pw.Close()
		<-scanned
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	})
	return p
}

// waitLine waits up to d for an output line containing want.
func (p *proc) waitLine(t *testing.T, want string, d time.Duration) string {
	t.Helper()
	deadline := time.After(d)
	for seen := 0; ; {
		p.mu.Lock()
		for ; seen < len(p.lines); seen++ {
			if strings.Contains(p.lines[seen], want) {
				l := p.lines[seen]
				p.mu.Unlock()
				return l
			}
		}
		grew := p.grew
		p.mu.Unlock()
		select {
		case <-grew:
		case <-p.done:
			if p.has(want) {
				continue
			}
			t.Fatalf("%s exited (%v) before printing %q:\n%s", p.name, p.exitErr(), want, p.output())
		case <-deadline:
			t.Fatalf("%s printed no %q within %v:\n%s", p.name, want, d, p.output())
		}
	}
}

func (p *proc) has(want string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.lines {
		if strings.Contains(l, want) {
			return true
		}
	}
	return false
}

// signalGroup sends sig to the process's whole group, as a terminal does
// on Ctrl-C.
func (p *proc) signalGroup(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(-p.cmd.Process.Pid, sig); err != nil {
		t.Fatalf("signal %s: %v", p.name, err)
	}
}

// exit waits up to d for the process to end and returns its exit code; a
// process still running then fails the test.
func (p *proc) exit(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(d):
		t.Fatalf("%s still running %v after it was told to stop:\n%s", p.name, d, p.output())
	}
	err := p.exitErr()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	t.Fatalf("%s: %v", p.name, err)
	return -1
}

// endedBy reports whether the process (which has exited) was ended by sig.
func (p *proc) endedBy(sig syscall.Signal) bool {
	ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == sig
}

func (p *proc) exitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.lines, "\n")
}

// firstLine is the process's first line of output.
func (p *proc) firstLine() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.lines) == 0 {
		return ""
	}
	return p.lines[0]
}

// repoRoot is the module's root: tests run in cmd/edge.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// embeddedEnv is the environment of an embedded default on a free loopback
// port with its data in dir, whatever the test's own environment says.
func embeddedEnv(dir string) []string {
	return []string{
		"NATS_URL=", "SB_APP_ID=", "SB_APPS_FILE=", "SB_NATS_LISTEN=",
		"SB_LISTEN=127.0.0.1:0", "SB_DATA_DIR=" + dir, "SB_API_LISTEN=127.0.0.1:0",
	}
}

// startEmbedded starts the built edge binary as the embedded default with
// its data in dir and returns it and its WebSocket URL.
func startEmbedded(t *testing.T, dir string) (*proc, string) {
	t.Helper()
	p := startProc(t, "", embeddedEnv(dir), testenv.Binary(t, "edge"))
	return p, testenv.URLFrom(p.waitLine(t, "WebSocket URL:", time.Minute))
}

// devLogin connects to url and logs account in to the development app.
func devLogin(t *testing.T, url, account string) *testenv.Raw {
	t.Helper()
	r := testenv.Dial(t, url)
	r.Send(protocol.Request{Op: protocol.OpLogin, AppID: apps.DevAppID, Account: account, Token: apps.NoToken})
	if ev := r.Next(); ev.Ev != protocol.EvLoginSuccess {
		t.Fatalf("login %s: got %+v", account, ev)
	}
	return r
}

// closeCode reads r until its connection closes and returns the close code
// and the events that came before it.
func closeCode(t *testing.T, r *testenv.Raw, d time.Duration) (int, []string) {
	t.Helper()
	_ = r.WS.SetReadDeadline(time.Now().Add(d))
	var events []string
	for {
		_, data, err := r.WS.ReadMessage()
		if err == nil {
			if ev, derr := testenv.Decode(data); derr == nil {
				events = append(events, ev.Ev)
			}
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code, events
		}
		t.Fatalf("connection ended without a close frame (after %v): %v", events, err)
	}
}

// warnings are the output lines logged at warn level or above.
func (p *proc) warnings() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, l := range p.lines {
		if strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
			out = append(out, l)
		}
	}
	return out
}
