package e2e_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
)

func TestRateLimit_PerUser60PerSecond(t *testing.T) {
	env := chanEnv(t)
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 1, "bob")
	carol := env.LoginUser(t, 0, "carol")
	for _, u := range []*testenv.User{alice, bob, carol} {
		chJoin(t, u, "room")
	}
	// A bucket of 60 that refills at 60 a second: of a burst that takes
	// took, 60 to 60 + 60·took pass and the rest are refused.
	ok, errs, took := burst(t, alice, "room", "u", 200)
	if len(ok) < 60 || float64(len(ok)) > 61+60*took.Seconds() || len(ok)+len(errs) != 200 {
		t.Fatalf("%d of 200 messages in %v went through and %d failed, want 60 to %.0f through", len(ok), took, len(errs), 60+60*took.Seconds())
	}
	for id, code := range errs {
		if code != protocol.SendMessageOther {
			t.Fatalf("%s failed with %d, want 400", id, code)
		}
	}
	// carol's message comes from the same edge after alice's: once bob has
	// it, he has every one of alice's that was sent.
	carol.MessageChannelSend("room", "marker", "mk")
	bob.Wait(t, protocol.EvMessageChannelReceive, testenv.Msg("marker"))
	got := map[string]bool{}
	for _, e := range chEvents(bob, "room", protocol.EvMessageChannelReceive) {
		if e.Account == "alice" {
			got[e.Msg] = true
		}
	}
	if !mapsEqual(got, ok) {
		t.Fatalf("bob got %d of alice's messages, %d went through: got %v", len(got), len(ok), sortedKeys(got))
	}
}

// burst sends n messages to ch from u, as fast as it can, and sorts their
// outcomes: the IDs that went through, and the codes of those that failed.
func burst(t *testing.T, u *testenv.User, ch, prefix string, n int) (ok map[string]bool, failed map[string]int, took time.Duration) {
	t.Helper()
	start := time.Now()
	for i := 0; i < n; i++ {
		id := prefix + strconv.Itoa(i)
		u.MessageChannelSend(ch, id, id)
	}
	eventually(t, func() (bool, string) {
		ok, failed = map[string]bool{}, map[string]int{}
		for _, e := range u.Events() {
			if !strings.HasPrefix(e.MessageID, prefix) {
				continue
			}
			switch e.Ev {
			case protocol.EvMessageSendSuccess:
				ok[e.MessageID] = true
			case protocol.EvMessageSendError:
				failed[e.MessageID] = e.Ecode
			}
		}
		return len(ok)+len(failed) == n, strconv.Itoa(len(ok)+len(failed)) + " outcomes of " + strconv.Itoa(n)
	})
	return ok, failed, time.Since(start)
}

func TestRateLimit_PerChannelSendMsgLimit(t *testing.T) {
	env := chanEnv(t)
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 1, "bob")
	chJoin(t, alice, "limited")
	chJoin(t, bob, "limited")
	alice.ChannelSetAttr("limited", "_sendmsg_limit", "5")
	alice.Wait(t, protocol.EvChannelAttrUpdated, attr("_sendmsg_limit", "5", "update"))
	bob.Wait(t, protocol.EvChannelAttrUpdated, attr("_sendmsg_limit", "5", "update"))

	ok, failed, took := burst(t, alice, "limited", "c", 40)
	if len(ok) < 5 || float64(len(ok)) > 6+5*took.Seconds() || len(ok)+len(failed) != 40 {
		t.Fatalf("%d went through and %d failed in %v, want 5 to %.0f through", len(ok), len(failed), took, 5+5*took.Seconds())
	}
	// bob's edge counts alice's messages as they pass: at one message a
	// second, once bob has alice's, a message of his less than a second
	// later is over the channel's limit too.
	alice.ChannelSetAttr("limited", "_sendmsg_limit", "1")
	bob.Wait(t, protocol.EvChannelAttrUpdated, attr("_sendmsg_limit", "1", "update"))
	for id := range ok {
		bob.Wait(t, protocol.EvMessageChannelReceive, testenv.Msg(id))
	}
	aOK, _, _ := burst(t, alice, "limited", "d", 3)
	for id := range aOK {
		ok[id] = true
		bob.Wait(t, protocol.EvMessageChannelReceive, testenv.Msg(id))
	}
	seen := time.Now()
	_, bobFailed, _ := burst(t, bob, "limited", "b", 1)
	if len(aOK) > 0 && time.Since(seen) < 900*time.Millisecond && bobFailed["b0"] != protocol.SendMessageOther {
		t.Fatalf("bob's message on the other edge, within a second of alice's, went through")
	}
	alice.ChannelSetAttr("limited", "done", "1")
	bob.Wait(t, protocol.EvChannelAttrUpdated, attr("done", "1", "update"))
	got := map[string]bool{}
	for _, e := range chEvents(bob, "limited", protocol.EvMessageChannelReceive) {
		if e.Account == "alice" {
			got[e.Msg] = true
		}
	}
	if !mapsEqual(got, ok) {
		t.Fatalf("bob got %v, but %v went through", sortedKeys(got), sortedKeys(ok))
	}
}

