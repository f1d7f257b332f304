package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-io/switchboard/protocol"
)

// worker holds one slice of a run's users and drives them.
type worker struct {
	job     Job
	spec    Spec
	emit    func(Message)
	cnt     *counters
	errs    errCounter
	ph      atomic.Pointer[phaseHists]
	dialers []*websocket.Dialer
	handler *Handler
	// phaseStart (Unix ns) tells messages of this phase from late ones.
	phaseStart atomic.Int64

	mu    sync.Mutex
	conns []*Conn

	slow *slowLog // nil unless the job asks for one
}

// The histograms a worker keeps, and the names they are reported under.
type histKind int

const (
	lConnect histKind = iota
	lLogin
	lLatency
	lAck
	lJoined
	lSettled
	lLag
	nHists
)

var histNames = [nHists]string{
	lConnect: hConnect, lLogin: hLogin, lLatency: hLatency, lAck: hAck,
	lJoined: hJoined, lSettled: hSettled, lLag: hLag,
}

// phaseHists are the histograms of the current phase, sharded by
// connection like the counters and made up front, so that the readers
// record without a lock or a lookup.
type phaseHists struct {
	h [nShards][nHists]Hist
}

func newPhaseHists() *phaseHists { return &phaseHists{} }

// merged is one histogram of every shard's values of kind k.
func (p *phaseHists) merged(k histKind) *Hist {
	m := NewHist()
	for i := range p.h {
		p.h[i][k].each(func(b int, n int64) { m.add(b, n) })
	}
	return m
}

// RunWorker runs one worker until its parent says finish, its commands end,
// or its job's deadline passes. It reports through emit.
func RunWorker(ctx context.Context, job Job, cmds <-chan Command, emit func(Message)) {
	ctx, cancel := context.WithDeadline(ctx, time.Unix(0, job.Deadline))
	defer cancel()
	w := &worker{job: job, spec: job.Spec.withDefaults(), emit: emit, cnt: newCounters()}
	w.ph.Store(newPhaseHists())
	w.handler = &Handler{Event: w.onEvent, Message: w.onMessage, SendOK: w.onSendOK, Joined: w.onJoined}
	if job.SlowLog != "" {
		w.slow = &slowLog{over: job.SlowOver}
		defer func() {
			if err := w.slow.write(job.SlowLog); err != nil {
				fmt.Fprintln(os.Stderr, "sigbench load: writing the slow deliveries:", err)
			}
		}()
	}
	srcs := job.SrcAddrs
	if len(srcs) == 0 {
		srcs = []string{""}
	}
	for _, s := range srcs {
		w.dialers = append(w.dialers, newDialer(s, w.spec.ReadBuffer))
	}
	defer w.closeAll()

	stop := w.progressLoop(ctx)
	defer stop()
	w.setup(ctx)
	if ctx.Err() != nil {
		emit(Message{Type: MsgFatal, Error: "the setup did not finish before the run's deadline"})
		return
	}
	ready := w.report()
	ready.GOMAXPROCS = []int{runtime.GOMAXPROCS(0)}
	emit(Message{Type: MsgReady, Report: ready})
	for {
		select {
		case cmd, ok := <-cmds:
			if !ok {
				return
			}
			switch cmd.Cmd {
			case CmdStart:
				w.phase(ctx, cmd)
				if ctx.Err() != nil {
					emit(Message{Type: MsgFatal, Error: "a phase did not finish before the run's deadline"})
					return
				}
				emit(Message{Type: MsgDone, Report: w.report()})
			case CmdFinish:
				w.closeAll()
				emit(Message{Type: MsgClosed, Report: w.report()})
				return
			}
		case <-ctx.Done():
			emit(Message{Type: MsgFatal, Error: "the run's deadline passed"})
			return
		}
	}
}

func (w *worker) progressLoop(ctx context.Context) func() {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				w.emit(Message{Type: MsgProgress, Report: &Report{Counts: w.cnt.snapshot()}})
			}
		}
	}()
	return func() { cancel(); <-done }
}

// hist is the histogram of kind k for connection i (cold paths: 0).
func (w *worker) hist(i int, k histKind) *Hist { return &w.ph.Load().h[i&(nShards-1)][k] }

func (w *worker) account(i int) string { return account(w.job.Prefix, i) }

// index is the user index of one of the run's accounts, or -1.
func (w *worker) index(acc string) int { return accountIndex(w.job.Prefix, acc) }

// accountIndex is i for an account "<prefix>-<i>", -1 for any other.
func accountIndex[T string | []byte](prefix string, acc T) int {
	if len(acc) < len(prefix)+2 || string(acc[:len(prefix)]) != prefix || acc[len(prefix)] != '-' {
		return -1
	}
	i := 0
	for _, ch := range []byte(acc[len(prefix)+1:]) {
		if ch < '0' || ch > '9' || i > (math.MaxInt32-9)/10 {
			return -1
		}
		i = i*10 + int(ch-'0')
	}
	return i
}

// setup opens the worker's connections, logged in (and in the channel for
// fanout) as the scenario needs, a bounded number at a time.
func (w *worker) setup(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, w.spec.Timeout)
	defer cancel()
	login := w.spec.Scenario != Login
	conc := max(1, w.job.Concurrency)
	sem := make(chan struct{}, conc)
	var wg sync.WaitGroup
	n := w.job.Hi - w.job.Lo
	conns := make([]*Conn, n)
	for k := 0; k < n; k++ {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			w.cnt.add(kFailed, int64(n-k))
			w.errs.add("setup: not started before the timeout")
			break
		}
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			defer func() { <-sem }()
			i := w.job.Lo + k
			conns[k] = w.open(ctx, i, login, w.spec.Scenario == Fanout && i < w.spec.N)
		}(k)
	}
	wg.Wait()
	w.mu.Lock()
	for _, c := range conns {
		if c != nil {
			w.conns = append(w.conns, c)
		}
	}
	w.mu.Unlock()
	if w.spec.Scenario == Fanout {
		// Let the join notifications of the setup drain before anything is
		// measured.
		w.waitQuiet(ctx, func() int64 { return w.cnt.get(kEvents) }, nil, time.Second, w.spec.Timeout)
	}
}

