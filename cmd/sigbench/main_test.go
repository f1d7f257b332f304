package main

import (
	"bytes"
	"encoding/json"
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

func TestMain(m *testing.M) {
	if code, ok := bench.Role(); ok {
		os.Exit(code)
	}
	os.Exit(m.Run())
}

func TestSpecs_ExpandSizesAndRates(t *testing.T) {
	f, err := parse([]string{"-n", "1000,5000", "-rate", "1000,10000", "-k", "10,100", "-duration", "3s", "connect", "p2p", "join"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range f.specs() {
		got = append(got, s.Scenario+":"+itoa(s.N)+":"+itoa(int(s.Rate)))
		if s.Duration != 3*time.Second {
			t.Errorf("%s: duration %s", s.Scenario, s.Duration)
		}
	}
	want := "connect:1000:0 connect:5000:0 p2p:1000:1000 p2p:1000:10000 p2p:5000:1000 p2p:5000:10000 join:10:0 join:100:0"
	if strings.Join(got, " ") != want {
		t.Errorf("specs\n got %s\nwant %s", strings.Join(got, " "), want)
	}
}

func TestSpecs_P2PRateWithoutUsersGetsEnoughUsers(t *testing.T) {
	f, err := parse([]string{"-rate", "100000", "p2p"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if s := f.specs()[0]; s.N*bench.UserRate < 100000 {
		t.Errorf("%d users cannot send 100,000 msg/s", s.N)
	}
}

func TestParse_StoreAndRuns(t *testing.T) {
	f, err := parse([]string{"-kv", "memory", "-runs", "3", "p2p"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if !f.opt.KVMemory || f.runs != 3 {
		t.Errorf("-kv memory -runs 3: KVMemory %v, runs %d", f.opt.KVMemory, f.runs)
	}
	f, err = parse([]string{"p2p"}, &bytes.Buffer{})
	if err != nil || f.opt.KVMemory || f.runs != 1 {
		t.Errorf("defaults: KVMemory %v, runs %d (%v): want the file store, one run", f.opt.KVMemory, f.runs, err)
	}
	for _, bad := range [][]string{{"-kv", "disk", "p2p"}, {"-runs", "0", "p2p"}} {
		if _, err := parse(bad, &bytes.Buffer{}); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestParse_LoadCores(t *testing.T) {
	f, err := parse([]string{"p2p"}, &bytes.Buffer{})
	if err != nil || f.opt.LoadCores != -1 {
		t.Errorf("default -load-cores %d (%v), want -1: the scenario picks", f.opt.LoadCores, err)
	}
	f, err = parse([]string{"-load-cores", "2", "p2p"}, &bytes.Buffer{})
	if err != nil || f.opt.LoadCores != 2 {
		t.Errorf("-load-cores 2: %d (%v)", f.opt.LoadCores, err)
	}
	if _, err := parse([]string{"-load-cores", "-2", "p2p"}, &bytes.Buffer{}); err == nil {
		t.Error("-load-cores -2 accepted")
	}
}

func TestRun_LoadCoresReachEveryLoadProcess(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	// More cores than the machine has: what Go never picks by itself, so
	// only the flag can have set it.
	cores := runtime.NumCPU() + 1
	var out, errb bytes.Buffer
	code := run([]string{"-url", env.URL(0), "-app", testenv.App.ID, "-procs", "2", "-load-cores", strconv.Itoa(cores),
		"-n", "4", "-rate", "20", "-duration", "200ms", "-json", "-q", "p2p"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errb.String(), out.String())
	}
	var res []bench.Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out.String())
	}
	if len(res) != 1 {
		t.Fatalf("%d results, want 1", len(res))
	}
	// An explicit -procs stays as given, for p2p too.
	if su := res[0].Setup; su.LoadProcs != 2 || su.LoadCores != cores || !slices.Equal(su.LoadGOMAXPROCS, []int{cores, cores}) {
		t.Errorf("setup: %d load processes of %d cores, reporting GOMAXPROCS %v; want 2 of %d, both reporting it", su.LoadProcs, su.LoadCores, su.LoadGOMAXPROCS, cores)
	}
}

func TestRun_RepeatsAndPrintsTheAgreement(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	args := []string{"-url", env.URL(0), "-app", testenv.App.ID, "-procs", "2", "-n", "4", "-settle", "10ms", "-q", "-runs", "2"}
	var out, errb bytes.Buffer
	if code := run(append(args, "-json", "connect"), &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errb.String(), out.String())
	}
	var res []bench.Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out.String())
	}
	if len(res) != 2 || res[0].Run != 1 || res[1].Run != 2 || res[0].Agreement != nil || res[1].Agreement == nil || len(res[1].Agreement.Values) != 2 {
		t.Fatalf("results %+v: want runs 1 and 2, the agreement on the second", res)
	}
	if l := res[1].Load; l == nil || l.Procs != 2 || l.CPUSeconds <= 0 || l.ServerCPUSeconds != -1 {
		t.Errorf("load usage %+v: want 2 processes' CPU beside a server not measured", l)
	}
	out.Reset()
	if code := run(append(args, "connect"), &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"run 1 of 2", "run 2 of 2", "configuration: a running server", "load CPU", "agreement of 2 runs on connections_per_s"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}

func TestParse_RefusesUnknownScenarios(t *testing.T) {
	if _, err := parse([]string{"connct"}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "connct") {
		t.Errorf("err = %v", err)
	}
	if _, err := parse(nil, &bytes.Buffer{}); err == nil {
		t.Error("no scenario accepted")
	}
}

func TestRun_PrintsJSONForARunningServer(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	var out, errb bytes.Buffer
	code := run([]string{"-url", env.URL(0), "-app", testenv.App.ID, "-procs", "2", "-n", "6", "-settle", "100ms", "-json", "-q", "connect"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errb.String(), out.String())
	}
	var res []bench.Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out.String())
	}
	if len(res) != 1 || res[0].Counts["connections"] != 6 || res[0].Setup.LoadProcs != 2 {
		t.Fatalf("results %+v", res)
	}
	// No -debug: the tool says it could not measure the server.
	if !strings.Contains(strings.Join(res[0].Notes, "\n"), "-debug") {
		t.Errorf("notes %v do not say the server was not measured", res[0].Notes)
	}
}

func TestRun_PrintsATable(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	var out, errb bytes.Buffer
	code := run([]string{"-url", env.URL(0), "-app", testenv.App.ID, "-procs", "0", "-n", "3", "-settle", "10ms", "-q", "connect"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"== connect  n=3", "connections_per_s", "connect+login latency (ms)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
