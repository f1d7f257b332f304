package sdk

import (
	"strings"
	"testing"
	"time"

	"github.com/switchboard-io/switchboard/protocol"
)

func TestRequest_BeforeLogin_Fails1003Locally(t *testing.T) {
	c, r := newClient(t, []string{"ws://127.0.0.1:1/ws"})
	c.ChannelJoin("room")
	r.expect("OnChannelJoinFailed", "room", protocol.NotLoggedIn)
	c.SetAttr("k", "v")
	r.expect("OnError", protocol.OpSetAttr, protocol.NotLoggedIn, "not logged in")
	c.MessageInstantSend("bob", 0, "hi", "")
	cl := r.expect("OnMessageSendError")
	if id := cl.args[0].(string); id == "" || cl.args[1] != protocol.NotLoggedIn {
		t.Fatalf("callback %v: want a generated ID and 1003", cl)
	}
	c.Invoke("io.agora.signal.user_query_user_status", `{"account":"bob"}`, "call1")
	r.expect("OnInvokeRet", "call1", "1003", `{"desc":"not logged in"}`)
	c.ChannelInviteUser2("room", "bob", "{}")
	r.expect("OnInviteFailed", "room", "bob", uint32(0), protocol.NotLoggedIn, "{}")
	c.ChannelQueryUserNum("room")
	r.expect("OnChannelQueryUserNumResult", "room", protocol.NotLoggedIn, 0)
}

func TestRequest_Oversize_Fails1005Locally(t *testing.T) {
	e := newEdge(t)
	c, r, ec := loggedIn(t, e, "alice", "s1")
	big := strings.Repeat("x", maxFrame)
	c.MessageInstantSend("bob", 0, big, "big1")
	r.expect("OnMessageSendError", "big1", protocol.LargeParam)
	c.SetAttr("k", big)
	r.expect("OnError", protocol.OpSetAttr, protocol.LargeParam, errTooLarge.Msg)
	// Nothing of them reached the edge, and the connection is still up.
	c.GetAttr("k")
	ec.expect(protocol.OpGetAttr)
	if !c.IsOnline() {
		t.Fatal("offline after an oversize request")
	}
}

func TestRequest_EmptyMsgIDIsReplacedBeforeSending(t *testing.T) {
	e := newEdge(t)
	c, r, ec := loggedIn(t, e, "alice", "s1")
	c.MessageInstantSend("bob", 0, "hi", "")
	c.MessageChannelSend("room", "hi", "")
	first := ec.expect(protocol.OpMessageInstantSend)
	second := ec.expect(protocol.OpMessageChannelSend)
	if first.MsgID == "" || second.MsgID == "" || first.MsgID == second.MsgID {
		t.Fatalf("msgIDs %q and %q: want two distinct non-empty IDs", first.MsgID, second.MsgID)
	}
	ec.send(protocol.Event{Ev: protocol.EvMessageSendSuccess, MessageID: first.MsgID})
	r.expect("OnMessageSendSuccess", first.MsgID)
}

