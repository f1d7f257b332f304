package hostile

import (
	"net/http"
	"testing"
	"time"

	"github.com/switchboard-io/switchboard/edge"
	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/metrics"
	"github.com/switchboard-io/switchboard/protocol"
)

// TestHostile_OperatorSeesRefusedHandshakesAndIdleConnections plays the
// attacks an edge refuses before any session exists, and reads what an
// operator reads (issue 9, point 10): the edge's Prometheus /metrics counts
// a foreign origin, a connection over the per-address cap and a connection
// that never logged in, each under its kind.
func TestHostile_OperatorSeesRefusedHandshakesAndIdleConnections(t *testing.T) {
	env := testenv.Start(t, testenv.Options{Metrics: true, Edge: func(c *edge.Config) {
		c.LoginTimeout = 2 * time.Second
		c.MaxConnsPerAddr = 2
	}})
	url := env.MetricsURL(0)
	refused := func(kind string) float64 {
		return testenv.Counter(t, url, `switchboard_edge_refused_total{kind="`+kind+`"}`)
	}
	origin0, addr0, idle0 := refused(metrics.RefusedOrigin), refused(metrics.RefusedAddrLimit), refused(metrics.RefusedLoginTimeout)

	if _, status := testenv.TryDial(t, env.URL(0), testenv.Handshake{Origin: "https://evil.example"}); status != http.StatusForbidden {
		t.Fatalf("handshake from https://evil.example: HTTP %d, want 403", status)
	}
	if got := refused(metrics.RefusedOrigin); got != origin0+1 {
		t.Errorf("refused origins: %v after one, want %v", got, origin0+1)
	}

	// Two connections from 127.0.0.2, the cap; the third is refused. The
	// two never log in: each is closed for it.
	first := testenv.DialWith(t, env.URL(0), testenv.Handshake{From: "127.0.0.2"})
	second := testenv.DialWith(t, env.URL(0), testenv.Handshake{From: "127.0.0.2"})
	if _, status := testenv.TryDial(t, env.URL(0), testenv.Handshake{From: "127.0.0.2"}); status != http.StatusTooManyRequests {
		t.Fatalf("third connection from 127.0.0.2: HTTP %d, want 429", status)
	}
	if got := refused(metrics.RefusedAddrLimit); got != addr0+1 {
		t.Errorf("refused over the per-address cap: %v after one, want %v", got, addr0+1)
	}

	for _, r := range []*testenv.Raw{first, second} {
		if code := expectCloseWithin(t, r.WS, 30*time.Second); code != protocol.CloseLoginTimeout {
			t.Fatalf("connection that never logs in: close %d, want %d", code, protocol.CloseLoginTimeout)
		}
	}
	// The edge counts before it closes: both are counted by now.
	if got := refused(metrics.RefusedLoginTimeout); got != idle0+2 {
		t.Errorf("login timeouts: %v after two, want %v", got, idle0+2)
	}
}

// TestHostile_OperatorSeesFailedResumesAndFloods: failed resumes, the
// connection closed for them, a client closed for not reading, and failed
// logins by reason, each counted where an operator looks.
func TestHostile_OperatorSeesFailedResumesAndFloods(t *testing.T) {
	env := testenv.Start(t, testenv.Options{Metrics: true})
	url := env.MetricsURL(0)
	refused := func(kind string) float64 {
		return testenv.Counter(t, url, `switchboard_edge_refused_total{kind="`+kind+`"}`)
	}
	failed := func(reason string) float64 {
		return testenv.Counter(t, url, `switchboard_login_failures_total{reason="`+reason+`"}`)
	}
	resume0, flood0 := refused(metrics.RefusedResume), refused(metrics.RefusedResumeFlood)
	token0, account0 := failed("no_token_refused"), failed("bad_account")

	r := testenv.Dial(t, env.URL(0))
	for range 5 {
		r.Send(protocol.Request{Op: protocol.OpResume, AppID: testenv.App.ID, Account: "alice", Session: "guess"})
	}
	if code := r.ExpectClose(); code != protocol.CloseResumeFlood {
		t.Fatalf("after 5 failed resumes: close %d, want %d", code, protocol.CloseResumeFlood)
	}
	if got := refused(metrics.RefusedResume); got != resume0+5 {
		t.Errorf("refused resumes: %v after 5, want %v", got, resume0+5)
	}
	if got := refused(metrics.RefusedResumeFlood); got != flood0+1 {
		t.Errorf("connections closed for failed resumes: %v, want %v", got, flood0+1)
	}

	l := testenv.Dial(t, env.URL(0))
	l.Send(protocol.Request{Op: protocol.OpLogin, AppID: testenv.StrictApp.ID, Account: "alice", Token: "_no_need_token"})
	if ev := l.Expect(protocol.EvLoginFailed); ev.Ecode != protocol.LoginTokenWrong {
		t.Fatalf("_no_need_token for a strict app: %+v", ev)
	}
	l.Send(protocol.Request{Op: protocol.OpLogin, AppID: testenv.App.ID, Account: "has space", Token: "_no_need_token"})
	if ev := l.Expect(protocol.EvLoginFailed); ev.Ecode != protocol.WrongParam {
		t.Fatalf("login with a bad account name: %+v", ev)
	}
	if got := failed("no_token_refused"); got != token0+1 {
		t.Errorf("logins failed for _no_need_token: %v, want %v", got, token0+1)
	}
	if got := failed("bad_account"); got != account0+1 {
		t.Errorf("logins failed for a bad account name: %v, want %v", got, account0+1)
	}
}
