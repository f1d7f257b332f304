// Command sigbench is Switchboard's load tool. It drives a running
// Switchboard, or starts the embedded default itself in processes of its own
// (so that the server's memory is measured apart from the load's), over real
// WebSockets from several load processes and loopback source addresses, and
// measures connections, logins, peer messages, channel fan-out and join
// storms. docs/benchmarks.md has the figures and how they were taken.
//
//	sigbench [flags] scenario...
//
// Scenarios: connect, login, p2p, fanout, join, and standard (a short set of
// all five, what `make bench` runs).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/switchboard-io/switchboard/bench"
)

func main() {
	if code, ok := bench.Role(); ok {
		os.Exit(code)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// standard is the short set `make bench` runs: a minute or two.
var standard = []bench.Spec{
	{Scenario: bench.Connect, N: 5000},
	{Scenario: bench.Login, N: 2000},
	{Scenario: bench.P2P, N: 1000, Rate: 5000, Duration: 10 * time.Second},
	{Scenario: bench.Fanout, N: 1000, Rate: 40, Duration: 5 * time.Second},
	{Scenario: bench.Join, N: 200},
}

type flags struct {
	opt       bench.Options
	urls      string
	debug     string
	n, k      []int
	rates     []float64
	base      bench.Spec
	jsonOut   bool
	out       string
	quiet     bool
	runs      int
	scenarios []string
}

func parse(args []string, stderr io.Writer) (*flags, error) {
	f := &flags{}
	fs := flag.NewFlagSet("sigbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, `usage: sigbench [flags] scenario...

Scenarios:
  connect   N idle logged-in connections: connections/s, server memory per connection
  login     N open connections log in at the same instant: logins/s
  p2p       peer messages at -rate msg/s among N users: delivered/s, latency percentiles
  fanout    one channel of K members, publishers at -rate msg/s (or -search): deliveries/s, latency
  join      K users join one channel at the same instant: joins/s, time until every view is complete
  standard  a short set of all five (make bench)

Without -url the tool starts Switchboard's embedded default itself, fresh for
every run, with its file-backed store (-kv memory: in memory), with -edges
edge processes on one NATS. Every result says the configuration it
measured and the load processes' own CPU beside the server's; -runs 3
repeats each run and says whether the three agree within 15 %%.

Flags:
`)
		fs.PrintDefaults()
	}
	o := &f.opt
	fs.StringVar(&f.urls, "url", "", "WebSocket URLs of a running Switchboard's edges, comma-separated (default: start one)")
	fs.StringVar(&f.debug, "debug", "", "debug endpoints (SB_DEBUG_LISTEN) of the running server's processes, e.g. http://127.0.0.1:7401, comma-separated")
	fs.StringVar(&o.Target.App, "app", bench.DevApp, "app ID to log in to")
	fs.StringVar(&o.Target.Token, "token", "_no_need_token", "token every login sends")
	fs.StringVar(&o.Target.Cert, "cert", "", "app certificate: sign a v2 token for each account instead of -token")
	fs.IntVar(&o.Edges, "edges", 1, "edge processes of a server the tool starts: 1 is the embedded default, more are edges on its NATS")
	fs.StringVar(&o.ServerBin, "server-bin", "", "server binary to start (a build of ./cmd/edge); default: this binary in its server role")
	fs.Func("kv", "store of a server the tool starts: file (the embedded default's JetStream file store, as a user runs it) or memory (SB_KV_MEMORY=true) (default file)", func(s string) error {
		switch s {
		case "file":
			o.KVMemory = false
		case "memory":
			o.KVMemory = true
		default:
			return fmt.Errorf("want file or memory")
		}
		return nil
	})
	fs.Func("server-env", "`KEY=VALUE` for the server processes the tool starts (repeatable)", func(s string) error {
		if !strings.Contains(s, "=") {
			return fmt.Errorf("want KEY=VALUE")
		}
		o.ServerEnv = append(o.ServerEnv, s)
		return nil
	})
	fs.Func("n", "connections (connect, login) or users (p2p), comma-separated for several runs (default 1000)", func(s string) (err error) {
		f.n, err = ints(s)
		return err
	})
	fs.Func("k", "channel members (fanout, join), comma-separated (default 100 for fanout, 200 for join)", func(s string) (err error) {
		f.k, err = ints(s)
		return err
	})
	fs.Func("rate", "messages per second, all senders together (p2p, fanout; the search's first step), comma-separated", func(s string) (err error) {
		f.rates, err = floats(s)
		return err
	})
	fs.DurationVar(&f.base.Duration, "duration", 10*time.Second, "how long messages are sent (p2p, fanout: each step)")
	fs.IntVar(&f.base.Publishers, "publishers", 0, "fanout publishers (default: enough for the rate at 50 msg/s each)")
	fs.BoolVar(&f.base.Outside, "outside", false, "fanout: publishers are users outside the channel (messageChannelSendForce), not members")
	fs.IntVar(&f.base.MsgSize, "size", 64, "message text length in bytes")
	fs.BoolVar(&f.base.Search, "search", false, "fanout: search for the highest rate with delivery p99 within -p99")
	fs.DurationVar(&f.base.P99Target, "p99", 50*time.Millisecond, "fanout search: the p99 delivery latency to keep within")
	fs.IntVar(&f.base.Steps, "steps", 8, "fanout search: most rates to try")
	fs.DurationVar(&f.base.Settle, "settle", 2*time.Second, "connect: pause before the server is measured")
	fs.DurationVar(&f.base.Hold, "hold", 0, "connect: keep the connections open this long after measuring")
	fs.DurationVar(&f.base.Timeout, "phase-timeout", 2*time.Minute, "bound of each setup and each phase")
	fs.IntVar(&o.Procs, "procs", -1, "load processes (-1: one per 15,000 connections, at least 2, for p2p and fanout at least 1; 0: in this process)")
	fs.IntVar(&o.LoadCores, "load-cores", -1, "GOMAXPROCS of each load process (-1: 1 for p2p, Go's default otherwise; 0: Go's default); ignored with -procs 0")
	fs.IntVar(&o.SrcAddrs, "src", 4, "loopback source addresses to spread connections over (127.0.0.2 upwards)")
	fs.IntVar(&o.Concurrency, "concurrency", 100, "connections each load process sets up at once")
	fs.IntVar(&f.base.ReadBuffer, "read-buffer", 0, "read buffer of each wss:// load connection in bytes (default 16384 for p2p and fanout, 4096 otherwise; ws:// connections are read by a poller per load core, up to 256 KB at a time)")
	fs.IntVar(&f.runs, "runs", 1, "run each scenario this many times and say whether the runs agree within 15 % on the headline figure")
	fs.StringVar(&o.ProfileDir, "profile", "", "directory for CPU and heap profiles of the server processes")
	fs.IntVar(&o.ProfileSeconds, "profile-seconds", 10, "length of each CPU profile")
	fs.StringVar(&o.LoadProfileDir, "load-profile", "", "directory for a CPU profile of every load process (the tool's own cost)")
	fs.StringVar(&o.SlowLogDir, "slow-log", "", "directory for a list, from every load process, of the deliveries slower than -slow-over, with their send and arrival times")
	fs.DurationVar(&o.SlowOver, "slow-over", 2500*time.Microsecond, "what -slow-log counts as slow")
	fs.DurationVar(&o.Timeout, "timeout", 15*time.Minute, "bound of one scenario run")
	fs.DurationVar(&o.IdleWait, "idle", 0, "before each run, wait up to this long for the machine to be idle (other work on a shared machine skews the figures)")
	fs.BoolVar(&f.jsonOut, "json", false, "print JSON instead of tables")
	fs.StringVar(&f.out, "o", "", "also write the JSON results to this file")
	fs.BoolVar(&f.quiet, "q", false, "no progress line")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if f.runs < 1 {
		return nil, fmt.Errorf("-runs %d: want at least 1", f.runs)
	}
	if o.LoadCores < -1 {
		return nil, fmt.Errorf("-load-cores %d: want -1, 0 or a number of cores", o.LoadCores)
	}
	f.scenarios = fs.Args()
	if len(f.scenarios) == 0 {
		fs.Usage()
		return nil, fmt.Errorf("name at least one scenario")
	}
	for _, s := range f.scenarios {
		if s != "standard" && !contains(bench.Scenarios, s) {
			return nil, fmt.Errorf("unknown scenario %q", s)
		}
	}
	o.Target.URLs = list(f.urls)
	o.Debug = list(f.debug)
	return f, nil
}

// specs expands the scenarios over the sizes and rates given.
func (f *flags) specs() []bench.Spec {
	var out []bench.Spec
	for _, sc := range f.scenarios {
		if sc == "standard" {
			for _, s := range standard {
				s.P99Target, s.Steps, s.Settle, s.Timeout, s.MsgSize, s.ReadBuffer = f.base.P99Target, f.base.Steps, f.base.Settle, f.base.Timeout, f.base.MsgSize, f.base.ReadBuffer
				out = append(out, s)
			}
			continue
		}
		sizes := f.n
		if sc == bench.Fanout || sc == bench.Join {
			sizes = f.k
		}
		if len(sizes) == 0 {
			sizes = []int{0}
		}
		rates := []float64{0}
		if (sc == bench.P2P || sc == bench.Fanout) && len(f.rates) > 0 {
			rates = f.rates
		}
		for _, n := range sizes {
			for _, r := range rates {
				s := f.base
				s.Scenario, s.N, s.Rate = sc, n, r
				if sc == bench.P2P && n == 0 && r > 0 {
					// Enough users for the rate.
					s.N = max(1000, int(r/bench.UserRate)+1)
				}
				out = append(out, s)
			}
		}
	}
	return out
}

func run(args []string, stdout, stderr io.Writer) int {
	f, err := parse(args, stderr)
	if err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		fmt.Fprintln(stderr, "sigbench:", err)
		return 2
	}
	soft, hard, note := bench.RaiseFileLimit()
	if note != "" {
		f.opt.Notes = append(f.opt.Notes, note)
	}
	if !f.quiet {
		f.opt.Progress = stderr
		fmt.Fprintf(stderr, "sigbench: %d CPUs, open-file limit %d (hard %d), %s\n", runtime.NumCPU(), soft, hard, runtime.Version())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r := bench.NewRunner(f.opt)
	var results []*bench.Result
	failed := false
	for _, s := range f.specs() {
		if ctx.Err() != nil {
			break
		}
		results = append(results, r.Repeat(ctx, s, f.runs, func(res *bench.Result) {
			failed = failed || res.Error != ""
			if !f.jsonOut {
				bench.WriteTable(stdout, []*bench.Result{res})
			}
		})...)
	}
	if f.jsonOut || f.out != "" {
		b, err := json.MarshalIndent(results, "", "  ")
		if err != nil {
			fmt.Fprintln(stderr, "sigbench:", err)
			return 1
		}
		if f.jsonOut {
			fmt.Fprintln(stdout, string(b))
		}
		if f.out != "" {
			if err := os.WriteFile(f.out, append(b, '\n'), 0o644); err != nil {
				fmt.Fprintln(stderr, "sigbench:", err)
				return 1
			}
		}
	}
	if failed {
		return 1
	}
	return 0
}

func list(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func ints(s string) ([]int, error) {
	var out []int
	for _, p := range list(s) {
		v, err := strconv.Atoi(strings.ReplaceAll(p, "_", ""))
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("%q is not a positive whole number", p)
		}
		out = append(out, v)
	}
	return out, nil
}

func floats(s string) ([]float64, error) {
	var out []float64
	for _, p := range list(s) {
		v, err := strconv.ParseFloat(strings.ReplaceAll(p, "_", ""), 64)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("%q is not a positive number", p)
		}
		out = append(out, v)
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
