package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"time"
)

// Options say where the load goes and how it is arranged.
type Options struct {
	// Target.URLs empty: the tool starts Switchboard itself for every
	// scenario, in processes of its own.
	Target Target
	// Debug are the /debug endpoints (http://host:port) of a running
	// server's processes; the tool knows its own.
	Debug []string
	// Edges, ServerBin and ServerEnv shape a server the tool starts: the
	// embedded default plus Edges-1 edge processes on its NATS.
	Edges     int
	ServerBin string
	ServerEnv []string
	// KVMemory makes a server the tool starts keep its records in memory
	// (SB_KV_MEMORY=true); by default it has the file store a user runs.
	KVMemory bool
	// Procs is the number of load processes; -1 picks one per 15,000
	// connections and at least two (p2p and fanout: at least one); 0 runs
	// the load in this process.
	Procs int
	// LoadCores is the GOMAXPROCS of every load process: 0 leaves Go's
	// default (or the GOMAXPROCS of this process's environment); -1 picks
	// 1 for p2p and 0 otherwise. A load in this process (Procs 0) ignores
	// it.
	LoadCores int
	// SrcAddrs is how many loopback source addresses (127.0.0.2 upwards)
	// the clients spread over.
	SrcAddrs int
	// Concurrency bounds the connections each load process sets up at once.
	Concurrency int
	// ProfileDir, when set, receives CPU and heap profiles of the server
	// processes, ProfileSeconds long.
	ProfileDir     string
	ProfileSeconds int
	// LoadProfileDir, when set, receives a CPU profile of every load
	// process, over its whole life.
	LoadProfileDir string
	// SlowLogDir, when set, receives from every load process a list of the
	// deliveries slower than SlowOver (send and arrival times), to see
	// when a tail happened, not only how long it was.
	SlowLogDir string
	SlowOver   time.Duration
	// Progress receives the status line; nil shows none.
	Progress io.Writer
	// Timeout bounds one scenario run.
	Timeout time.Duration
	// Notes about the environment, added to every result.
	Notes []string
	// IdleWait, when positive, makes each run first wait up to this long
	// for the machine to be idle (under 15 % busy over a second), so that
	// other work on a shared machine does not take the server's CPU.
	IdleWait time.Duration
}

// Runner runs scenarios one after another.
type Runner struct {
	opt    Options
	prefix string
	runs   int
	prog   *progress
}