func TestBadInput_ChannelRequestsGetTheirCodesAndDisturbNothing(t *testing.T) {
	env := chanEnv(t)
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 1, "bob")
	chJoin(t, alice, "room")
	chJoin(t, bob, "room")
	long := strings.Repeat("c", protocol.MaxNameChars+1)

	alice.ChannelJoin(long)
	alice.Wait(t, protocol.EvChannelJoinFailed, testenv.Code(protocol.WrongParam))
	alice.ChannelJoin("has space")
	alice.Wait(t, protocol.EvChannelJoinFailed, testenv.Channel("has space"), testenv.Code(protocol.WrongParam))
	alice.ChannelQueryUserNum("has space")
	alice.Wait(t, protocol.EvChannelQueryUserNumResult, testenv.Code(protocol.WrongParam))
	alice.ChannelQueryUserIsIn("room", "has space")
	alice.Wait(t, protocol.EvError, testenv.Code(protocol.WrongParam))
	alice.MessageChannelSend("room", strings.Repeat("x", protocol.MaxMsgBytes+1), "big")
	alice.Wait(t, protocol.EvMessageSendError, testenv.MsgID("big"), testenv.Code(protocol.LargeParam))
	alice.MessageChannelSend("has space", "hi", "sp")
	alice.Wait(t, protocol.EvMessageSendError, testenv.MsgID("sp"), testenv.Code(protocol.WrongParam))

	for _, bad := range []struct {
		what        string
		name, value string
		code        int
	}{
		{"a name over 128 characters", long, "v", protocol.WrongParam},
		{"a name with a space", "a b", "v", protocol.WrongParam},
		{"a value over 8096 bytes", "k", strings.Repeat("v", protocol.MaxChanAttrBytes+1), protocol.LargeParam},
		{"the read-only _member_num", "_member_num", "5", protocol.GeneralFailed},
		{"an unknown built-in", "_nonsense", "1", protocol.WrongParam},
		{"a _channel_ttl that is not a number", "_channel_ttl", "soon", protocol.WrongParam},
		{"a negative _sendmsg_limit", "_sendmsg_limit", "-1", protocol.WrongParam},
		{"a _userNotification of 2", "_userNotification", "2", protocol.WrongParam},
	} {
		alice.ChannelSetAttr("room", bad.name, bad.value)
		got := alice.Wait(t, protocol.EvError)
		if got.Ecode != bad.code || got.Name != protocol.OpChannelSetAttr {
			t.Fatalf("setting %s: got %+v, want onError %d", bad.what, got, bad.code)
		}
	}
	alice.ChannelDelAttr("room", "_member_num")
	alice.Wait(t, protocol.EvError, testenv.Code(protocol.GeneralFailed))
	alice.ChannelDelAttr("room", long)
	alice.Wait(t, protocol.EvError, testenv.Code(protocol.WrongParam))

	// None of that reached bob, changed the channel, or ended a session.
	alice.MessageChannelSend("room", "still fine", "ok1")
	alice.Wait(t, protocol.EvMessageSendSuccess, testenv.MsgID("ok1"))
	bob.Wait(t, protocol.EvMessageChannelReceive, testenv.Msg("still fine"))
	alice.ChannelSetAttr("room", "k", "v")
	bob.Wait(t, protocol.EvChannelAttrUpdated, attr("k", "v", "update"))
	if got := chEvents(bob, "room", protocol.EvChannelAttrUpdated, protocol.EvMessageChannelReceive); len(got) != 3 {
		t.Fatalf("bob's callbacks after the bad requests: %+v", got)
	}
	bob.ChannelQueryUserNum("room")
	if got := bob.Wait(t, protocol.EvChannelQueryUserNumResult); got.Num != 2 {
		t.Fatalf("members after the bad requests: %+v", got)
	}
}

func TestBadInput_ChannelRequestsBeforeLogin1003(t *testing.T) {
	env := chanEnv(t)
	// The SDK refuses them itself...
	u := testenv.NewUser(t, "early", env.URL(0))
	u.ChannelJoin("room")
	u.Wait(t, protocol.EvChannelJoinFailed, testenv.Channel("room"), testenv.Code(protocol.NotLoggedIn))
	u.MessageChannelSend("room", "hi", "e1")
	u.Wait(t, protocol.EvMessageSendError, testenv.MsgID("e1"), testenv.Code(protocol.NotLoggedIn))

	// ...and so does the edge, for clients that send them anyway.
	r := testenv.Dial(t, env.URL(1))
	for _, req := range []protocol.Request{
		{Op: protocol.OpChannelJoin, ChannelID: "room"},
		{Op: protocol.OpChannelLeave, ChannelID: "room"},
		{Op: protocol.OpChannelQueryUserNum, ChannelID: "room"},
		{Op: protocol.OpChannelQueryUserIsIn, ChannelID: "room", Account: "a"},
		{Op: protocol.OpChannelSetAttr, ChannelID: "room", Name: "k", Value: "v"},
		{Op: protocol.OpChannelDelAttr, ChannelID: "room", Name: "k"},
		{Op: protocol.OpChannelClearAttr, ChannelID: "room"},
		{Op: protocol.OpMessageChannelSend, ChannelID: "room", Msg: "m", MsgID: "m1"},
		{Op: protocol.OpMessageChannelSendForce, ChannelID: "room", Msg: "m", MsgID: "m2"},
	} {
		r.Send(req)
		got := r.Next()
		want := protocol.FailureEvent(&req, protocol.ErrNotLoggedIn)
		if got.Ev != want.Ev || got.Ecode != protocol.NotLoggedIn {
			t.Fatalf("%s before login: got %+v, want %s 1003", req.Op, got, want.Ev)
		}
	}
	// The connection goes on to log in and join.
	r.Login("late")
	r.Send(protocol.Request{Op: protocol.OpChannelJoin, ChannelID: "room"})
	if got := r.Next(); got.Ev != protocol.EvChannelJoined || got.ChannelID != "room" {
		t.Fatalf("join after login: %+v", got)
	}
}
