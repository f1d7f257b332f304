package sdk

import (
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-io/switchboard/protocol"
)

func TestReconnect_ResumesOnNextEdgeWithSessionAndCount(t *testing.T) {
	e1, e2 := newEdge(t), newEdge(t)
	c, r := newClient(t, []string{e1.url, e2.url})
	c.Login("app", "alice", "_no_need_token", 0, "")
	ec := e1.accept()
	ec.expect(protocol.OpLogin)
	ec.send(protocol.Event{Ev: protocol.EvLoginSuccess, Session: "s1"})
	r.expect("OnLoginSuccess", uint32(0), 0)
	for range 5 {
		ec.send(protocol.Event{Ev: protocol.EvMessageChannelReceive, ChannelID: "room", Account: "bob", Msg: "x"})
	}
	for range 5 {
		r.expect("OnMessageChannelReceive")
	}

	ec.drop()
	r.expect("OnReconnecting", uint32(1))
	if got := c.GetStatus(); got != StatusReconnecting {
		t.Fatalf("status = %d, want %d", got, StatusReconnecting)
	}
	// Requests made now wait for the resume, and keep their order.
	c.SetAttr("a", "1")
	c.SetAttr("b", "2")

	ec2 := e2.accept() // round-robin: the next URL
	resume := ec2.expect(protocol.OpResume)
	if resume.Session != "s1" || resume.N != 5 {
		t.Fatalf("resume = %+v, want session s1 n 5", resume)
	}
	ec2.send(protocol.Event{Ev: protocol.EvReconnected})
	r.expect("OnReconnected", 0)
	if got := ec2.expect(protocol.OpSetAttr); got.Name != "a" {
		t.Fatalf("first queued request %+v", got)
	}
	if got := ec2.expect(protocol.OpSetAttr); got.Name != "b" {
		t.Fatalf("second queued request %+v", got)
	}
	if !c.IsOnline() {
		t.Fatalf("status = %d after resume", c.GetStatus())
	}

	// The count carries over the resume: replayed and new frames add to it.
	ec2.send(protocol.Event{Ev: protocol.EvMessageInstantReceive, Account: "bob", Msg: "again", Ack: true})
	if ack := ec2.expect(protocol.OpAck); ack.N != 6 {
		t.Fatalf("ack n = %d, want 6", ack.N)
	}
}

func TestReconnect_ResumeFailed_LogsInAgainAndRejoins(t *testing.T) {
	e := newEdge(t)
	c, r, ec := loggedIn(t, e, "alice", "s1")
	for _, ch := range []string{"room", "lobby", "hall"} {
		c.ChannelJoin(ch)
		ec.expect(protocol.OpChannelJoin)
		ec.send(protocol.Event{Ev: protocol.EvChannelJoined, ChannelID: ch})
		r.expect("OnChannelJoined", ch)
	}
	c.ChannelLeave("lobby")
	ec.expect(protocol.OpChannelLeave)
	ec.send(protocol.Event{Ev: protocol.EvChannelLeaved, ChannelID: "lobby", Ecode: protocol.LeaveChannelByUser})
	r.expect("OnChannelLeaved", "lobby", protocol.LeaveChannelByUser)

	ec.drop()
	r.expect("OnReconnecting", uint32(1))
	c.MessageChannelSend("room", "queued", "q1")
	ec2 := e.accept()
	if resume := ec2.expect(protocol.OpResume); resume.Session != "s1" || resume.N != 4 {
		t.Fatalf("resume = %+v, want session s1 n 4", resume)
	}
	ec2.send(protocol.Event{Ev: protocol.EvResumeFailed})
	login := ec2.expect(protocol.OpLogin)
	if login.Account != "alice" || login.Token != "_no_need_token" || login.AppID != "app" {
		t.Fatalf("re-login = %+v", login)
	}
	ec2.send(protocol.Event{Ev: protocol.EvLoginSuccess, Session: "s2"})
	r.expect("OnReconnected", 0)
	// Joins first, in join order, then what was queued.
	if j := ec2.expect(protocol.OpChannelJoin); j.ChannelID != "room" {
		t.Fatalf("first re-join %+v", j)
	}
	if j := ec2.expect(protocol.OpChannelJoin); j.ChannelID != "hall" {
		t.Fatalf("second re-join %+v", j)
	}
	if m := ec2.expect(protocol.OpMessageChannelSend); m.MsgID != "q1" {
		t.Fatalf("queued message %+v", m)
	}
	ec2.send(protocol.Event{Ev: protocol.EvChannelJoined, ChannelID: "room"})
	r.expect("OnChannelJoined", "room")

	// The next resume names the new session, counted from its login.
	ec2.drop()
	r.expect("OnReconnecting", uint32(1))
	ec3 := e.accept()
	if resume := ec3.expect(protocol.OpResume); resume.Session != "s2" || resume.N != 1 {
		t.Fatalf("resume = %+v, want session s2 n 1", resume)
	}
}