// NewRunner returns a runner; accounts of its runs are named
// sb<random>-<run>-<index>, so that runs never kick each other.
func NewRunner(opt Options) *Runner {
	if opt.Target.App == "" {
		opt.Target.App = DevApp
	}
	if opt.Target.Token == "" && opt.Target.Cert == "" {
		opt.Target.Token = "_no_need_token"
	}
	if opt.Edges <= 0 {
		opt.Edges = 1
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = 100
	}
	if opt.ProfileSeconds <= 0 {
		opt.ProfileSeconds = 10
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 15 * time.Minute
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return &Runner{opt: opt, prefix: "sb" + hex.EncodeToString(b), prog: newProgress(opt.Progress)}
}

// run is one scenario run in progress.
type run struct {
	r      *Runner
	spec   Spec
	res    *Result
	prefix string
	urls   []string
	debug  []string
	clu    *cluster
	dir    string
	fleet  *fleet
	pwg    sync.WaitGroup
	pmu    sync.Mutex
	t0     time.Time
	// fleetAt is when the load workers started; phaseAt when the last
	// timed phase did.
	fleetAt time.Time
	phaseAt time.Time
	// loadCPU is the load processes' CPU time (µs) at the last report;
	// phaseCPU the seconds of it since the report before (-1: unknown).
	loadCPU  int64
	phaseCPU float64
}

// Run runs one scenario and returns what it measured; a run that failed
// says why in Result.Error.
func (r *Runner) Run(ctx context.Context, spec Spec) *Result {
	spec = spec.withDefaults()
	r.runs++
	x := &run{r: r, spec: spec, prefix: r.prefix + "-" + strconv.Itoa(r.runs), t0: time.Now(),
		res: &Result{Scenario: spec.Scenario, Spec: spec, Counts: map[string]int64{}, Figures: map[string]float64{},
			Latency: map[string]Summary{}, Notes: append([]string(nil), r.opt.Notes...)}}
	defer func() { x.res.Seconds = time.Since(x.t0).Seconds() }()
	if err := spec.check(); err != nil {
		x.res.Error = err.Error()
		return x.res
	}
	ctx, cancel := context.WithTimeout(ctx, r.opt.Timeout)
	defer cancel()
	busyBefore := -1.0
	if r.opt.IdleWait > 0 {
		busyBefore = x.waitIdle(ctx, r.opt.IdleWait)
	}
	m0 := readMachine()
	if cpus := runtime.NumCPU(); busyBefore < 0 && m0.load1 > float64(cpus) {
		x.note(fmt.Sprintf("the machine may have been busy before the run (load average %.1f on %d CPUs; -idle waits for it to be idle): other work competes with the server and the load, and the figures suffer", m0.load1, cpus))
	}
	err := x.prepare(ctx)
	if err == nil {
		switch spec.Scenario {
		case Connect:
			err = x.connect(ctx)
		case Login:
			err = x.login(ctx)
		case P2P:
			err = x.p2p(ctx)
		case Fanout:
			err = x.fanout(ctx)
		case Join:
			err = x.join(ctx)
		}
	}
	var skip errSkip
	switch {
	case errors.As(err, &skip):
		x.res.Skipped = string(skip)
	case err != nil:
		x.res.Error = err.Error()
	}
	if m1 := readMachine(); m0.ok && m1.ok && m1.total > m0.total {
		x.res.Machine = &Machine{
			CPUs:          runtime.NumCPU(),
			LoadAvgBefore: m0.load1,
			BusyBefore:    busyBefore,
			BusyPercent:   round(100*float64(m1.busy-m0.busy)/float64(m1.total-m0.total), 1),
		}
	}
	x.teardown()
	r.prog.clear()
	return x.res
}

// waitIdle waits until the machine is under 15 % busy over a second, at
// most limit, notes how busy it was if it never got there, and returns the
// last reading (-1 if there is none).
func (x *run) waitIdle(ctx context.Context, limit time.Duration) float64 {
	deadline := time.Now().Add(limit)
	for {
		a := readMachine()
		sleepUntil(ctx, time.Now().Add(time.Second))
		b := readMachine()
		if !a.ok || !b.ok || b.total <= a.total {
			return -1
		}
		busy := round(100*float64(b.busy-a.busy)/float64(b.total-a.total), 1)
		if busy < 15 || ctx.Err() != nil {
			return busy
		}
		if time.Now().After(deadline) {
			x.note(fmt.Sprintf("the machine was still %.0f%% busy with other work after waiting %s for it to be idle: other work competes with the server and the load, and the figures suffer", busy, limit))
			return busy
		}
		x.r.prog.show(fmt.Sprintf("%s: waiting for the machine to be idle (%.0f%% busy)", x.spec.Scenario, busy))
	}
}

// errSkip means the server cannot do what the scenario needs.
type errSkip string

func (e errSkip) Error() string { return string(e) }

// prepare starts the server if the tool runs its own, and works out the
// load's arrangement.
func (x *run) prepare(ctx context.Context) error {
	o, s := x.r.opt, x.spec
	x.res.Setup.LoadProcs = o.Procs
	if len(o.Target.URLs) == 0 {
		dir, err := os.MkdirTemp("", "sigbench-")
		if err != nil {
			return err
		}
		x.dir = dir
		x.r.prog.show(fmt.Sprintf("%s: starting Switchboard (%d edge process(es))", s.Scenario, o.Edges))
		co := clusterOptions{Edges: o.Edges, Bin: o.ServerBin, Env: o.ServerEnv, Dir: dir, KVMemory: o.KVMemory}
		x.res.Setup.Config = startedConfig(co)
		x.clu, err = startCluster(ctx, co)
		if err != nil {
			return err
		}
		x.urls, x.debug = x.clu.urls()
		x.res.Setup.Started = true
		x.res.Setup.ServerBin = o.ServerBin
		if o.ServerBin == "" {
			x.res.Setup.ServerBin = "(this binary, server role: node.FromEnv + node.Start as cmd/edge)"
		}
	} else {
		x.res.Setup.Config = Config{Server: "a running server (its configuration is its operator's)"}
		x.urls, x.debug = o.Target.URLs, o.Debug
		if len(x.debug) == 0 {
			x.note("no -debug endpoint given: the server's memory and CPU were not measured")
		}
	}
	x.res.Setup.URLs = x.urls
	x.res.Setup.Edges = len(x.urls)
	if perEdge := s.N / len(x.urls); perEdge > 19500 {
		x.note(fmt.Sprintf("%d connections per edge: one server process holds under 20,000 (its open-file limit here); use more edges (-edges 3)", perEdge))
	}
	if o.SrcAddrs > 0 {
		if loopbackTargets(x.urls) {
			addrs, notes := SourceAddrs(o.SrcAddrs)
			x.res.Setup.SrcAddrs = addrs
			for _, n := range notes {
				x.note(n)
			}
		} else {
			x.note("the server is not on 127.0.0.0/8: connections leave from the kernel's default source address")
		}
	}
	pairs := max(1, len(x.res.Setup.SrcAddrs)) * len(x.urls)
	if per := s.N / pairs; per > ephemeralPorts() {
		x.note(fmt.Sprintf("%d connections per source address and edge exceed the %d local ports of the kernel's range; use more source addresses (-src)", per, ephemeralPorts()))
	}
	return nil
}

func (x *run) note(n string) { x.res.Notes = appendUnique(x.res.Notes, n) }

// jobs splits the users over the load workers, and says how many cores
// each load process gets (0: Go's default).
func (x *run) jobs() (jobs []Job, inProcess bool, cores int) {
	o, n := x.r.opt, x.spec.users()
	workers := o.Procs
	inProcess = workers == 0
	// A p2p load of one process on one core costs about what the server
	// does (94–104 %), against 134–138 % for two processes on Go's default
	// cores, with no worse a tail; a fanout load of one process on Go's
	// default cores spends a quarter less per delivery than two at 200,000
	// deliveries/s and adds less latency of its own, and saturates the
	// server no less (docs/benchmarks.md, "Load processes"). The other
	// scenarios have not been measured so.
	p2p := x.spec.Scenario == P2P
	if workers < 0 {
		least := 2
		if p2p || x.spec.Scenario == Fanout {
			least = 1
		}
		workers = max(least, (n+14999)/15000)
	}
	cores = o.LoadCores
	if cores < 0 {
		cores = 0
		if p2p {
			cores = 1
		}
	}
	if inProcess {
		workers, cores = 1, 0
	}
	per := connsPerProcess()
	if need := (n + per - 1) / per; !inProcess && workers < need {
		x.note(fmt.Sprintf("load processes raised from %d to %d: each holds at most %d connections under its open-file limit", workers, need, per))
		workers = need
	} else if inProcess && n > per {
		x.note(fmt.Sprintf("%d connections in one process exceed its open-file limit (%d): use load processes (-procs)", n, per))
	}
	workers = max(1, min(workers, n))
	if !inProcess {
		x.res.Setup.LoadProcs = workers
	}
	x.res.Setup.LoadCores = cores
	deadline := x.t0.Add(o.Timeout).UnixNano()
	if o.SlowLogDir != "" && !inProcess {
		_ = os.MkdirAll(o.SlowLogDir, 0o755) // a failure shows when the load writes there
	}
	for w := 0; w < workers; w++ {
		prof := ""
		if o.LoadProfileDir != "" && !inProcess {
			prof = filepath.Join(o.LoadProfileDir, fmt.Sprintf("%s-n%d-load%d-cpu.pb.gz", x.spec.Scenario, x.spec.N, w))
			x.res.Profiles = append(x.res.Profiles, prof)
		}
		slow := ""
		if o.SlowLogDir != "" && !inProcess {
			slow = filepath.Join(o.SlowLogDir, fmt.Sprintf("%s-n%d-%s-load%d-slow.txt", x.spec.Scenario, x.spec.N, x.prefix, w))
			x.res.SlowLogs = append(x.res.SlowLogs, slow)
		}
		jobs = append(jobs, Job{
			CPUProfile:  prof,
			SlowLog:     slow,
			SlowOver:    o.SlowOver,
			Worker:      w,
			Spec:        x.spec,
			Target:      Target{URLs: x.urls, App: o.Target.App, Token: o.Target.Token, Cert: o.Target.Cert},
			Lo:          w * n / workers,
			Hi:          (w + 1) * n / workers,
			SrcAddrs:    x.res.Setup.SrcAddrs,
			Concurrency: o.Concurrency,
			Prefix:      x.prefix,
			Deadline:    deadline,
		})
	}
	return jobs, inProcess, cores
}

func (x *run) startFleet(ctx context.Context) error {
	jobs, inProcess, cores := x.jobs()
	f, err := startFleet(ctx, jobs, inProcess, cores)
	if err != nil {
		return err
	}
	x.fleet = f
	x.fleetAt = time.Now()
	return nil
}

// await waits for every worker's message of type typ, showing progress, and
// returns the merged report and histograms.
func (x *run) await(ctx context.Context, typ, phase string) (*Report, map[string]*Hist, error) {
	start := time.Now()
	// Rates are over the last second or so: the workers report four times
	// a second.
	type sample struct {
		at time.Time
		t  map[string]int64
	}
	var hist []sample
	spin := 0
	reps, err := x.fleet.await(ctx, typ, func() {
		t := x.fleet.totals()
		now := time.Now()
		spin++
		hist = append(hist, sample{now, t})
		for len(hist) > 2 && now.Sub(hist[1].at) >= time.Second {
			hist = hist[1:]
		}
		var prev map[string]int64
		var dt time.Duration
		if len(hist) > 1 {
			prev, dt = hist[0].t, now.Sub(hist[0].at)
		}
		x.r.prog.show(x.progressLine(phase, t, prev, dt, now.Sub(start), spin))
	})
	if err != nil {
		return nil, nil, err
	}
	rep, hists := &Report{}, map[string]*Hist{}
	for _, k := range histNames {
		hists[k] = NewHist() // empty unless some worker recorded it
	}
	for _, r := range reps {
		rep.merge(r, hists)
	}
	if rep.Counts == nil {
		rep.merge(&Report{}, hists)
	}
	return rep, hists, nil
}

// teardown closes the load, waits for profiles, and stops the server the
// tool started, keeping its logs when something went wrong.
func (x *run) teardown() {
	if x.fleet != nil {
		x.r.prog.show(fmt.Sprintf("%s: closing connections", x.spec.Scenario))
		if err := x.fleet.finish(2 * time.Minute); err != nil {
			x.note("closing the load: " + err.Error())
		}
	}
	x.pwg.Wait()
	if x.clu != nil {
		for _, e := range x.clu.exited() {
			x.note(e)
			x.res.Error = appendErr(x.res.Error, "a server process exited")
		}
		x.r.prog.show(fmt.Sprintf("%s: stopping Switchboard", x.spec.Scenario))
		x.clu.stop()
	}
	if x.dir != "" {
		if x.res.Error != "" || os.Getenv("SIGBENCH_KEEP_LOGS") != "" {
			x.note("server logs kept in " + x.dir)
		} else {
			_ = os.RemoveAll(x.dir)
		}
	}
}

func appendErr(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

func perSecond(n int64, from, to int64) float64 {
	if to <= from || n <= 0 {
		return 0
	}
	return float64(n) / (float64(to-from) / 1e9)
}

func round(v float64, dec int) float64 {
	p := math.Pow(10, float64(dec))
	return math.Round(v*p) / p
}
