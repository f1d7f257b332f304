package testenv

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// repoRoot is the module's root directory.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

var (
	buildMu  sync.Mutex
	buildDir string
	built    = map[string]bool{}
)

// Binary builds a command of this repository (cmd/<name>), or nats-server
// when name is "nats-server", once per test binary, and returns its path.
func Binary(t testing.TB, name string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if buildDir == "" {
		d, err := os.MkdirTemp("", "switchboard-bin-")
		if err != nil {
			t.Fatal(err)
		}
		buildDir = d
	}
	out := filepath.Join(buildDir, name)
	if built[name] {
		return out
	}
	pkg := "./cmd/" + name
	if name == "nats-server" {
		pkg = "github.com/nats-io/nats-server/v2"
	}
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = repoRoot()
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	built[name] = true
	return out
}

// Process is a running child process of a test.
type Process struct {
	Name string
	cmd  *exec.Cmd

	mu     sync.Mutex
	lines  []string
	notify chan struct{}
	exited chan struct{}
	err    error
}

// StartProcess runs bin with args and extra environment. Its output is kept
// (and logged when SB_TEST_LOG is set); Stop or the end of the test sends it
// SIGTERM.
func StartProcess(t testing.TB, name, bin string, env []string, args ...string) *Process {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	p := &Process{Name: name, cmd: cmd, notify: make(chan struct{}), exited: make(chan struct{})}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logOut := os.Getenv("SB_TEST_LOG") != ""
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if logOut {
				fmt.Fprintf(os.Stderr, "[%s] %s\n", name, sc.Text())
			}
			p.mu.Lock()
			p.lines = append(p.lines, sc.Text())
			close(p.notify)
			p.notify = make(chan struct{})
			p.mu.Unlock()
		}
		err := cmd.Wait()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(p.exited)
	}()
	t.Cleanup(func() { p.Stop(t) })
	return p
}

// WaitLine waits for an output line containing want and returns it.
func (p *Process) WaitLine(t testing.TB, want string, d time.Duration) string {
	t.Helper()
	deadline := time.After(d)
	seen := 0
	for {
		p.mu.Lock()
		for ; seen < len(p.lines); seen++ {
			if strings.Contains(p.lines[seen], want) {
				l := p.lines[seen]
				p.mu.Unlock()
				return l
			}
		}
		ch := p.notify
		p.mu.Unlock()
		select {
		case <-ch:
		case <-p.exited:
			t.Fatalf("%s exited (%v) before printing %q:\n%s", p.Name, p.err, want, p.output())
		case <-deadline:
			t.Fatalf("%s printed no %q within %v:\n%s", p.Name, want, d, p.output())
		}
	}
}

func (p *Process) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.lines)
	from := max(0, n-30)
	return strings.Join(p.lines[from:], "\n")
}

// Pid is the process ID.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Kill ends the process with SIGKILL and waits for it.
func (p *Process) Kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// Terminate sends SIGTERM and waits up to d for the process to exit; it
// returns the exit error (nil for a clean exit).
func (p *Process) Terminate(d time.Duration) error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.err
	case <-time.After(d):
		_ = p.cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("%s did not stop within %v of SIGTERM", p.Name, d)
	}
}

// Stop terminates the process unless it has already exited, and fails the
// test if it does not exit cleanly.
func (p *Process) Stop(t testing.TB) {
	select {
	case <-p.exited:
		return
	default:
	}
	if err := p.Terminate(15 * time.Second); err != nil {
		t.Errorf("%s: %v", p.Name, err)
	}
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// URLFrom returns the ws:// URL in an output line.
func URLFrom(line string) string {
	i := strings.Index(line, "ws://")
	if i < 0 {
		return ""
	}
	return strings.TrimSpace(line[i:])
}