func TestReconnect_ReloginFails_Logout102(t *testing.T) {
	e := newEdge(t)
	c, r, ec := loggedIn(t, e, "alice", "s1")
	ec.drop()
	r.expect("OnReconnecting", uint32(1))
	ec2 := e.accept()
	ec2.expect(protocol.OpResume)
	ec2.send(protocol.Event{Ev: protocol.EvResumeFailed})
	ec2.expect(protocol.OpLogin)
	ec2.send(protocol.Event{Ev: protocol.EvLoginFailed, Ecode: protocol.LoginTokenExpired})
	r.expect("OnLogout", protocol.LogoutNet)
	if got := c.GetStatus(); got != StatusNotLoggedIn {
		t.Fatalf("status = %d", got)
	}
}

func TestReconnect_BudgetSpent_Logout102(t *testing.T) {
	e := newEdge(t)
	c, r := newClient(t, []string{e.url})
	c.Login2("app", "alice", "_no_need_token", 0, "", 30, 2)
	ec := e.accept()
	ec.expect(protocol.OpLogin2)
	ec.send(protocol.Event{Ev: protocol.EvLoginSuccess, Session: "s1"})
	r.expect("OnLoginSuccess", uint32(0), 0)

	ec.drop()
	// Each attempt reaches the edge, which drops it before answering.
	for n := uint32(1); n <= 2; n++ {
		r.expect("OnReconnecting", n)
		ecn := e.accept()
		ecn.expect(protocol.OpResume)
		ecn.drop()
	}
	r.expect("OnLogout", protocol.LogoutNet)
	if got := c.GetStatus(); got != StatusNotLoggedIn {
		t.Fatalf("status = %d", got)
	}
}

func TestReconnect_SilentEdgeIsALostConnection(t *testing.T) {
	e := newEdge(t)
	e.ping.Store(200) // 600 ms of silence is a lost connection
	_, r, ec := loggedIn(t, e, "alice", "s1")
	// The edge neither pings nor sends: the client gives up on it.
	r.expect("OnReconnecting", uint32(1))
	ec.waitGone()
	ec2 := e.accept()
	ec2.expect(protocol.OpResume)
	ec2.send(protocol.Event{Ev: protocol.EvReconnected})
	r.expect("OnReconnected", 0)
}

