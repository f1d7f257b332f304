package e2e_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-io/switchboard/handlers"
	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
)

// Every invitation test puts the caller on edge 0 and the callee on edge 1,
// with two workers, so that each callback crosses NATS between processes'
// worth of parts.

// inviteEnv starts two edges and two workers, with adjust applied to the
// workers' configuration.
func inviteEnv(t *testing.T, adjust func(*handlers.Config)) *testenv.Env {
	t.Helper()
	return testenv.Start(t, testenv.Options{Edges: 2, Workers: 2, Worker: adjust})
}

// invCall matches events about channel and account, the pair that every
// invitation callback names.
func invCall(channel, account string) func(protocol.Event) bool {
	return func(e protocol.Event) bool { return e.ChannelID == channel && e.Account == account }
}

// invRing makes caller invite callee to channel with extra, and waits until
// both sides have seen it.
func invRing(t *testing.T, caller, callee *testenv.User, channel, extra string) {
	t.Helper()
	caller.ChannelInviteUser2(channel, callee.Account, extra)
	got := callee.Wait(t, protocol.EvInviteReceived, invCall(channel, caller.Account))
	if got.Extra != extra || got.UID != 0 {
		t.Fatalf("%s received %+v, want extra %q", callee.Account, got, extra)
	}
	caller.Wait(t, protocol.EvInviteReceivedByPeer, invCall(channel, callee.Account))
}

// invSettled waits until every request u sent so far has been handled: a
// session's requests are handled in order, so the answer to a status query
// sent now comes after them.
func invSettled(t *testing.T, u *testenv.User) {
	t.Helper()
	probe := "settled-probe-" + u.Account
	u.QueryUserStatus(probe)
	u.Wait(t, protocol.EvQueryUserStatusResult, func(e protocol.Event) bool { return e.Name == probe })
}

func TestInvite_AcceptedThenEndedByTheCallee(t *testing.T) {
	env := inviteEnv(t, nil)
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 1, "bob")

	invRing(t, alice, bob, "call-1", `{"video":true}`)
	bob.ChannelInviteAccept("call-1", "alice", 0, `{"camera":"front"}`)
	got := alice.Wait(t, protocol.EvInviteAcceptedByPeer, invCall("call-1", "bob"))
	if got.Extra != `{"camera":"front"}` {
		t.Fatalf("onInviteAcceptedByPeer extra = %q", got.Extra)
	}
	// Either side may end the call; here the callee does.
	bob.ChannelInviteEnd("call-1", "alice", 0)
	bob.Wait(t, protocol.EvInviteEndByMyself, invCall("call-1", "alice"))
	alice.Wait(t, protocol.EvInviteEndByPeer, invCall("call-1", "bob"))
	// The call is over: ending it again finds nothing.
	alice.ChannelInviteEnd("call-1", "bob", 0)
	alice.Wait(t, protocol.EvInviteFailed, invCall("call-1", "bob"), testenv.Code(protocol.InviteOther))
}

func TestInvite_AcceptedThenEndedByTheCaller(t *testing.T) {
	env := inviteEnv(t, nil)
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 1, "bob")

	alice.ChannelInviteUser("call-2", "bob", 0)
	if got := bob.Wait(t, protocol.EvInviteReceived, invCall("call-2", "alice")); got.Extra != "" {
		t.Fatalf("channelInviteUser delivered extra %q, want none", got.Extra)
	}
	alice.Wait(t, protocol.EvInviteReceivedByPeer, invCall("call-2", "bob"))
	bob.ChannelInviteAccept("call-2", "alice", 0, "")
	alice.Wait(t, protocol.EvInviteAcceptedByPeer, invCall("call-2", "bob"))
	alice.ChannelInviteEnd("call-2", "bob", 0)
	alice.Wait(t, protocol.EvInviteEndByMyself, invCall("call-2", "bob"))
	bob.Wait(t, protocol.EvInviteEndByPeer, invCall("call-2", "alice"))
}