// open connects user i; nil if it failed (counted and classified).
func (w *worker) open(ctx context.Context, i int, login, join bool) *Conn {
	nd := len(w.dialers)
	urls := w.job.Target.URLs
	// Every edge gets connections from every source address.
	url := urls[i%len(urls)]
	d := w.dialers[(i/len(urls))%nd]
	t0 := time.Now()
	o := DialOptions{Index: i, Account: w.account(i), Handler: w.handler}
	if w.spec.Scenario == Join {
		o.Members = w.spec.N
	}
	c, err := Dial(ctx, d, url, o)
	if err != nil {
		w.failed("dial", err)
		return nil
	}
	w.cnt.add(kDialed, 1)
	if login {
		ev, at, err := c.Call(ctx, w.loginReq(c), isAnswerTo(protocol.OpLogin))
		if err == nil && ev.Ev != protocol.EvLoginSuccess {
			err = eventError(&ev)
		}
		if err != nil {
			w.failed("login", err)
			c.Close()
			return nil
		}
		w.cnt.add(kLoggedIn, 1)
		w.hist(i, lConnect).Record(at.Sub(t0))
		w.cnt.markOn(i, kLoggedIn, at)
	}
	if join {
		r := &protocol.Request{Op: protocol.OpChannelJoin, ChannelID: channelName(w.job.Prefix)}
		ev, _, err := c.Call(ctx, r, isAnswerTo(protocol.OpChannelJoin))
		if err == nil && ev.Ev != protocol.EvChannelJoined {
			err = eventError(&ev)
		}
		if err != nil {
			w.failed("join", err)
			c.Close()
			return nil
		}
		w.cnt.add(kJoined, 1)
	}
	return c
}

func (w *worker) loginReq(c *Conn) *protocol.Request {
	return &protocol.Request{Op: protocol.OpLogin, AppID: w.job.Target.App, Account: c.Account, Token: w.job.Target.tokenFor(c.Account)}
}

// isAnswerTo matches the success or failure callback of op.
func isAnswerTo(op string) func(*protocol.Event) bool {
	return func(ev *protocol.Event) bool {
		switch op {
		case protocol.OpLogin:
			return ev.Ev == protocol.EvLoginSuccess || ev.Ev == protocol.EvLoginFailed || ev.Ev == protocol.EvError
		case protocol.OpChannelJoin:
			return ev.Ev == protocol.EvChannelJoined || ev.Ev == protocol.EvChannelJoinFailed ||
				(ev.Ev == protocol.EvError && ev.Name == op)
		case protocol.OpLogout:
			return ev.Ev == protocol.EvLogout
		}
		return false
	}
}

func eventError(ev *protocol.Event) error {
	if ev.Desc != "" {
		return fmt.Errorf("%s %d (%s)", ev.Ev, ev.Ecode, ev.Desc)
	}
	return fmt.Errorf("%s %d", ev.Ev, ev.Ecode)
}

func (w *worker) failed(stage string, err error) {
	w.cnt.add(kFailed, 1)
	w.errs.add(stage + ": " + classify(err))
}

// classify names an error without the addresses and ports that would make
// every occurrence different.
func classify(err error) string {
	var errno syscall.Errno
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.As(err, &errno):
		return errno.Error()
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	}
	s := err.Error()
	if len(s) > 100 {
		s = s[:100]
	}
	return s
}

// report is what the worker has measured since the phase began.
func (w *worker) report() *Report {
	r := &Report{Counts: w.cnt.snapshot(), Errors: w.errs.snapshot(), Hists: map[string]*HistSnapshot{}}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		r.Counts[cCPU] = ru.Utime.Sec*1e6 + ru.Utime.Usec + ru.Stime.Sec*1e6 + ru.Stime.Usec
	}
	r.First, r.Last = w.cnt.times()
	ph := w.ph.Load()
	for k := histKind(0); k < nHists; k++ {
		if h := ph.merged(k); h.Count() > 0 {
			r.Hists[histNames[k]] = h.Export()
		}
	}
	w.mu.Lock()
	var lost int64
	if w.spec.Scenario == Join {
		// How far the members that never saw everyone got.
		var unsettled, missing int64
		for _, c := range w.conns {
			if n := int64(c.seenN.Load()); n < int64(w.spec.N) {
				unsettled++
				missing += int64(w.spec.N) - n
			}
		}
		if unsettled > 0 {
			r.Counts["unsettled"], r.Counts["missing"] = unsettled, missing
		}
	}
	for _, c := range w.conns {
		select {
		case <-c.done:
			lost++
			if c.lossReported.CompareAndSwap(false, true) {
				r.Errors["lost: "+classify(c.closedErr())]++
			}
		default:
		}
	}
	w.mu.Unlock()
	if lost > 0 {
		r.Counts["lost"] = lost
	}
	return r
}

// closeAll closes every connection and waits (briefly) for the readers.
func (w *worker) closeAll() {
	w.mu.Lock()
	conns := w.conns
	w.conns = nil
	w.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
	deadline := time.After(5 * time.Second)
	for _, c := range conns {
		select {
		case <-c.done:
		case <-deadline:
			return
		}
	}
}
