package bench

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-io/switchboard/protocol"
)

func connectResult(perS float64) *Result {
	return &Result{Scenario: Connect, Figures: map[string]float64{"connections_per_s": perS}}
}

func p2pResult(p99 float64) *Result {
	return &Result{Scenario: P2P, Latency: map[string]Summary{"send→receive": {Count: 10, P99: p99}}}
}

func TestAgree_WithinFifteenPercentOfTheHeadlineFigure(t *testing.T) {
	for _, tc := range []struct {
		name   string
		runs   []*Result
		figure string
		spread float64
		agree  bool
	}{
		{"rates within 15 %", []*Result{connectResult(1000), connectResult(1100), connectResult(1149)}, "connections_per_s", 0.149, true},
		{"rates 16 % apart", []*Result{connectResult(1000), connectResult(1160), connectResult(1050)}, "connections_per_s", 0.16, false},
		{"p2p p99 in any order", []*Result{p2pResult(2.0), p2pResult(1.8), p2pResult(2.1)}, "send→receive p99", 2.1/1.8 - 1, false},
		{"p2p p99 close", []*Result{p2pResult(2.0), p2pResult(1.9), p2pResult(2.05)}, "send→receive p99", 2.05/1.9 - 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := Agree(tc.runs)
			if a.Figure != tc.figure || a.Agree != tc.agree || math.Abs(a.Spread-tc.spread) > 1e-4 || a.Why != "" {
				t.Errorf("agreement %+v: want figure %q, spread %.4f, agree %v", a, tc.figure, tc.spread, tc.agree)
			}
			if len(a.Values) != len(tc.runs) {
				t.Errorf("%d values for %d runs", len(a.Values), len(tc.runs))
			}
		})
	}
}

func TestAgree_AFailedRunOrAMissingFigureNeverAgrees(t *testing.T) {
	failed := connectResult(1000)
	failed.Error = "a server process exited"
	a := Agree([]*Result{connectResult(1000), failed, connectResult(1000)})
	if a.Agree || !strings.Contains(a.Why, "run 2 failed") {
		t.Errorf("agreement %+v: want no agreement because run 2 failed", a)
	}
	a = Agree([]*Result{connectResult(1000), connectResult(0)})
	if a.Agree || !strings.Contains(a.Why, "run 2 has no headline figure") {
		t.Errorf("agreement %+v: want no agreement because run 2 has no figure", a)
	}
	// It goes into -json output.
	if _, err := json.Marshal(a); err != nil || a.Spread != -1 {
		t.Errorf("spread %v, JSON error %v: want -1 and JSON", a.Spread, err)
	}
}

func TestHeadline_EveryScenarioHasOne(t *testing.T) {
	search := &Result{Scenario: Fanout, Spec: Spec{Search: true}, Figures: map[string]float64{"saturated_delivered_per_s": 9, "best_ok_delivered_per_s": 7}}
	fixed := &Result{Scenario: Fanout, Latency: map[string]Summary{"delivery": {Count: 1, P99: 3}}}
	for _, tc := range []struct {
		r    *Result
		name string
		v    float64
	}{
		{connectResult(5), "connections_per_s", 5},
		{&Result{Scenario: Login, Figures: map[string]float64{"logins_per_s": 6}}, "logins_per_s", 6},
		{&Result{Scenario: Join, Figures: map[string]float64{"joins_per_s": 8}}, "joins_per_s", 8},
		{p2pResult(1.5), "send→receive p99", 1.5},
		{fixed, "delivery p99", 3},
		{search, "best_ok_delivered_per_s", 7},
	} {
		name, _, v, ok := Headline(tc.r)
		if !ok || name != tc.name || v != tc.v {
			t.Errorf("%s: headline %q %v %v, want %q %v", tc.r.Scenario, name, v, ok, tc.name, tc.v)
		}
	}
}

func TestAsksAck_FindsTheFieldTheEdgeEncodes(t *testing.T) {
	for _, ack := range []bool{true, false} {
		b, err := json.Marshal(protocol.Event{Ev: protocol.EvMessageInstantReceive, Account: "a", Msg: stampMsg(time.Unix(1, 0), 300) + `"ack":true`, Ack: ack})
		if err != nil {
			t.Fatal(err)
		}
		if got := asksAck(b); got != ack {
			t.Errorf("asksAck(%s) = %v, want %v", b, got, ack)
		}
	}
}

func TestStartedConfig_IsTheFileBackedDefaultUnlessAsked(t *testing.T) {
	dir := t.TempDir()
	c := startedConfig(clusterOptions{Edges: 1, Dir: dir})
	if c.KV != "file" || c.DataDir != dataDir(dir) || strings.Contains(strings.Join(toolEnv(false), " "), "SB_KV_MEMORY") {
		t.Errorf("default config %+v, tool env %v: want the file store", c, toolEnv(false))
	}
	c = startedConfig(clusterOptions{Edges: 3, Dir: dir, KVMemory: true, Env: []string{"SB_APP_CERTIFICATE=s3cret"}})
	if c.KV != "memory" || !strings.Contains(c.Server, "2 edge processes") {
		t.Errorf("config %+v: want memory and 2 more edges", c)
	}
	if strings.Contains(c.String(), "s3cret") || !strings.Contains(c.String(), "SB_APP_CERTIFICATE=(redacted)") {
		t.Errorf("config %q shows a secret", c)
	}
	c = startedConfig(clusterOptions{Edges: 1, Dir: dir, Env: []string{"SB_KV_MEMORY=true"}})
	if c.KV != "memory" {
		t.Errorf("config %+v: SB_KV_MEMORY=true through -server-env is memory", c)
	}
}