func TestInvite_Refused(t *testing.T) {
	env := inviteEnv(t, nil)
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 1, "bob")

	invRing(t, alice, bob, "call-3", "")
	bob.ChannelInviteRefuse("call-3", "alice", 0, `{"reason":"busy"}`)
	got := alice.Wait(t, protocol.EvInviteRefusedByPeer, invCall("call-3", "bob"))
	if got.Extra != `{"reason":"busy"}` {
		t.Fatalf("onInviteRefusedByPeer extra = %q", got.Extra)
	}
	// A refused invitation is over: the callee cannot accept it any more,
	// and the caller may invite again.
	bob.ChannelInviteAccept("call-3", "alice", 0, "")
	bob.Wait(t, protocol.EvInviteFailed, invCall("call-3", "alice"), testenv.Code(protocol.InviteOther))
	invRing(t, alice, bob, "call-3", "")
}

func TestInvite_CallerCancelsBeforeAnAnswer(t *testing.T) {
	env := inviteEnv(t, nil)
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 1, "bob")

	invRing(t, alice, bob, "call-4", `{"n":1}`)
	alice.ChannelInviteEnd("call-4", "bob", 0)
	alice.Wait(t, protocol.EvInviteEndByMyself, invCall("call-4", "bob"))
	bob.Wait(t, protocol.EvInviteEndByPeer, invCall("call-4", "alice"))
	// The cancelled invitation cannot be answered.
	bob.ChannelInviteAccept("call-4", "alice", 0, "")
	bob.Wait(t, protocol.EvInviteFailed, invCall("call-4", "alice"), testenv.Code(protocol.InviteOther))
	if n := alice.Count(protocol.EvInviteAcceptedByPeer); n != 0 {
		t.Fatalf("the caller got %d onInviteAcceptedByPeer for a cancelled invitation", n)
	}
}

func TestInvite_AgainWhilePendingFails701AndTheFirstGoesOn(t *testing.T) {
	env := inviteEnv(t, nil)
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 1, "bob")

	invRing(t, alice, bob, "call-5", `{"first":true}`)
	alice.ChannelInviteUser2("call-5", "bob", `{"second":true}`)
	alice.Wait(t, protocol.EvInviteFailed, invCall("call-5", "bob"), testenv.Code(protocol.InviteReinvite))
	// Another channel is another invitation.
	invRing(t, alice, bob, "call-5b", "")
	// The first invitation is still the one pending, with its extra.
	bob.ChannelInviteAccept("call-5", "alice", 0, "")
	alice.Wait(t, protocol.EvInviteAcceptedByPeer, invCall("call-5", "bob"))
	if n := bob.Count(protocol.EvInviteReceived, invCall("call-5", "alice")); n != 1 {
		t.Fatalf("the callee got %d onInviteReceived for call-5, want 1", n)
	}
	// Once answered, the same invitation may be made again.
	alice.ChannelInviteEnd("call-5", "bob", 0)
	alice.Wait(t, protocol.EvInviteEndByMyself, invCall("call-5", "bob"))
	invRing(t, alice, bob, "call-5", `{"third":true}`)
}

func TestInvite_RequirePeerOnlineFails703AtOnce(t *testing.T) {
	// A long offline wait shows that the failure does not come from it.
	env := inviteEnv(t, func(c *handlers.Config) { c.InviteOfflineWait = time.Minute })
	alice := env.LoginUser(t, 0, "alice")
	for _, extra := range []string{`{"_require_peer_online":1}`, `{"_require_peer_online":"1"}`, `{"_require_peer_online":true}`} {
		alice.ChannelInviteUser2("call-6", "ghost", extra)
		got := alice.WaitFor(t, 3*time.Second, protocol.EvInviteFailed, invCall("call-6", "ghost"))
		if got.Ecode != protocol.InvitePeerOffline || got.Extra != extra {
			t.Fatalf("onInviteFailed = %+v, want 703 with extra %q", got, extra)
		}
	}
	// Nothing was left pending: ghost, logging in now, gets no invitation.
	ghost := env.LoginUser(t, 1, "ghost")
	alice.MessageInstantSend("ghost", 0, "after", "after-6")
	ghost.Wait(t, protocol.EvMessageInstantReceive, testenv.Msg("after"))
	if n := ghost.Count(protocol.EvInviteReceived); n != 0 {
		t.Fatalf("ghost got %d invitations that required it online", n)
	}
}

