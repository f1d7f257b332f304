package bench

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// A run is split over load workers: child processes of the tool (or, in
// tests, goroutines), each holding a slice of the users. The parent sends
// each its Job, then Commands; a worker answers with Messages. Between
// processes they travel as JSON lines on the child's stdin and stdout.

// Job is one worker's share of a scenario.
type Job struct {
	Worker int    `json:"worker"`
	Spec   Spec   `json:"spec"`
	Target Target `json:"target"`
	// Lo and Hi bound the global user indices this worker holds.
	Lo int `json:"lo"`
	Hi int `json:"hi"`
	// SrcAddrs are the local addresses to spread connections over.
	SrcAddrs []string `json:"srcAddrs,omitempty"`
	// Concurrency bounds the connections being set up at once.
	Concurrency int `json:"concurrency"`
	// Prefix names the run's accounts (<prefix>-<index>) and channel.
	Prefix string `json:"prefix"`
	// Deadline (Unix ns) is when the worker gives up and stops by itself.
	Deadline int64 `json:"deadline"`
	// CPUProfile, when set, is where a load process writes a CPU profile
	// of itself.
	CPUProfile string `json:"cpuProfile,omitempty"`
	// SlowLog, when set, is where a load process writes every delivery
	// slower than SlowOver (see slowLog).
	SlowLog  string        `json:"slowLog,omitempty"`
	SlowOver time.Duration `json:"slowOver,omitempty"`
}

// Commands a worker obeys after it has reported ready.
const (
	CmdStart  = "start"  // run one timed phase
	CmdFinish = "finish" // close every connection and stop
)

// Command is a parent's instruction.
type Command struct {
	Cmd string `json:"cmd"`
	// At is when the phase starts (Unix ns), the same for every worker.
	At       int64         `json:"at,omitempty"`
	Rate     float64       `json:"rate,omitempty"` // messages per second, all workers together
	Duration time.Duration `json:"duration,omitempty"`
}

// Kinds of Message.
const (
	MsgProgress = "progress"
	MsgReady    = "ready"  // setup done
	MsgDone     = "done"   // a phase done
	MsgClosed   = "closed" // connections closed; the worker ends
	MsgFatal    = "fatal"  // the worker could not go on
)

// Message is a worker's report to its parent.
type Message struct {
	Type   string  `json:"type"`
	Report *Report `json:"report,omitempty"`
	Error  string  `json:"error,omitempty"`
}

// Report is what a worker measured: counters, first and last times of
// kinds of events, latency histograms, and errors by kind.
type Report struct {
	Counts map[string]int64         `json:"counts,omitempty"`
	First  map[string]int64         `json:"first,omitempty"` // Unix ns
	Last   map[string]int64         `json:"last,omitempty"`  // Unix ns
	Hists  map[string]*HistSnapshot `json:"hists,omitempty"`
	Errors map[string]int64         `json:"errors,omitempty"`
	Notes  []string                 `json:"notes,omitempty"`
	// GOMAXPROCS is what the worker's runtime ran with, on its ready
	// report; merged, one per worker in the workers' order.
	GOMAXPROCS []int `json:"gomaxprocs,omitempty"`
}

// Names of counters, times and histograms.
const (
	cDialed    = "dialed"     // connections open
	cLoggedIn  = "logged_in"  // logins answered with success
	cJoined    = "joined"     // channel joins answered with success
	cFailed    = "failed"     // connections, logins or joins that failed
	cSent      = "sent"       // messages written
	cReceived  = "received"   // messages received (peer or channel)
	cSendOK    = "send_ok"    // onMessageSendSuccess
	cSendErr   = "send_error" // onMessageSendError, or a failed write
	cEvents    = "events"     // other events
	cSettled   = "settled"    // members that have seen every member
	cLateFrame = "late"       // messages from before the phase
	cCPU       = "cpu_us"     // the load process's CPU time so far
	cListMax   = "list_max"   // the longest onChannelUserList
	cNotice    = "notice"     // a member's view changed (a time)
	hConnect   = "connect"    // dial to login success
	hLogin     = "login"      // login sent to success
	hLatency   = "latency"    // message sent to received
	hAck       = "ack"        // peer message sent to onMessageSendSuccess
	hJoined    = "joined"     // join storm start to onChannelJoined
	hSettled   = "settled"    // join storm start to a member's full view
	hLag       = "send_lag"   // how late the sender was on its schedule
)

// merge adds o into r.
func (r *Report) merge(o *Report, hists map[string]*Hist) {
	if o == nil {
		return
	}
	if r.Counts == nil {
		r.Counts = map[string]int64{}
		r.First = map[string]int64{}
		r.Last = map[string]int64{}
		r.Errors = map[string]int64{}
	}
	for k, v := range o.Counts {
		if k == cListMax {
			r.Counts[k] = max(r.Counts[k], v)
			continue
		}
		r.Counts[k] += v
	}
	for k, v := range o.First {
		if cur, ok := r.First[k]; !ok || v < cur {
			r.First[k] = v
		}
	}
	for k, v := range o.Last {
		if v > r.Last[k] {
			r.Last[k] = v
		}
	}
	for k, v := range o.Errors {
		r.Errors[k] += v
	}
	for k, s := range o.Hists {
		h := hists[k]
		if h == nil {
			h = NewHist()
			hists[k] = h
		}
		h.Merge(s)
	}
	r.Notes = appendUnique(r.Notes, o.Notes...)
	r.GOMAXPROCS = append(r.GOMAXPROCS, o.GOMAXPROCS...)
}

