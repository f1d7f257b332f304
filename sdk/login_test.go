package sdk

import (
	"net"
	"strings"
	"testing"

	"github.com/switchboard-io/switchboard/protocol"
)

func TestLogin_HelloLoginAndSuccess(t *testing.T) {
	e := newEdge(t)
	c, r := newClient(t, []string{e.url})
	if got := c.GetStatus(); got != StatusNotLoggedIn {
		t.Fatalf("status before login = %d", got)
	}
	c.Login("app", "alice", "_no_need_token", 0, "")
	if got := c.GetStatus(); got != StatusLoggingIn {
		t.Fatalf("status while logging in = %d", got)
	}
	ec := e.accept()
	if ec.subprotocol != protocol.Subprotocol {
		t.Errorf("subprotocol = %q, want %q", ec.subprotocol, protocol.Subprotocol)
	}
	login := ec.expect(protocol.OpLogin)
	want := protocol.Request{Op: protocol.OpLogin, AppID: "app", Account: "alice", Token: "_no_need_token"}
	if login != want {
		t.Errorf("login = %+v, want %+v", login, want)
	}
	ec.send(protocol.Event{Ev: protocol.EvLoginSuccess, Session: "s1", UID: 7})
	r.expect("OnLoginSuccess", uint32(7), 0)
	if !c.IsOnline() || c.GetStatus() != StatusLoggedIn {
		t.Fatalf("status after login = %d", c.GetStatus())
	}

	c.QueryUserStatus("bob")
	ec.expect(protocol.OpQueryUserStatus)
	ec.send(protocol.Event{Ev: protocol.EvQueryUserStatusResult, Name: "bob", Status: "1"})
	r.expect("OnQueryUserStatusResult", "bob", "1")
}

func TestLogin2_SendsLogin2WithoutSDKOnlyFields(t *testing.T) {
	e := newEdge(t)
	c, r := newClient(t, []string{e.url})
	c.Login2("", "alice", "tok", 0, "", 5, 2) // empty appID: the instance's
	ec := e.accept()
	login := ec.expect(protocol.OpLogin2)
	want := protocol.Request{Op: protocol.OpLogin2, AppID: "app", Account: "alice", Token: "tok"}
	if login != want {
		t.Errorf("login2 = %+v, want %+v", login, want)
	}
	ec.send(protocol.Event{Ev: protocol.EvLoginFailed, Ecode: protocol.LoginTokenWrong})
	r.expect("OnLoginFailed", protocol.LoginTokenWrong)
	if got := c.GetStatus(); got != StatusNotLoggedIn {
		t.Fatalf("status after failed login = %d", got)
	}
	ec.waitGone()
}

func TestLogin_WhileLoggedInIsIgnoredWithLogLine(t *testing.T) {
	e := newEdge(t)
	c, r, ec := loggedIn(t, e, "alice", "s1")
	c.SetDoLog(true)
	c.Login("app", "alice", "_no_need_token", 0, "")
	if log := r.expect("OnLog"); !strings.Contains(log.args[0].(string), "login ignored") {
		t.Errorf("log line %q", log.args[0])
	}
	c.SetDoLog(false)
	// Nothing went to the edge: the next frame is the next request.
	c.GetAttrAll()
	ec.expect(protocol.OpGetAttrAll)
}

func TestLogin_NoEdgeReachable_Fails201(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "ws://" + ln.Addr().String() + "/ws"
	ln.Close() // nothing listens there now: every dial is refused

	c, r := newClient(t, []string{url})
	c.Login2("app", "alice", "_no_need_token", 0, "", 30, 2)
	r.expect("OnLoginFailed", protocol.LoginNet)
	if got := c.GetStatus(); got != StatusNotLoggedIn {
		t.Fatalf("status = %d", got)
	}
}