func TestInvite_DeliveredToACalleeWhoLogsInLater(t *testing.T) {
	t.Parallel()
	const wait = 8 * time.Second
	env := inviteEnv(t, func(c *handlers.Config) { c.InviteOfflineWait = wait })
	alice := env.LoginUser(t, 0, "alice")

	alice.ChannelInviteUser2("call-7", "bob", `{"late":1}`)
	invSettled(t, alice)
	// The callee comes online a few seconds later. The pause is the
	// scenario, not a synchronisation: nothing waits on it.
	time.Sleep(2 * time.Second)
	bob := env.LoginUser(t, 1, "bob")
	got := bob.Wait(t, protocol.EvInviteReceived, invCall("call-7", "alice"))
	if got.Extra != `{"late":1}` {
		t.Fatalf("late onInviteReceived extra = %q", got.Extra)
	}
	alice.Wait(t, protocol.EvInviteReceivedByPeer, invCall("call-7", "bob"))
	bob.ChannelInviteAccept("call-7", "alice", 0, "")
	alice.Wait(t, protocol.EvInviteAcceptedByPeer, invCall("call-7", "bob"))

	// The offline wait of the delivered invitation must come to nothing:
	// an invitation made after it to someone who never logs in fails
	// (703) after the same wait, so by then the first wait is over too.
	alice.ChannelInviteUser2("call-7", "ghost", "")
	alice.WaitFor(t, wait+testenv.WaitTimeout, protocol.EvInviteFailed, invCall("call-7", "ghost"), testenv.Code(protocol.InvitePeerOffline))
	if n := alice.Count(protocol.EvInviteFailed, invCall("call-7", "bob")); n != 0 {
		t.Fatalf("the delivered invitation also failed %d times", n)
	}
}

func TestInvite_CalleeWhoNeverLogsInFails703AfterTheWait(t *testing.T) {
	t.Parallel()
	env := inviteEnv(t, nil)
	wait := testenv.WorkerConfig().InviteOfflineWait
	alice := env.LoginUser(t, 0, "alice")

	start := time.Now()
	alice.ChannelInviteUser2("call-8", "ghost", `{"x":"y"}`)
	got := alice.Wait(t, protocol.EvInviteFailed, invCall("call-8", "ghost"))
	if got.Ecode != protocol.InvitePeerOffline || got.Extra != `{"x":"y"}` {
		t.Fatalf("onInviteFailed = %+v, want 703 with the invitation's extra", got)
	}
	if waited := time.Since(start); waited < wait-500*time.Millisecond {
		t.Fatalf("703 after %v, before the offline wait of %v", waited, wait)
	}
	if n := alice.Count(protocol.EvInviteReceivedByPeer); n != 0 {
		t.Fatalf("onInviteReceivedByPeer for an invitation nobody received")
	}
	// It is over: the same invitation may be made again.
	alice.ChannelInviteUser2("call-8", "ghost", "")
	invSettled(t, alice)
	if n := alice.Count(protocol.EvInviteFailed, testenv.Code(protocol.InviteReinvite)); n != 0 {
		t.Fatal("inviting again after 703 failed with 701")
	}
}

func TestInvite_UnansweredFails704AndTheCalleeIsTold(t *testing.T) {
	t.Parallel()
	env := inviteEnv(t, func(c *handlers.Config) { c.InviteRingTimeout = 2 * time.Second })
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 1, "bob")

	start := time.Now()
	invRing(t, alice, bob, "call-9", `{"ring":1}`)
	got := alice.Wait(t, protocol.EvInviteFailed, invCall("call-9", "bob"))
	if got.Ecode != protocol.InviteTimeout || got.Extra != `{"ring":1}` {
		t.Fatalf("onInviteFailed = %+v, want 704 with the invitation's extra", got)
	}
	if waited := time.Since(start); waited < 1500*time.Millisecond {
		t.Fatalf("704 after %v, before the ring timeout", waited)
	}
	end := bob.Wait(t, protocol.EvInviteEndByPeer, invCall("call-9", "alice"))
	if end.Extra != handlers.TimeoutExtra {
		t.Fatalf("the callee's onInviteEndByPeer extra = %q, want %q", end.Extra, handlers.TimeoutExtra)
	}
	// The invitation is gone: too late to accept, and free to be made again.
	bob.ChannelInviteAccept("call-9", "alice", 0, "")
	bob.Wait(t, protocol.EvInviteFailed, invCall("call-9", "alice"), testenv.Code(protocol.InviteOther))
	invRing(t, alice, bob, "call-9", "")
	// Both workers saw the timer expire; exactly one told the caller.
	if n := alice.Count(protocol.EvInviteFailed, invCall("call-9", "bob")); n != 1 {
		t.Fatalf("the caller got %d onInviteFailed, want exactly 1", n)
	}
	if n := bob.Count(protocol.EvInviteEndByPeer, invCall("call-9", "alice")); n != 1 {
		t.Fatalf("the callee got %d onInviteEndByPeer, want exactly 1", n)
	}
}

