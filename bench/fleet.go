package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// RoleEnv makes the tool's binary run as one of its own child processes:
// "load" (a load worker fed on stdin) or "server" (Switchboard itself).
const RoleEnv = "SIGBENCH_ROLE"

// Role runs this process as the child the environment asks for, if any, and
// returns its exit code. Call it first thing in main (and in TestMain).
func Role() (code int, ok bool) {
	switch os.Getenv(RoleEnv) {
	case "load":
		return loadMain(), true
	case "server":
		return serveMain(), true
	}
	return 0, false
}

// loadMain is a child load process: its Job and Commands arrive as JSON
// lines on stdin, its Messages leave as JSON lines on stdout. It stops when
// told to, when stdin closes (the parent is gone), or at the job's deadline.
func loadMain() int {
	RaiseFileLimit()
	dec := json.NewDecoder(bufio.NewReader(os.Stdin))
	var job Job
	if err := dec.Decode(&job); err != nil {
		fmt.Fprintln(os.Stderr, "sigbench load: reading the job:", err)
		return 2
	}
	if job.CPUProfile != "" {
		stop, err := startCPUProfile(job.CPUProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "sigbench load: CPU profile:", err)
			return 2
		}
		defer stop()
	}
	cmds := make(chan Command)
	go func() {
		defer close(cmds)
		for {
			var c Command
			if err := dec.Decode(&c); err != nil {
				return
			}
			cmds <- c
		}
	}()
	var mu sync.Mutex
	enc := json.NewEncoder(os.Stdout)
	RunWorker(context.Background(), job, cmds, func(m Message) {
		mu.Lock()
		_ = enc.Encode(m)
		mu.Unlock()
	})
	return 0
}

// startCPUProfile profiles this process into file until stop; the file's
// directory is made if missing, as -profile's is.
func startCPUProfile(file string) (stop func(), err error) {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(file)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// fleet is the parent's side of its workers.
type fleet struct {
	links []link

	mu       sync.Mutex
	changed  chan struct{}
	progress []map[string]int64
	got      map[string][]*Message
	exited   []string // why each worker ended, "" while it runs
}

type link interface {
	send(Command) error
	// kill ends the worker at once.
	kill()
}

// startFleet starts one worker per job: child processes of this binary with
// GOMAXPROCS=cores (0: as this process's environment has it), or goroutines
// of this process when inProcess.
func startFleet(ctx context.Context, jobs []Job, inProcess bool, cores int) (*fleet, error) {
	f := &fleet{
		changed:  make(chan struct{}),
		progress: make([]map[string]int64, len(jobs)),
		got:      map[string][]*Message{},
		exited:   make([]string, len(jobs)),
	}
	for i, job := range jobs {
		var l link
		var err error
		if inProcess {
			l = startLocal(ctx, f, i, job)
		} else {
			l, err = startChild(f, i, job, cores)
		}
		if err != nil {
			f.kill()
			return nil, err
		}
		f.links = append(f.links, l)
	}
	return f, nil
}

func (f *fleet) deliver(i int, m Message) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch m.Type {
	case MsgProgress:
		if m.Report != nil {
			f.progress[i] = m.Report.Counts
		}
	case "exit":
		if f.exited[i] == "" {
			f.exited[i] = m.Error
		}
	default:
		if m.Report != nil {
			f.progress[i] = m.Report.Counts
		}
		if f.got[m.Type] == nil {
			f.got[m.Type] = make([]*Message, len(f.exited))
		}
		f.got[m.Type][i] = &m
		if m.Type == MsgFatal && f.exited[i] == "" {
			f.exited[i] = m.Error
		}
	}
	close(f.changed)
	f.changed = make(chan struct{})
}

// totals sums the workers' latest counts.
func (f *fleet) totals() map[string]int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int64{}
	for _, p := range f.progress {
		for k, v := range p {
			out[k] += v
		}
	}
	return out
}

