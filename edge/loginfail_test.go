package edge_test

import (
	"testing"
	"time"

	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
	"github.com/switchboard-io/switchboard/token"
)

// TestLoginFailures_CountedByReason: one failed login of each reason an
// operator tells apart (docs/observability.md) adds one to
// switchboard_login_failures_total under that reason and to no other.
func TestLoginFailures_CountedByReason(t *testing.T) {
	env := testenv.Start(t, testenv.Options{Metrics: true})
	url := env.MetricsURL(0)
	app, strict := testenv.App, testenv.StrictApp
	expired := token.GenerateV2(app.ID, app.Certificate, "alice", time.Now().Add(-time.Hour).Unix())
	wrong := token.GenerateV2(app.ID, "00000000000000000000000000000000", "alice", 0)
	cases := []struct {
		reason string
		req    protocol.Request
	}{
		{"unknown_app", protocol.Request{AppID: "no-such-app", Account: "alice", Token: "_no_need_token"}},
		{"bad_app", protocol.Request{AppID: "has space", Account: "alice", Token: "_no_need_token"}},
		{"bad_token", protocol.Request{AppID: app.ID, Account: "alice", Token: wrong}},
		{"expired", protocol.Request{AppID: app.ID, Account: "alice", Token: expired}},
		{"no_token_refused", protocol.Request{AppID: strict.ID, Account: "alice", Token: "_no_need_token"}},
		{"bad_account", protocol.Request{AppID: app.ID, Account: "has space", Token: "_no_need_token"}},
	}
	count := func() map[string]float64 {
		m := map[string]float64{}
		for _, c := range cases {
			m[c.reason] = testenv.Counter(t, url, `switchboard_login_failures_total{reason="`+c.reason+`"}`)
		}
		return m
	}
	r := testenv.Dial(t, env.URL(0))
	for _, c := range cases {
		before := count()
		c.req.Op = protocol.OpLogin
		r.Send(c.req)
		if ev := r.Expect(protocol.EvLoginFailed); ev.Ecode == 0 {
			t.Fatalf("%s: %+v", c.reason, ev)
		}
		after := count()
		for reason, n := range after {
			want := before[reason]
			if reason == c.reason {
				want++
			}
			if n != want {
				t.Errorf("after a login failing for %s: %s counted %v, want %v", c.reason, reason, n, want)
			}
		}
	}
}
