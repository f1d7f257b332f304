package sdk

import (
	"testing"

	"github.com/switchboard-io/switchboard/protocol"
)

func TestClients_TwoInOneProcessAreIndependent(t *testing.T) {
	e := newEdge(t)
	alice, ra, eca := loggedIn(t, e, "alice", "sa")
	bob, rb, ecb := loggedIn(t, e, "bob", "sb")

	eca.send(protocol.Event{Ev: protocol.EvMessageInstantReceive, Account: "bob", Msg: "to alice"})
	ecb.send(protocol.Event{Ev: protocol.EvMessageInstantReceive, Account: "alice", Msg: "to bob"})
	ra.expect("OnMessageInstantReceive", "bob", uint32(0), "to alice")
	rb.expect("OnMessageInstantReceive", "alice", uint32(0), "to bob")

	// One losing its connection does not disturb the other.
	eca.drop()
	ra.expect("OnReconnecting", uint32(1))
	bob.QueryUserStatus("alice")
	ecb.expect(protocol.OpQueryUserStatus)
	if !bob.IsOnline() || alice.IsOnline() {
		t.Fatalf("statuses alice %d bob %d", alice.GetStatus(), bob.GetStatus())
	}

	// Nor does one being destroyed.
	alice.Destroy()
	ecb.send(protocol.Event{Ev: protocol.EvQueryUserStatusResult, Name: "alice", Status: "0"})
	rb.expect("OnQueryUserStatusResult", "alice", "0")
	select {
	case cl := <-rb.calls:
		t.Fatalf("unexpected callback %v", cl)
	default:
	}
}

func TestGetAgoraSDKInstance_ReturnsTheSharedInstance(t *testing.T) {
	a := GetAgoraSDKInstance("app")
	b := GetAgoraSDKInstance("other")
	if a != b {
		t.Fatal("two shared instances")
	}
	if c := CreateAgoraSDKInstance("app"); c == a {
		t.Fatal("CreateAgoraSDKInstance returned the shared instance")
	} else {
		c.Destroy()
	}
	a.Destroy()
	if c := GetAgoraSDKInstance("app"); c == a {
		t.Fatal("the destroyed shared instance was returned again")
	} else {
		c.Destroy()
	}
}

func TestDestroy_LogsOutAndStopsEveryGoroutine(t *testing.T) {
	e := newEdge(t)
	c, r, ec := loggedIn(t, e, "alice", "s1")
	s := currentSession(c)
	c.Destroy()
	waitDone(t, s.done, "session goroutine")
	waitDone(t, c.disp.done, "dispatcher")
	if n := c.live.Load(); n != 0 {
		t.Fatalf("%d goroutines still running after Destroy", n)
	}
	ec.expect(protocol.OpLogout)
	ec.waitGone()
	if got := c.GetStatus(); got != StatusNotLoggedIn {
		t.Fatalf("status = %d", got)
	}
	// Calls on a destroyed instance do nothing.
	c.Login("app", "alice", "_no_need_token", 0, "")
	c.SetAttr("k", "v")
	c.Destroy()
	select {
	case cl := <-r.calls:
		t.Fatalf("callback after Destroy: %v", cl)
	default:
	}
}

func TestDestroy_FromACallback(t *testing.T) {
	e := newEdge(t)
	c, r := newClient(t, []string{e.url})
	destroyed := make(chan struct{})
	r.hook = func(cl call) {
		if cl.name == "OnLoginSuccess" {
			c.Destroy() // must not deadlock on its own callback goroutine
			close(destroyed)
		}
	}
	c.Login("app", "alice", "_no_need_token", 0, "")
	ec := e.accept()
	ec.expect(protocol.OpLogin)
	ec.send(protocol.Event{Ev: protocol.EvLoginSuccess, Session: "s1"})
	waitDone(t, destroyed, "Destroy called from a callback")
	waitDone(t, c.disp.done, "dispatcher")
	if n := c.live.Load(); n != 0 {
		t.Fatalf("%d goroutines still running after Destroy", n)
	}
}