// await waits until every worker has sent a message of type typ, calling
// tick now and then, and returns their reports. A worker that fails or ends
// first makes it fail.
func (f *fleet) await(ctx context.Context, typ string, tick func()) ([]*Report, error) {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		f.mu.Lock()
		got := f.got[typ]
		n := 0
		var errs []string
		for i := range f.links {
			switch {
			case got != nil && got[i] != nil:
				n++
			case f.exited[i] != "":
				errs = append(errs, fmt.Sprintf("load worker %d: %s", i, f.exited[i]))
			}
		}
		changed := f.changed
		if n == len(f.links) {
			reports := make([]*Report, n)
			for i, m := range got {
				reports[i] = m.Report
			}
			delete(f.got, typ)
			f.mu.Unlock()
			return reports, nil
		}
		f.mu.Unlock()
		if len(errs) > 0 {
			return nil, errors.New(strings.Join(errs, "; "))
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for the load workers (%s): %w", typ, ctx.Err())
		case <-changed:
		case <-t.C:
			if tick != nil {
				tick()
			}
		}
	}
}

func (f *fleet) broadcast(c Command) error {
	var errs []error
	for _, l := range f.links {
		errs = append(errs, l.send(c))
	}
	return errors.Join(errs...)
}

// finish closes every worker's connections and waits for them to end.
func (f *fleet) finish(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_ = f.broadcast(Command{Cmd: CmdFinish})
	_, err := f.await(ctx, MsgClosed, nil)
	f.kill()
	return err
}

func (f *fleet) kill() {
	for _, l := range f.links {
		l.kill()
	}
}

// localLink is a worker on a goroutine of this process (tests).
type localLink struct {
	cmds   chan Command
	cancel context.CancelFunc
	once   sync.Once
	done   chan struct{}
}

func startLocal(ctx context.Context, f *fleet, i int, job Job) *localLink {
	ctx, cancel := context.WithCancel(ctx)
	l := &localLink{cmds: make(chan Command, 16), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		RunWorker(ctx, job, l.cmds, func(m Message) { f.deliver(i, m) })
		f.deliver(i, Message{Type: "exit", Error: "ended"})
	}()
	return l
}

func (l *localLink) send(c Command) error {
	select {
	case l.cmds <- c:
		return nil
	case <-l.done:
		return errors.New("worker ended")
	}
}

func (l *localLink) kill() {
	l.once.Do(func() {
		l.cancel()
		<-l.done
	})
}

// childLink is a worker in a child process of this binary.
type childLink struct {
	cmd   *exec.Cmd
	mu    sync.Mutex
	stdin io.WriteCloser
	enc   *json.Encoder
	tail  *tailBuffer
	done  chan struct{}
}

func startChild(f *fleet, i int, job Job, cores int) (*childLink, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding this binary to start load processes: %w", err)
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), RoleEnv+"=load")
	if cores > 0 {
		// After os.Environ: the last of duplicate variables wins.
		cmd.Env = append(cmd.Env, "GOMAXPROCS="+strconv.Itoa(cores))
	}
	// A load process dies with the tool, whatever happens to the tool.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	l := &childLink{cmd: cmd, tail: &tailBuffer{max: 4096}, done: make(chan struct{})}
	cmd.Stderr = l.tail
	if l.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting a load process: %w", err)
	}
	l.enc = json.NewEncoder(l.stdin)
	if err := l.enc.Encode(job); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("sending a load process its job: %w", err)
	}
	go func() {
		defer close(l.done)
		dec := json.NewDecoder(bufio.NewReader(stdout))
		for {
			var m Message
			if err := dec.Decode(&m); err != nil {
				break
			}
			f.deliver(i, m)
		}
		werr := cmd.Wait()
		why := "exited"
		if werr != nil {
			why = werr.Error()
		}
		if t := strings.TrimSpace(l.tail.String()); t != "" {
			why += ": " + t
		}
		f.deliver(i, Message{Type: "exit", Error: why})
	}()
	return l, nil
}

func (l *childLink) send(c Command) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.enc.Encode(c)
}

func (l *childLink) kill() {
	l.mu.Lock()
	_ = l.stdin.Close()
	l.mu.Unlock()
	select {
	case <-l.done:
		return
	case <-time.After(10 * time.Second):
	}
	_ = l.cmd.Process.Kill()
	<-l.done
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if over := len(t.b) - t.max; over > 0 {
		t.b = t.b[over:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