func TestInvite_AWorkerStoppedMidwayLeavesNothingHanging(t *testing.T) {
	t.Parallel()
	env := inviteEnv(t, func(c *handlers.Config) { c.InviteRingTimeout = 2 * time.Second })
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 1, "bob")

	invRing(t, alice, bob, "call-10", "")
	// Whichever worker handled the invitation, one of the two is gone now;
	// the invitation lives in KV, and the other carries it on.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := env.Workers[0].Close(ctx); err != nil {
		t.Fatal(err)
	}
	alice.Wait(t, protocol.EvInviteFailed, invCall("call-10", "bob"), testenv.Code(protocol.InviteTimeout))
	bob.Wait(t, protocol.EvInviteEndByPeer, invCall("call-10", "alice"))
	invRing(t, alice, bob, "call-10", "")
	bob.ChannelInviteAccept("call-10", "alice", 0, "")
	alice.Wait(t, protocol.EvInviteAcceptedByPeer, invCall("call-10", "bob"))
}

func TestInvite_CalleeLoggingInAgainIsRungAgain(t *testing.T) {
	env := inviteEnv(t, nil)
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 1, "bob")
	invRing(t, alice, bob, "call-11", `{"again":1}`)

	// bob's client starts afresh (a new login elsewhere): it must learn of
	// the invitation still ringing for it, and the caller hears nothing new.
	bob2 := env.LoginUser(t, 0, "bob")
	got := bob2.Wait(t, protocol.EvInviteReceived, invCall("call-11", "alice"))
	if got.Extra != `{"again":1}` {
		t.Fatalf("ringing again with extra %q", got.Extra)
	}
	bob2.ChannelInviteAccept("call-11", "alice", 0, "")
	alice.Wait(t, protocol.EvInviteAcceptedByPeer, invCall("call-11", "bob"))
	if n := alice.Count(protocol.EvInviteReceivedByPeer, invCall("call-11", "bob")); n != 1 {
		t.Fatalf("the caller got %d onInviteReceivedByPeer, want 1", n)
	}
}

func TestInvite_CallerEndsAnInvitationStillWaitingForTheCallee(t *testing.T) {
	env := inviteEnv(t, nil)
	alice := env.LoginUser(t, 0, "alice")
	alice.ChannelInviteUser2("call-12", "bob", "")
	alice.ChannelInviteEnd("call-12", "bob", 0)
	alice.Wait(t, protocol.EvInviteEndByMyself, invCall("call-12", "bob"))

	// bob logs in to nothing: no invitation, no end of one he never saw.
	bob := env.LoginUser(t, 1, "bob")
	alice.MessageInstantSend("bob", 0, "hi", "hi-12")
	bob.Wait(t, protocol.EvMessageInstantReceive, testenv.Msg("hi"))
	if n := bob.Count(protocol.EvInviteReceived) + bob.Count(protocol.EvInviteEndByPeer); n != 0 {
		t.Fatalf("bob got %d invitation callbacks for a cancelled invitation", n)
	}
}

func TestInvite_AcceptAfterTheCallerLeftFails703(t *testing.T) {
	env := inviteEnv(t, nil)
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 1, "bob")
	invRing(t, alice, bob, "call-13", "")
	alice.Logout()
	alice.Wait(t, protocol.EvLogout)
	bob.ChannelInviteAccept("call-13", "alice", 0, "")
	bob.Wait(t, protocol.EvInviteFailed, invCall("call-13", "alice"), testenv.Code(protocol.InvitePeerOffline))
}