func TestReconnect_PingsKeepTheConnection(t *testing.T) {
	e := newEdge(t)
	e.ping.Store(200) // 600 ms without a frame or ping would be a lost connection
	c, r, ec := loggedIn(t, e, "alice", "s1")
	pongs := make(chan struct{}, 100)
	ec.ws.SetPongHandler(func(string) error { pongs <- struct{}{}; return nil })
	// Pings alone, every 100 ms for well over 600 ms, keep it alive, and
	// each gets a pong. The ticker paces the pings; it synchronises nothing.
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for range 12 {
		<-tick.C
		if err := ec.ws.WriteControl(websocket.PingMessage, []byte("p"), time.Now().Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		select {
		case <-pongs:
		case <-ec.gone:
			t.Fatal("client closed a pinged connection")
		case <-time.After(wait):
			t.Fatal("no pong")
		}
	}
	if !c.IsOnline() {
		t.Fatal("client went offline while pinged")
	}
	select {
	case cl := <-r.calls:
		t.Fatalf("callback %v", cl)
	default:
	}
}

func TestMove_ReconnectsToTheURLAndResumes(t *testing.T) {
	e1, e2 := newEdge(t), newEdge(t)
	_, r, ec := loggedIn(t, e1, "alice", "s1")
	ec.send(protocol.Event{Ev: protocol.EvMessageInstantReceive, Account: "bob", Msg: "hi"})
	r.expect("OnMessageInstantReceive")
	ec.send(protocol.Event{Ev: protocol.EvMove, URL: e2.url})
	r.expect("OnReconnecting", uint32(1))
	ec.waitGone()
	ec2 := e2.accept()
	if resume := ec2.expect(protocol.OpResume); resume.Session != "s1" || resume.N != 1 {
		t.Fatalf("resume = %+v", resume)
	}
	ec2.send(protocol.Event{Ev: protocol.EvReconnected})
	r.expect("OnReconnected", 0)
}

func TestReconnect_QueueFull_Fails1001(t *testing.T) {
	e := newEdge(t)
	c, r, ec := loggedIn(t, e, "alice", "s1")
	ec.drop()
	r.expect("OnReconnecting", uint32(1))
	ec2 := e.accept()
	ec2.expect(protocol.OpResume)
	for range maxPending {
		c.SetAttr("k", "v")
	}
	c.SetAttr("k", "over")
	c.MessageInstantSend("bob", 0, "over", "m-over")
	r.expect("OnError", protocol.OpSetAttr, protocol.GeneralFailed, "not sent: too many requests while reconnecting")
	r.expect("OnMessageSendError", "m-over", protocol.GeneralFailed)
	ec2.send(protocol.Event{Ev: protocol.EvReconnected})
	r.expect("OnReconnected", 0)
	for range maxPending {
		if got := ec2.expect(protocol.OpSetAttr); got.Value != "v" {
			t.Fatalf("queued %+v", got)
		}
	}
}

// relogin makes ec's client lose ec and log in afresh on the next connection
// as session, which it returns.
func relogin(t *testing.T, e *edge, r *recorder, ec *edgeConn, session string) *edgeConn {
	t.Helper()
	ec.drop()
	r.expect("OnReconnecting", uint32(1))
	next := e.accept()
	next.expect(protocol.OpResume)
	next.send(protocol.Event{Ev: protocol.EvResumeFailed})
	next.expect(protocol.OpLogin)
	next.send(protocol.Event{Ev: protocol.EvLoginSuccess, Session: session})
	r.expect("OnReconnected", 0)
	return next
}

func TestReconnect_FailedRejoinIsForgotten_FailedJoinIsNot(t *testing.T) {
	e := newEdge(t)
	c, r, ec := loggedIn(t, e, "alice", "s1")
	for _, ch := range []string{"room", "hall"} {
		c.ChannelJoin(ch)
		ec.expect(protocol.OpChannelJoin)
		ec.send(protocol.Event{Ev: protocol.EvChannelJoined, ChannelID: ch})
		r.expect("OnChannelJoined", ch)
	}
	// Joining a channel it is in fails, and the user is still in it.
	c.ChannelJoin("room")
	ec.expect(protocol.OpChannelJoin)
	ec.send(protocol.Event{Ev: protocol.EvChannelJoinFailed, ChannelID: "room", Ecode: protocol.JoinChannelOther})
	r.expect("OnChannelJoinFailed", "room", protocol.JoinChannelOther)

	ec = relogin(t, e, r, ec, "s2")
	ec.expect(protocol.OpChannelJoin) // room
	ec.expect(protocol.OpChannelJoin) // hall
	ec.send(protocol.Event{Ev: protocol.EvChannelJoined, ChannelID: "room"})
	ec.send(protocol.Event{Ev: protocol.EvChannelJoinFailed, ChannelID: "hall", Ecode: protocol.JoinChannelOther})
	r.expect("OnChannelJoined", "room")
	r.expect("OnChannelJoinFailed", "hall", protocol.JoinChannelOther)

	// Next time only room is joined again.
	ec = relogin(t, e, r, ec, "s3")
	if j := ec.expect(protocol.OpChannelJoin); j.ChannelID != "room" {
		t.Fatalf("re-join %+v", j)
	}
	c.GetAttrAll()
	ec.expect(protocol.OpGetAttrAll)
}
