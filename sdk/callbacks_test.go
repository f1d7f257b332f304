package sdk

import (
	"fmt"
	"testing"
	"time"

	"github.com/switchboard-io/switchboard/protocol"
)

func TestCallbacks_InOrderOnOneGoroutine_SlowCallbackDoesNotBlockReader(t *testing.T) {
	e := newEdge(t)
	c, r := newClient(t, []string{e.url})
	release := make(chan struct{})
	blocked := make(chan struct{})
	r.hook = func(cl call) {
		if cl.name == "OnMessageInstantReceive" && cl.args[2] == "m0" {
			close(blocked)
			<-release // a callback that takes its time
		}
	}
	c.Login("app", "alice", "_no_need_token", 0, "")
	ec := e.accept()
	ec.expect(protocol.OpLogin)
	ec.send(protocol.Event{Ev: protocol.EvLoginSuccess, Session: "s1"})

	const n = 50
	for i := range n {
		ec.send(protocol.Event{Ev: protocol.EvMessageInstantReceive, Account: "bob", Msg: fmt.Sprintf("m%d", i)})
	}
	<-blocked
	// The callback goroutine is stuck in m0, yet the reader still answers a
	// frame that asks for an acknowledgement.
	ec.send(protocol.Event{Ev: protocol.EvMessageInstantReceive, Account: "bob", Msg: "last", Ack: true})
	if ack := ec.expect(protocol.OpAck); ack.N != n+1 {
		t.Fatalf("ack n = %d, want %d", ack.N, n+1)
	}
	close(release)

	first := r.expect("OnLoginSuccess", uint32(0), 0)
	for i := range n {
		cl := r.expect("OnMessageInstantReceive", "bob", uint32(0), fmt.Sprintf("m%d", i))
		if cl.gid != first.gid {
			t.Fatalf("callback %d on goroutine %d, first on %d", i, cl.gid, first.gid)
		}
	}
	r.expect("OnMessageInstantReceive", "bob", uint32(0), "last")
}

func TestCallbacks_EveryEventReachesItsCallback(t *testing.T) {
	e := newEdge(t)
	_, r, ec := loggedIn(t, e, "alice", "s1")
	cases := []struct {
		ev   protocol.Event
		want string
	}{
		{protocol.Event{Ev: protocol.EvError, Name: "setAttr", Ecode: 1004, Desc: "bad"}, "OnError[setAttr 1004 bad]"},
		{protocol.Event{Ev: protocol.EvInvokeRet, CallID: "c1", Resp: "{}"}, "OnInvokeRet[c1  {}]"},
		{protocol.Event{Ev: protocol.EvUserAttrResult, Account: "bob", Name: "k", Value: "v"}, "OnUserAttrResult[bob k v]"},
		{protocol.Event{Ev: protocol.EvUserAttrAllResult, Account: "bob", Value: `{"k":"v"}`}, `OnUserAttrAllResult[bob {"k":"v"}]`},
		{protocol.Event{Ev: protocol.EvMessageSendSuccess, MessageID: "m1"}, "OnMessageSendSuccess[m1]"},
		{protocol.Event{Ev: protocol.EvMessageSendError, MessageID: "m2", Ecode: 400}, "OnMessageSendError[m2 400]"},
		{protocol.Event{Ev: protocol.EvMessageChannelReceive, ChannelID: "room", Account: "bob", Msg: "hi"}, "OnMessageChannelReceive[room bob 0 hi]"},
		{protocol.Event{Ev: protocol.EvChannelJoined, ChannelID: "room"}, "OnChannelJoined[room]"},
		{protocol.Event{Ev: protocol.EvChannelJoinFailed, ChannelID: "x", Ecode: 300}, "OnChannelJoinFailed[x 300]"},
		{protocol.Event{Ev: protocol.EvChannelLeaved, ChannelID: "room", Ecode: 602}, "OnChannelLeaved[room 602]"},
		{protocol.Event{Ev: protocol.EvChannelUserJoined, ChannelID: "room", Account: "bob"}, "OnChannelUserJoined[bob 0]"},
		{protocol.Event{Ev: protocol.EvChannelUserLeaved, ChannelID: "room", Account: "bob"}, "OnChannelUserLeaved[bob 0]"},
		{protocol.Event{Ev: protocol.EvChannelUserList, ChannelID: "room", N: 2, Accounts: []string{"bob", "alice"}}, "OnChannelUserList[2 [bob alice] [0 0]]"},
		{protocol.Event{Ev: protocol.EvChannelQueryUserNumResult, ChannelID: "room", Num: 3}, "OnChannelQueryUserNumResult[room 0 3]"},
		{protocol.Event{Ev: protocol.EvChannelQueryUserIsIn, ChannelID: "room", Account: "bob", IsIn: 1}, "OnChannelQueryUserIsIn[room bob 1]"},
		{protocol.Event{Ev: protocol.EvChannelAttrUpdated, ChannelID: "room", Name: "k", Value: "v", Type: "update"}, "OnChannelAttrUpdated[room k v update]"},
		{protocol.Event{Ev: protocol.EvInviteReceived, ChannelID: "room", Account: "bob", Extra: "{}"}, "OnInviteReceived[room bob 0 {}]"},
		{protocol.Event{Ev: protocol.EvInviteReceivedByPeer, ChannelID: "room", Account: "bob"}, "OnInviteReceivedByPeer[room bob 0]"},
		{protocol.Event{Ev: protocol.EvInviteAcceptedByPeer, ChannelID: "room", Account: "bob", Extra: "a"}, "OnInviteAcceptedByPeer[room bob 0 a]"},
		{protocol.Event{Ev: protocol.EvInviteRefusedByPeer, ChannelID: "room", Account: "bob", Extra: "r"}, "OnInviteRefusedByPeer[room bob 0 r]"},
		{protocol.Event{Ev: protocol.EvInviteFailed, ChannelID: "room", Account: "bob", Ecode: 703}, "OnInviteFailed[room bob 0 703 ]"},
		{protocol.Event{Ev: protocol.EvInviteEndByPeer, ChannelID: "room", Account: "bob", Extra: "e"}, "OnInviteEndByPeer[room bob 0 e]"},
		{protocol.Event{Ev: protocol.EvInviteEndByMyself, ChannelID: "room", Account: "bob"}, "OnInviteEndByMyself[room bob 0]"},
		{protocol.Event{Ev: protocol.EvInviteMsg, ChannelID: "room", Account: "bob", MsgType: "dtmf", MsgData: "1"}, "OnInviteMsg[room bob 0 dtmf 1 ]"},
		{protocol.Event{Ev: "onSomethingNew"}, ""}, // unknown: no callback
		{protocol.Event{Ev: protocol.EvQueryUserStatusResult, Name: "bob", Status: "0"}, "OnQueryUserStatusResult[bob 0]"},
	}
	for _, tc := range cases {
		ec.send(tc.ev)
		if tc.want == "" {
			continue
		}
		if got := r.next().String(); got != tc.want {
			t.Errorf("%s: callback %s, want %s", tc.ev.Ev, got, tc.want)
		}
	}
}