func TestRequest_EachMethodSendsItsFrame(t *testing.T) {
	e := newEdge(t)
	c, _, ec := loggedIn(t, e, "alice", "s1")
	cases := []struct {
		call func()
		want protocol.Request
	}{
		{func() { c.QueryUserStatus("bob") }, protocol.Request{Op: "queryUserStatus", Account: "bob"}},
		{func() { c.SetAttr("k", "v") }, protocol.Request{Op: "setAttr", Name: "k", Value: "v"}},
		{func() { c.GetAttr("k") }, protocol.Request{Op: "getAttr", Name: "k"}},
		{func() { c.GetAttrAll() }, protocol.Request{Op: "getAttrAll"}},
		{func() { c.GetUserAttr("bob", "k") }, protocol.Request{Op: "getUserAttr", Account: "bob", Name: "k"}},
		{func() { c.GetUserAttrAll("bob") }, protocol.Request{Op: "getUserAttrAll", Account: "bob"}},
		{func() { c.Invoke("n", "{}", "c1") }, protocol.Request{Op: "invoke", Name: "n", Req: "{}", CallID: "c1"}},
		{func() { c.MessageInstantSend("bob", 1, "hi", "m1") }, protocol.Request{Op: "messageInstantSend", Account: "bob", UID: 1, Msg: "hi", MsgID: "m1"}},
		{func() { c.ChannelJoin("room") }, protocol.Request{Op: "channelJoin", ChannelID: "room"}},
		{func() { c.ChannelLeave("room") }, protocol.Request{Op: "channelLeave", ChannelID: "room"}},
		{func() { c.ChannelQueryUserNum("room") }, protocol.Request{Op: "channelQueryUserNum", ChannelID: "room"}},
		{func() { c.ChannelQueryUserIsIn("room", "bob") }, protocol.Request{Op: "channelQueryUserIsIn", ChannelID: "room", Account: "bob"}},
		{func() { c.ChannelSetAttr("room", "k", "v") }, protocol.Request{Op: "channelSetAttr", ChannelID: "room", Name: "k", Value: "v"}},
		{func() { c.ChannelDelAttr("room", "k") }, protocol.Request{Op: "channelDelAttr", ChannelID: "room", Name: "k"}},
		{func() { c.ChannelClearAttr("room") }, protocol.Request{Op: "channelClearAttr", ChannelID: "room"}},
		{func() { c.MessageChannelSend("room", "hi", "m2") }, protocol.Request{Op: "messageChannelSend", ChannelID: "room", Msg: "hi", MsgID: "m2"}},
		{func() { c.MessageChannelSendForce("room", "hi", "m3") }, protocol.Request{Op: "messageChannelSendForce", ChannelID: "room", Msg: "hi", MsgID: "m3"}},
		{func() { c.ChannelInviteUser("room", "bob", 2) }, protocol.Request{Op: "channelInviteUser", ChannelID: "room", Account: "bob", UID: 2}},
		{func() { c.ChannelInviteUser2("room", "bob", "{}") }, protocol.Request{Op: "channelInviteUser2", ChannelID: "room", Account: "bob", Extra: "{}"}},
		{func() { c.ChannelInviteDTMF("room", "+1", "5") }, protocol.Request{Op: "channelInviteDTMF", ChannelID: "room", PhoneNum: "+1", DTMF: "5"}},
		{func() { c.ChannelInviteAccept("room", "bob", 0, "a") }, protocol.Request{Op: "channelInviteAccept", ChannelID: "room", Account: "bob", Extra: "a"}},
		{func() { c.ChannelInviteRefuse("room", "bob", 0, "r") }, protocol.Request{Op: "channelInviteRefuse", ChannelID: "room", Account: "bob", Extra: "r"}},
		{func() { c.ChannelInviteEnd("room", "bob", 0) }, protocol.Request{Op: "channelInviteEnd", ChannelID: "room", Account: "bob"}},
		{func() { c.MessageDTMFSend(3, "1", "m4") }, protocol.Request{Op: "messageDTMFSend", UID: 3, Msg: "1", MsgID: "m4"}},
		{func() { c.ChannelInvitePhone("room", "+1", 4) }, protocol.Request{Op: "channelInvitePhone", ChannelID: "room", PhoneNum: "+1", UID: 4}},
		{func() { c.ChannelInvitePhone2("room", "+1", "+2") }, protocol.Request{Op: "channelInvitePhone2", ChannelID: "room", PhoneNum: "+1", SourcesNum: "+2"}},
		{func() { c.ChannelInvitePhone3("room", "+1", "+2", "x") }, protocol.Request{Op: "channelInvitePhone3", ChannelID: "room", PhoneNum: "+1", SourcesNum: "+2", Extra: "x"}},
	}
	for _, tc := range cases {
		tc.call()
		if got := ec.next(); got != tc.want {
			t.Errorf("sent %+v, want %+v", got, tc.want)
		}
	}
}

func TestGetSdkVersion(t *testing.T) {
	c, _ := newClient(t, []string{"ws://127.0.0.1:1/ws"})
	if got := c.GetSdkVersion(); got != 1010400000 {
		t.Fatalf("GetSdkVersion = %d, want 1010400000 (1.4.0.0)", got)
	}
}

func TestMessage_WithNoAnswerFails401OnceAndALateAnswerIsDropped(t *testing.T) {
	e := newEdge(t)
	c, r, ec := loggedIn(t, e, "alice", "s1", WithMessageTimeout(100*time.Millisecond))
	c.MessageInstantSend("bob", 0, "into the void", "lost1")
	ec.expect(protocol.OpMessageInstantSend)
	r.expect("OnMessageSendError", "lost1", protocol.SendMessageTimeout)
	// The edge's answer after the SDK gave one is not a second callback.
	ec.send(protocol.Event{Ev: protocol.EvMessageSendSuccess, MessageID: "lost1"})
	c.MessageInstantSend("bob", 0, "answered", "ok1")
	ec.expect(protocol.OpMessageInstantSend)
	ec.send(protocol.Event{Ev: protocol.EvMessageSendSuccess, MessageID: "ok1"})
	r.expect("OnMessageSendSuccess", "ok1")
}