func TestInvite_BadInputFailsWithItsCodeAndDisturbsNothing(t *testing.T) {
	env := inviteEnv(t, nil)
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 1, "bob")
	// A pending invitation that every failure below must leave alone.
	invRing(t, alice, bob, "keep", `{"keep":1}`)

	long := strings.Repeat("a", protocol.MaxNameChars+1)
	big := `"` + strings.Repeat("x", protocol.MaxExtraBytes) + `"`
	tests := []struct {
		name             string
		by               *testenv.User // who sends it, and gets the failure
		send             func()
		channel, account string
		code             int
	}{
		{"invitation to oneself", alice, func() { alice.ChannelInviteUser2("bad-1", "alice", "") }, "bad-1", "alice", protocol.WrongParam},
		{"account with a space", alice, func() { alice.ChannelInviteUser2("bad-2", "b ob", "") }, "bad-2", "b ob", protocol.WrongParam},
		{"account too long", alice, func() { alice.ChannelInviteUser("bad-3", long, 0) }, "bad-3", long, protocol.WrongParam},
		{"empty account", alice, func() { alice.ChannelInviteUser("bad-4", "", 0) }, "bad-4", "", protocol.WrongParam},
		{"channel with a space", alice, func() { alice.ChannelInviteUser2("bad 5", "bob", "") }, "bad 5", "bob", protocol.WrongParam},
		{"extra that is not JSON", alice, func() { alice.ChannelInviteUser2("bad-6", "bob", "{not json") }, "bad-6", "bob", protocol.WrongParam},
		{"extra over 8 KB", alice, func() { alice.ChannelInviteUser2("bad-7", "bob", big) }, "bad-7", "bob", protocol.LargeParam},
		{"accepting nothing", bob, func() { bob.ChannelInviteAccept("bad-8", "alice", 0, "") }, "bad-8", "alice", protocol.InviteOther},
		{"refusing nothing", bob, func() { bob.ChannelInviteRefuse("bad-9", "alice", 0, "") }, "bad-9", "alice", protocol.InviteOther},
		{"ending nothing", alice, func() { alice.ChannelInviteEnd("bad-10", "bob", 0) }, "bad-10", "bob", protocol.InviteOther},
		{"accepting one's own invitation", alice, func() { alice.ChannelInviteAccept("keep", "bob", 0, "") }, "keep", "bob", protocol.InviteOther},
		{"answer extra that is not JSON", bob, func() { bob.ChannelInviteRefuse("keep", "alice", 0, "nope") }, "keep", "alice", protocol.WrongParam},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.send()
			got := tt.by.Wait(t, protocol.EvInviteFailed, invCall(tt.channel, tt.account))
			if got.Ecode != tt.code {
				t.Fatalf("onInviteFailed code = %d, want %d (%+v)", got.Ecode, tt.code, got)
			}
		})
	}
	// Nobody was invited, and the pending invitation is intact.
	bob.ChannelInviteAccept("keep", "alice", 0, "")
	alice.Wait(t, protocol.EvInviteAcceptedByPeer, invCall("keep", "bob"))
	if n := bob.Count(protocol.EvInviteReceived); n != 1 {
		t.Fatalf("bob got %d invitations, want only the one kept", n)
	}
	if n := alice.Count(protocol.EvInviteReceived) + alice.Count(protocol.EvInviteEndByPeer) + alice.Count(protocol.EvInviteRefusedByPeer); n != 0 {
		t.Fatalf("alice got %d invitation callbacks from the failures", n)
	}
}

func TestInvite_PhoneAndDTMFFailWithoutASIPGateway(t *testing.T) {
	env := inviteEnv(t, nil)
	alice := env.LoginUser(t, 0, "alice")

	alice.ChannelInvitePhone("tel", "+15550100", 0)
	alice.Wait(t, protocol.EvInviteFailed, invCall("tel", "+15550100"), testenv.Code(protocol.InviteOther))
	alice.ChannelInvitePhone2("tel2", "+15550101", "+15550199")
	alice.Wait(t, protocol.EvInviteFailed, invCall("tel2", "+15550101"), testenv.Code(protocol.InviteOther))
	alice.ChannelInvitePhone3("tel3", "+15550102", "+15550199", `{"a":1}`)
	alice.Wait(t, protocol.EvInviteFailed, invCall("tel3", "+15550102"), testenv.Code(protocol.InviteOther))
	alice.ChannelInviteDTMF("tel", "+15550100", "123#")
	alice.Wait(t, protocol.EvInviteFailed, invCall("tel", "+15550100"), testenv.Code(protocol.InviteOther))
	alice.MessageDTMFSend(0, "123#", "dtmf-1")
	got := alice.Wait(t, protocol.EvError, func(e protocol.Event) bool { return e.Name == protocol.OpMessageDTMFSend })
	if got.Ecode != protocol.GeneralFailed || !strings.Contains(got.Desc, "SIP") {
		t.Fatalf("messageDTMFSend: onError %+v, want 1001 naming the missing SIP gateway", got)
	}
}