func appendUnique(list []string, more ...string) []string {
	for _, m := range more {
		found := false
		for _, l := range list {
			if l == m {
				found = true
				break
			}
		}
		if !found {
			list = append(list, m)
		}
	}
	return list
}

// A worker's counters and first/last times are sharded by connection and
// indexed by a small number, not looked up by name: every delivery adds to
// a counter and moves a time, from as many reader goroutines as there are
// connections, and neither a map lookup nor a cache line that every core
// writes belongs there. The shards are summed when a report is made.
type counter int

// The counters a worker keeps, and the names they are reported under.
const (
	kDialed counter = iota
	kLoggedIn
	kJoined
	kFailed
	kSent
	kReceived
	kSendOK
	kSendErr
	kEvents
	kSettled
	kLateFrame
	kListMax
	kNotice
	nCounters
)

var counterNames = [nCounters]string{
	kDialed: cDialed, kLoggedIn: cLoggedIn, kJoined: cJoined, kFailed: cFailed, kSent: cSent,
	kReceived: cReceived, kSendOK: cSendOK, kSendErr: cSendErr, kEvents: cEvents, kSettled: cSettled,
	kLateFrame: cLateFrame, kListMax: cListMax, kNotice: cNotice,
}

// nShards spreads the connections' writes; a power of two.
const nShards = 8

// shard is one share of the counts and times, padded so that two shards
// never share a cache line.
type shard struct {
	n           [nCounters]atomic.Int64
	first, last [nCounters]atomic.Int64 // Unix ns; 0 when unset
	_           [64]byte
}

// counters are a worker's running counts and first and last times of kinds
// of events; the progress reports read them while the readers write.
type counters struct {
	s [nShards]shard
}

func newCounters() *counters { return &counters{} }

func (c *counters) on(i int) *shard { return &c.s[i&(nShards-1)] }

// add adds to a counter (cold paths: one shard).
func (c *counters) add(k counter, n int64) { c.s[0].n[k].Add(n) }

// addOn adds to a counter in the shard of connection i.
func (c *counters) addOn(i int, k counter, n int64) { c.on(i).n[k].Add(n) }

func (c *counters) get(k counter) int64 {
	if k == kListMax {
		return c.s[0].n[k].Load()
	}
	var v int64
	for i := range c.s {
		v += c.s[i].n[k].Load()
	}
	return v
}

// max raises a counter to v (kept in the first shard).
func (c *counters) max(k counter, v int64) { atomicMax(&c.s[0].n[k], v) }

// markOn notes an event of kind k at t, in the shard of connection i.
func (c *counters) markOn(i int, k counter, t time.Time) {
	ns := t.UnixNano()
	sh := c.on(i)
	atomicMax(&sh.last[k], ns)
	f := &sh.first[k]
	for {
		cur := f.Load()
		if (cur != 0 && cur <= ns) || f.CompareAndSwap(cur, ns) {
			return
		}
	}
}

func atomicMax(a *atomic.Int64, v int64) {
	for {
		cur := a.Load()
		if v <= cur || a.CompareAndSwap(cur, v) {
			return
		}
	}
}

func (c *counters) snapshot() map[string]int64 {
	out := make(map[string]int64, nCounters)
	for k := counter(0); k < nCounters; k++ {
		if n := c.get(k); n != 0 {
			out[counterNames[k]] = n
		}
	}
	return out
}

// times returns the first and last times of the kinds of events marked.
func (c *counters) times() (first, last map[string]int64) {
	first, last = map[string]int64{}, map[string]int64{}
	for k := counter(0); k < nCounters; k++ {
		var f, l int64
		for i := range c.s {
			if v := c.s[i].first[k].Load(); v != 0 && (f == 0 || v < f) {
				f = v
			}
			l = max(l, c.s[i].last[k].Load())
		}
		if f != 0 {
			first[counterNames[k]], last[counterNames[k]] = f, l
		}
	}
	return first, last
}

// reset zeroes the counters of a phase.
func (c *counters) reset(keys ...counter) {
	for i := range c.s {
		for _, k := range keys {
			c.s[i].n[k].Store(0)
		}
	}
}

// resetTimes forgets every first and last time.
func (c *counters) resetTimes() {
	for i := range c.s {
		for k := range c.s[i].first {
			c.s[i].first[k].Store(0)
			c.s[i].last[k].Store(0)
		}
	}
}

// errCounter counts errors by kind, keeping at most 32 kinds.
type errCounter struct {
	mu sync.Mutex
	m  map[string]int64
}

func (e *errCounter) add(kind string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.m == nil {
		e.m = map[string]int64{}
	}
	if _, ok := e.m[kind]; !ok && len(e.m) >= 32 {
		kind = "other errors"
	}
	e.m[kind]++
}

func (e *errCounter) reset() {
	e.mu.Lock()
	e.m = nil
	e.mu.Unlock()
}

func (e *errCounter) snapshot() map[string]int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]int64, len(e.m))
	for k, v := range e.m {
		out[k] = v
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
