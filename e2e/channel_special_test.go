package e2e_test

import (
	"testing"

	"github.com/switchboard-io/switchboard/handlers"
	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
)

func TestUserOnline_MembersSeeEveryLoginAndLogoutOnEveryEdge(t *testing.T) {
	env := chanEnv(t)
	const ch = handlers.ChannelUserOnline
	w0 := env.LoginUser(t, 0, "watcher0")
	w1 := env.LoginUser(t, 1, "watcher1")
	chJoin(t, w0, ch)
	chJoin(t, w1, ch)

	x := env.LoginUser(t, 1, "xavier")
	y := env.LoginUser(t, 0, "yvonne")
	for _, w := range []*testenv.User{w0, w1} {
		w.Wait(t, protocol.EvChannelUserJoined, testenv.Channel(ch), testenv.Account("xavier"))
		w.Wait(t, protocol.EvChannelUserJoined, testenv.Channel(ch), testenv.Account("yvonne"))
	}
	x.Logout()
	x.Wait(t, protocol.EvLogout)
	for _, w := range []*testenv.User{w0, w1} {
		w.Wait(t, protocol.EvChannelUserLeaved, testenv.Channel(ch), testenv.Account("xavier"))
	}
	// Joining the feed is not a login: the other listener was not told.
	if n := w0.Count(protocol.EvChannelUserJoined, testenv.Account("watcher1")); n != 0 {
		t.Fatalf("watcher0 was told watcher1 joined the feed %d times", n)
	}
	// After leaving the feed, logins are news no more.
	w0.ChannelLeave(ch)
	w0.Wait(t, protocol.EvChannelLeaved, testenv.Channel(ch))
	env.LoginUser(t, 1, "zach")
	w1.Wait(t, protocol.EvChannelUserJoined, testenv.Channel(ch), testenv.Account("zach"))
	y.MessageInstantSend("watcher0", 0, "marker", "mk")
	w0.Wait(t, protocol.EvMessageInstantReceive, testenv.Msg("marker"))
	if n := w0.Count(protocol.EvChannelUserJoined, testenv.Account("zach")); n != 0 {
		t.Fatal("a login reached a user who left the feed")
	}
	if n := env.Edges[0].Edge.Stats().Channels; n != 0 {
		t.Fatalf("edge 0 follows %d channels with no member left", n)
	}
}

func TestChannelEvent_MembersSeeEveryJoinAndLeaveAsMessages(t *testing.T) {
	env := chanEnv(t)
	const ch = handlers.ChannelChannelEvent
	w := env.LoginUser(t, 0, "watcher")
	chJoin(t, w, ch)
	x := env.LoginUser(t, 1, "xavier")
	chJoin(t, x, "room")
	x.ChannelLeave("room")
	x.Wait(t, protocol.EvChannelLeaved)

	join := w.Wait(t, protocol.EvMessageChannelReceive, testenv.Channel(ch), testenv.Account("xavier"))
	if jsonField(join.Msg, "event") != "join" || jsonField(join.Msg, "channel") != "room" || jsonField(join.Msg, "account") != "xavier" {
		t.Fatalf("join event = %s", join.Msg)
	}
	leave := w.Wait(t, protocol.EvMessageChannelReceive, testenv.Channel(ch), testenv.Account("xavier"))
	if jsonField(leave.Msg, "event") != "leave" || jsonField(leave.Msg, "channel") != "room" || jsonField(leave.Msg, "ecode") != "602" {
		t.Fatalf("leave event = %s", leave.Msg)
	}
	// A logout's leaves are events too, with their reason.
	chJoin(t, x, "hall")
	w.Wait(t, protocol.EvMessageChannelReceive, func(e protocol.Event) bool { return jsonField(e.Msg, "channel") == "hall" })
	x.Logout()
	out := w.Wait(t, protocol.EvMessageChannelReceive, func(e protocol.Event) bool {
		return jsonField(e.Msg, "channel") == "hall" && jsonField(e.Msg, "event") == "leave"
	})
	if jsonField(out.Msg, "ecode") != "603" {
		t.Fatalf("a logout's leave = %s, want ecode 603", out.Msg)
	}
}

func TestSpecialChannels_CarryNoMessagesOrAttributes(t *testing.T) {
	env := chanEnv(t)
	a := env.LoginUser(t, 0, "a")
	b := env.LoginUser(t, 1, "b")
	for _, ch := range []string{handlers.ChannelUserOnline, handlers.ChannelChannelEvent} {
		list := chJoin(t, a, ch)
		if list.N != 1 {
			t.Fatalf("%s user list = %+v", ch, list)
		}
		chJoin(t, b, ch)
		a.MessageChannelSend(ch, "spoof", "s-"+ch)
		a.Wait(t, protocol.EvMessageSendError, testenv.MsgID("s-"+ch), testenv.Code(protocol.SendMessageOther))
		a.MessageChannelSendForce(ch, "spoof", "f-"+ch)
		a.Wait(t, protocol.EvMessageSendError, testenv.MsgID("f-"+ch), testenv.Code(protocol.SendMessageOther))
		for _, set := range []func(){
			func() { a.ChannelSetAttr(ch, "_channel_ttl", "1") },
			func() { a.ChannelSetAttr(ch, "topic", "x") },
			func() { a.ChannelDelAttr(ch, "topic") },
			func() { a.ChannelClearAttr(ch) },
		} {
			set()
			a.Wait(t, protocol.EvError, testenv.Code(protocol.GeneralFailed))
		}
		b.ChannelQueryUserNum(ch)
		if got := b.Wait(t, protocol.EvChannelQueryUserNumResult, testenv.Channel(ch)); got.Num != 2 {
			t.Fatalf("%s members = %+v", ch, got)
		}
		a.ChannelLeave(ch)
		a.Wait(t, protocol.EvChannelLeaved, testenv.Channel(ch))
		b.ChannelLeave(ch)
		b.Wait(t, protocol.EvChannelLeaved, testenv.Channel(ch))
	}
	if n := b.Count(protocol.EvMessageChannelReceive, testenv.Msg("spoof")); n != 0 {
		t.Fatal("a message to a special channel was delivered")
	}
}