func TestLogout_SendsLogoutAndClosesOn101(t *testing.T) {
	e := newEdge(t)
	c, r, ec := loggedIn(t, e, "alice", "s1")
	s := currentSession(c)
	c.Logout()
	ec.expect(protocol.OpLogout)
	ec.send(protocol.Event{Ev: protocol.EvLogout, Ecode: protocol.LogoutUser})
	r.expect("OnLogout", protocol.LogoutUser)
	ec.waitGone()
	waitDone(t, s.done, "session goroutine")
	if got := c.GetStatus(); got != StatusNotLoggedIn {
		t.Fatalf("status = %d", got)
	}

	// The instance can log in again.
	c.Login("app", "alice", "_no_need_token", 0, "")
	ec = e.accept()
	ec.expect(protocol.OpLogin)
	ec.send(protocol.Event{Ev: protocol.EvLoginSuccess, Session: "s2"})
	r.expect("OnLoginSuccess", uint32(0), 0)
}

func TestLogout_BeforeLogin_Fails1003(t *testing.T) {
	c, r := newClient(t, []string{"ws://127.0.0.1:1/ws"})
	c.Logout()
	r.expect("OnError", protocol.OpLogout, protocol.NotLoggedIn, "not logged in")
}

func TestLogout_WhileReconnecting_EndsLocally(t *testing.T) {
	e := newEdge(t)
	c, r, ec := loggedIn(t, e, "alice", "s1")
	s := currentSession(c)
	ec.drop()
	r.expect("OnReconnecting", uint32(1))
	ec2 := e.accept()
	ec2.expect(protocol.OpResume) // left unanswered: still reconnecting
	c.SetAttr("k", "v")           // queued, and failed when the session ends
	c.Logout()
	r.expect("OnError", protocol.OpSetAttr, protocol.GeneralFailed, "not sent: the session ended")
	r.expect("OnLogout", protocol.LogoutUser)
	waitDone(t, s.done, "session goroutine")
	if got := c.GetStatus(); got != StatusNotLoggedIn {
		t.Fatalf("status = %d", got)
	}
	// Best effort: the edge that got the resume is told to log out.
	ec2.expect(protocol.OpLogout)
	ec2.waitGone()
}

func TestLogout_WhileLoggingIn_CancelsLogin(t *testing.T) {
	e := newEdge(t)
	c, r := newClient(t, []string{e.url})
	c.Login("app", "alice", "_no_need_token", 0, "")
	ec := e.accept()
	ec.expect(protocol.OpLogin)
	c.Logout()
	r.expect("OnLoginFailed", protocol.LoginCancel)
	ec.expect(protocol.OpLogout)
	ec.waitGone()
}

func TestKicked_EndsWithoutReconnecting(t *testing.T) {
	e := newEdge(t)
	c, r, ec := loggedIn(t, e, "alice", "s1")
	s := currentSession(c)
	ec.send(protocol.Event{Ev: protocol.EvLogout, Ecode: protocol.LogoutKicked})
	ec.drop() // the edge closes after a kick
	r.expect("OnLogout", protocol.LogoutKicked)
	waitDone(t, s.done, "session goroutine")
	if got := c.GetStatus(); got != StatusNotLoggedIn {
		t.Fatalf("status = %d", got)
	}
	// The session goroutine is gone without having dialed again.
	if n := e.accepted.Load(); n != 1 {
		t.Fatalf("%d connections, want 1: the client reconnected after a kick", n)
	}
	select {
	case c := <-r.calls:
		t.Fatalf("callback after the kick: %v", c)
	default:
	}
}

func TestLogin_RightAfterLogout_StartsANewSession(t *testing.T) {
	e := newEdge(t)
	c, r, ec := loggedIn(t, e, "alice", "s1")
	c.Logout()
	c.Login("app", "alice", "_no_need_token", 0, "") // no wait for onLogout(101)
	r.expect("OnLogout", protocol.LogoutUser)
	ec.expect(protocol.OpLogout)
	ec.waitGone()
	ec2 := e.accept()
	ec2.expect(protocol.OpLogin)
	ec2.send(protocol.Event{Ev: protocol.EvLoginSuccess, Session: "s2"})
	r.expect("OnLoginSuccess", uint32(0), 0)
}