// channelRecorder also implements ChannelUserCallback.
type channelRecorder struct{ *recorder }

func (r channelRecorder) OnChannelUserJoinedIn(channelID, account string, uid uint32) {
	r.add("OnChannelUserJoinedIn", channelID, account, uid)
}
func (r channelRecorder) OnChannelUserLeavedIn(channelID, account string, uid uint32) {
	r.add("OnChannelUserLeavedIn", channelID, account, uid)
}
func (r channelRecorder) OnChannelUserListIn(channelID string, n int, accounts []string, uids []uint32) {
	r.add("OnChannelUserListIn", channelID, n, accounts, uids)
}

func TestChannelUserCallback_ReplacesTheChannelLessCallbacks(t *testing.T) {
	e := newEdge(t)
	c, r, ec := loggedIn(t, e, "alice", "s1")
	c.CallbackSet(channelRecorder{r})
	ec.send(protocol.Event{Ev: protocol.EvChannelUserList, ChannelID: "room", N: 1, Accounts: []string{"bob"}, Uids: []uint32{0}})
	ec.send(protocol.Event{Ev: protocol.EvChannelUserJoined, ChannelID: "room", Account: "carol"})
	ec.send(protocol.Event{Ev: protocol.EvChannelUserLeaved, ChannelID: "room", Account: "bob"})
	r.expect("OnChannelUserListIn", "room", 1, []string{"bob"}, []uint32{0})
	r.expect("OnChannelUserJoinedIn", "room", "carol", uint32(0))
	r.expect("OnChannelUserLeavedIn", "room", "bob", uint32(0))
}

// onlyLogin overrides one callback and inherits the rest from NoopCallback.
type onlyLogin struct {
	NoopCallback
	uids chan uint32
}

func (o onlyLogin) OnLoginSuccess(uid uint32, fd int) { o.uids <- uid }

func TestNoopCallback_IsEmbeddable(t *testing.T) {
	e := newEdge(t)
	c, _ := newClient(t, []string{e.url})
	cb := onlyLogin{uids: make(chan uint32, 1)}
	c.CallbackSet(cb)
	c.Login("app", "alice", "_no_need_token", 0, "")
	ec := e.accept()
	ec.expect(protocol.OpLogin)
	ec.send(protocol.Event{Ev: protocol.EvMessageInstantReceive, Account: "bob"}) // before login: NoopCallback's
	ec.send(protocol.Event{Ev: protocol.EvLoginSuccess, Session: "s1", UID: 3})
	select {
	case uid := <-cb.uids:
		if uid != 3 {
			t.Fatalf("uid = %d", uid)
		}
	case <-time.After(wait):
		t.Fatal("no OnLoginSuccess")
	}
	if c.CallbackGet() == nil {
		t.Fatal("CallbackGet returned nil")
	}
	c.CallbackSet(nil)
	if c.CallbackGet() != nil {
		t.Fatal("CallbackGet after CallbackSet(nil) is not nil")
	}
}
