package bench_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-io/switchboard/bench"
	"github.com/switchboard-io/switchboard/internal/testenv"
)

// TestMain lets the test binary be the tool's own children: load processes
// and servers are this binary run again with bench.RoleEnv set.
func TestMain(m *testing.M) {
	if code, ok := bench.Role(); ok {
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// server starts Switchboard in this process with its debug endpoint, and
// returns options that point the runner at it.
func server(t *testing.T) bench.Options {
	t.Helper()
	env := testenv.Start(t, testenv.Options{})
	dbg := httptest.NewServer(env.Edges[0].Edge.DebugHandler())
	t.Cleanup(dbg.Close)
	return bench.Options{
		Target:   bench.Target{URLs: []string{env.URL(0)}, App: testenv.App.ID},
		Debug:    []string{dbg.URL},
		Procs:    0,
		SrcAddrs: 2,
		Timeout:  time.Minute,
	}
}

func spec(scenario string, n int) bench.Spec {
	return bench.Spec{Scenario: scenario, N: n, Settle: 100 * time.Millisecond, Timeout: 20 * time.Second}
}

func run(t *testing.T, o bench.Options, s bench.Spec) *bench.Result {
	t.Helper()
	res := bench.NewRunner(o).Run(context.Background(), s)
	if res.Error != "" {
		t.Fatalf("%s: %s (errors %v, notes %v)", s.Scenario, res.Error, res.Errors, res.Notes)
	}
	return res
}

// skipWithoutChannels skips a channel scenario on a server that cannot join
// channels or send to them yet, saying why.
func skipWithoutChannels(t *testing.T, res *bench.Result) {
	t.Helper()
	if res.Skipped != "" {
		t.Skip(res.Skipped)
	}
}

func wantCount(t *testing.T, res *bench.Result, name string, want int64) {
	t.Helper()
	if got := res.Counts[name]; got != want {
		t.Errorf("%s: %s = %d, want %d (counts %v, errors %v, notes %v)", res.Scenario, name, got, want, res.Counts, res.Errors, res.Notes)
	}
}

func TestConnect_HoldsEveryConnectionAndMeasuresTheServer(t *testing.T) {
	o := server(t)
	res := run(t, o, spec(bench.Connect, 20))
	wantCount(t, res, "connections", 20)
	wantCount(t, res, "held", 20)
	wantCount(t, res, "failed", 0)
	if got := res.Latency["connect+login"].Count; got != 20 {
		t.Errorf("connect latency has %d values, want 20", got)
	}
	if res.Figures["connections_per_s"] <= 0 {
		t.Errorf("connections_per_s = %v", res.Figures["connections_per_s"])
	}
	u := res.Server
	if u == nil {
		t.Fatalf("no server usage; notes %v", res.Notes)
	}
	if u.EdgeConns != 20 || u.EdgeSessions != 20 || u.Per != 20 {
		t.Errorf("edge counted %d connections and %d sessions, per %d; want 20", u.EdgeConns, u.EdgeSessions, u.Per)
	}
	if u.RSSBytes <= 0 || u.Goroutines <= 0 {
		t.Errorf("server figures missing: %+v", u)
	}
	if len(res.Setup.SrcAddrs) == 0 {
		t.Errorf("no source addresses used; notes %v", res.Notes)
	}
}

func TestLogin_StormLogsEveryConnectionIn(t *testing.T) {
	o := server(t)
	res := run(t, o, spec(bench.Login, 20))
	wantCount(t, res, "connections", 20)
	wantCount(t, res, "logins", 20)
	wantCount(t, res, "login_failed", 0)
	if got := res.Latency["login"].Count; got != 20 {
		t.Errorf("login latency has %d values, want 20", got)
	}
	if res.Figures["logins_per_s"] <= 0 {
		t.Errorf("logins_per_s = %v", res.Figures["logins_per_s"])
	}
}

func TestP2P_EveryMessageSentIsReceivedAndAcknowledged(t *testing.T) {
	o := server(t)
	s := spec(bench.P2P, 10)
	s.Rate, s.Duration = 100, time.Second
	res := run(t, o, s)
	sent := res.Counts["sent"]
	if sent < 90 || sent > 110 {
		t.Errorf("sent %d messages in 1 s at 100/s", sent)
	}
	wantCount(t, res, "received", sent)
	wantCount(t, res, "send_ok", sent)
	wantCount(t, res, "send_error", 0)
	if got := res.Latency["send→receive"].Count; got != sent {
		t.Errorf("latency has %d values, want %d", got, sent)
	}
	if got := res.Latency["send→onMessageSendSuccess"].Count; got != sent {
		t.Errorf("ack latency has %d values, want %d", got, sent)
	}
	// The load's CPU beside the server's, per message received.
	if l := res.Load; l == nil || l.Per != res.Counts["received"] || l.PerWhat != "message" || l.CPUSeconds <= 0 || l.ServerCPUSeconds <= 0 || l.ShareOfServer <= 0 {
		t.Errorf("load usage %+v: want the load's and the server's CPU per message", l)
	}
}

func TestP2P_RefusesARateOverThePerUserLimit(t *testing.T) {
	s := spec(bench.P2P, 2)
	s.Rate = 1000
	res := bench.NewRunner(bench.Options{Target: bench.Target{URLs: []string{"ws://127.0.0.1:1/ws"}}}).Run(context.Background(), s)
	if !strings.Contains(res.Error, "needs at least 20 users") {
		t.Fatalf("error = %q", res.Error)
	}
}

func TestFanout_EveryMemberButTheSenderGetsEveryMessage(t *testing.T) {
	o := server(t)
	// The default arrangement, which for fanout is one load process on
	// Go's default cores.
	o.Procs, o.LoadCores = -1, -1
	s := spec(bench.Fanout, 5)
	s.Rate, s.Duration = 20, time.Second
	res := bench.NewRunner(o).Run(context.Background(), s)
	skipWithoutChannels(t, res)
	if res.Error != "" {
		t.Fatalf("fanout: %s (errors %v)", res.Error, res.Errors)
	}
	wantCount(t, res, "members", 5)
	if len(res.Steps) != 1 {
		t.Fatalf("%d steps, want 1", len(res.Steps))
	}
	st := res.Steps[0]
	if st.Sent == 0 || st.Received != st.Sent*4 || st.Expected != st.Sent*4 || st.SendErrors != 0 {
		t.Errorf("step %+v: want received = expected = sent × 4", st)
	}
	if l := st.Load; l == nil || l.Per != st.Received || l.PerWhat != "delivery" || l.CPUSeconds <= 0 || l.ServerCPUSeconds <= 0 || res.Load != l {
		t.Errorf("step load usage %+v (result's %+v): want the load's and the server's CPU per delivery", l, res.Load)
	}
	su := res.Setup
	if su.LoadProcs != 1 || su.LoadCores != 0 || len(su.LoadGOMAXPROCS) != 1 {
		t.Fatalf("setup: %d load processes of %d cores, reporting GOMAXPROCS %v; want 1 of Go's default, reporting", su.LoadProcs, su.LoadCores, su.LoadGOMAXPROCS)
	}
	// Untouched, each process runs with what its environment gives it.
	most := runtime.NumCPU()
	if v, err := strconv.Atoi(os.Getenv("GOMAXPROCS")); err == nil && v > 0 {
		most = v
	}
	for i, got := range su.LoadGOMAXPROCS {
		if got <= 0 || got > most {
			t.Errorf("load process %d ran with GOMAXPROCS %d, want Go's default (at most %d)", i, got, most)
		}
	}
	var b strings.Builder
	bench.WriteTable(&b, []*bench.Result{res})
	if !strings.Contains(b.String(), "1 load process(es),") || strings.Contains(b.String(), "load process(es) of") {
		t.Errorf("the setup line should say \"1 load process(es)\" and no cores:\n%s", b.String())
	}
}

func TestFanout_PublishersOutsideTheChannelReachEveryMember(t *testing.T) {
	o := server(t)
	s := spec(bench.Fanout, 4)
	s.Rate, s.Duration, s.Publishers, s.Outside = 20, time.Second, 2, true
	res := bench.NewRunner(o).Run(context.Background(), s)
	skipWithoutChannels(t, res)
	if res.Error != "" {
		t.Fatalf("fanout: %s (errors %v)", res.Error, res.Errors)
	}
	wantCount(t, res, "members", 4)
	wantCount(t, res, "users", 6)
	st := res.Steps[0]
	if st.Sent == 0 || st.Received != st.Sent*4 || st.Expected != st.Sent*4 {
		t.Errorf("step %+v: want received = expected = sent × 4", st)
	}
}

// A load process without a publisher receives until the sending time is
// over, however much longer than its drain that is: its count once ended at
// the drain's bound, and a 20 s run reported an eighth of its deliveries
// missing.
func TestFanout_ALoadProcessWithoutPublishersCountsTheWholeRun(t *testing.T) {
	o := server(t)
	o.Procs, o.LoadCores = 2, 1
	s := spec(bench.Fanout, 6)
	s.Rate, s.Duration, s.Publishers = 20, 2*time.Second, 1
	s.Drain = 300 * time.Millisecond
	res := bench.NewRunner(o).Run(context.Background(), s)
	skipWithoutChannels(t, res)
	if res.Error != "" {
		t.Fatalf("fanout: %s (errors %v)", res.Error, res.Errors)
	}
	st := res.Steps[0]
	if st.Sent < 30 || st.Received != st.Sent*5 || st.Expected != st.Sent*5 {
		t.Errorf("step %+v: want about 40 sent and received = expected = sent × 5", st)
	}
}

func TestFanout_SearchTriesSeveralRates(t *testing.T) {
	o := server(t)
	s := spec(bench.Fanout, 3)
	s.Rate, s.Duration, s.Search, s.Steps = 2, 300*time.Millisecond, true, 2
	res := bench.NewRunner(o).Run(context.Background(), s)
	skipWithoutChannels(t, res)
	if res.Error != "" {
		t.Fatalf("fanout: %s (errors %v)", res.Error, res.Errors)
	}
	if len(res.Steps) < 2 {
		t.Fatalf("%d steps, want at least 2", len(res.Steps))
	}
	if res.Figures["saturated_delivered_per_s"] <= 0 {
		t.Errorf("figures %v lack the saturated rate", res.Figures)
	}
}

func TestJoin_EveryMemberSeesEveryMember(t *testing.T) {
	o := server(t)
	res := bench.NewRunner(o).Run(context.Background(), spec(bench.Join, 10))
	skipWithoutChannels(t, res)
	if res.Error != "" {
		t.Fatalf("join: %s (errors %v)", res.Error, res.Errors)
	}
	wantCount(t, res, "joined", 10)
	wantCount(t, res, "settled", 10)
	wantCount(t, res, "join_failed", 0)
	if res.Figures["settle_seconds"] <= 0 {
		t.Errorf("settle_seconds = %v; notes %v", res.Figures["settle_seconds"], res.Notes)
	}
}

func TestConnect_SpreadsOverLoadProcesses(t *testing.T) {
	o := server(t)
	o.Procs = 2
	res := run(t, o, spec(bench.Connect, 10))
	if res.Setup.LoadProcs != 2 {
		t.Errorf("%d load processes, want 2", res.Setup.LoadProcs)
	}
	wantCount(t, res, "connections", 10)
	wantCount(t, res, "held", 10)
	// Two processes' CPU, not the tool's: the test process holds the
	// server, and spends more than two idle load processes.
	if l := res.Load; l == nil || l.Procs != 2 || l.CPUSeconds <= 0 || l.Per != 10 || l.PerWhat != "connection" {
		t.Errorf("load usage %+v: want the CPU of 2 load processes per connection", l)
	}
}

func TestP2P_DefaultLoadIsOneProcessOfOneCore(t *testing.T) {
	o := server(t)
	o.Procs, o.LoadCores = -1, -1
	s := spec(bench.P2P, 10)
	s.Rate, s.Duration = 100, 300*time.Millisecond
	res := run(t, o, s)
	// What the load process's runtime said, not only what it was asked.
	if su := res.Setup; su.LoadProcs != 1 || su.LoadCores != 1 || !slices.Equal(su.LoadGOMAXPROCS, []int{1}) {
		t.Errorf("setup: %d load processes of %d cores, reporting GOMAXPROCS %v; want 1 of 1, reporting [1]", su.LoadProcs, su.LoadCores, su.LoadGOMAXPROCS)
	}
	if l := res.Load; l == nil || l.Procs != 1 || l.Cores != 1 {
		t.Errorf("load usage %+v: want 1 process of 1 core", l)
	}
	wantCount(t, res, "received", res.Counts["sent"])
	var b strings.Builder
	bench.WriteTable(&b, []*bench.Result{res})
	if got := strings.Count(b.String(), "1 load process(es) of 1 core"); got != 2 {
		t.Errorf("the setup and load CPU lines should say \"1 load process(es) of 1 core\":\n%s", b.String())
	}
}

// TestP2P_SlowLogListsEveryDeliveryOverTheThreshold: with -slow-log and a
// threshold below any latency, each load process lists every message it
// received, with send and arrival times whose difference is its latency.
func TestP2P_SlowLogListsEveryDeliveryOverTheThreshold(t *testing.T) {
	o := server(t)
	o.Procs, o.LoadCores = -1, -1
	o.SlowLogDir, o.SlowOver = t.TempDir(), time.Nanosecond
	s := spec(bench.P2P, 10)
	s.Rate, s.Duration = 100, 300*time.Millisecond
	res := run(t, o, s)
	if len(res.SlowLogs) != 1 {
		t.Fatalf("slow logs %v, want one for the one load process", res.SlowLogs)
	}
	b, err := os.ReadFile(res.SlowLogs[0])
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "# ") {
		t.Fatalf("no header line: %q", b)
	}
	lines = lines[1:]
	if int64(len(lines)) != res.Counts["received"] || len(lines) == 0 {
		t.Fatalf("%d slow deliveries listed, want all %d received", len(lines), res.Counts["received"])
	}
	var last int64
	for _, l := range lines {
		var sent, arrived, us int64
		var user int
		if _, err := fmt.Sscanf(l, "%d %d %d %d", &sent, &arrived, &us, &user); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if arrived < sent || us != (arrived-sent)/1000 || user < 0 || user >= 10 || arrived < last {
			t.Fatalf("line %q: want arrival after sending, its latency in µs, a user of the run, in order of arrival", l)
		}
		last = arrived
	}
}

func TestRepeat_RunsTheSpecAgainAndSaysWhetherTheRunsAgree(t *testing.T) {
	o := server(t)
	var seen []int
	results := bench.NewRunner(o).Repeat(context.Background(), spec(bench.Connect, 5), 3, func(r *bench.Result) { seen = append(seen, r.Run) })
	if len(results) != 3 || len(seen) != 3 || seen[0] != 1 || seen[2] != 3 {
		t.Fatalf("%d results, handed over as runs %v: want runs 1, 2, 3", len(results), seen)
	}
	for i, r := range results {
		if r.Error != "" || r.Runs != 3 || r.Counts["connections"] != 5 {
			t.Errorf("run %d: %+v", i+1, r)
		}
		if (r.Agreement != nil) != (i == 2) {
			t.Errorf("run %d carries agreement %+v; only the last should", i+1, r.Agreement)
		}
	}
	a := results[2].Agreement
	if a == nil || a.Figure != "connections_per_s" || len(a.Values) != 3 || a.Spread < 0 || a.Agree != (a.Spread <= bench.AgreeWithin) {
		t.Errorf("agreement %+v", a)
	}
	for i, v := range a.Values {
		if v != results[i].Figures["connections_per_s"] {
			t.Errorf("agreement value %d is %v, the run says %v", i+1, v, results[i].Figures["connections_per_s"])
		}
	}
}

func TestConnect_StartsItsOwnServerWithThreeEdges(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four processes")
	}
	o := bench.Options{Edges: 3, Procs: 0, SrcAddrs: 1, Timeout: time.Minute}
	res := run(t, o, spec(bench.Connect, 9))
	if !res.Setup.Started || res.Setup.Edges != 3 {
		t.Fatalf("setup %+v, want 3 edges the tool started", res.Setup)
	}
	// What a user runs, unless told otherwise: the file-backed store.
	if c := res.Setup.Config; c.KV != "file" || !strings.Contains(c.Server, "embedded default") || !strings.Contains(c.Server, "2 edge processes") {
		t.Errorf("configuration %+v: want the embedded default with its file store and 2 more edges", c)
	}
	wantCount(t, res, "connections", 9)
	u := res.Server
	if u == nil || len(u.After) != 3 {
		t.Fatalf("server usage %+v; notes %v", u, res.Notes)
	}
	for i, st := range u.After {
		if st.Edge == nil || st.Edge.Conns != 3 {
			t.Errorf("edge %d: %+v, want 3 connections on each", i, st.Edge)
		}
	}
}
