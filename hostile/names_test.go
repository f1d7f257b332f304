package hostile

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
)

// Names and app IDs (docs/security.md, "Names, app IDs and subjects"): a
// frame whose app ID or names would make a NATS subject or KV key longer
// than NATS's control line used to kill the node's NATS connection, after
// which every login failed with 201 while /healthz still said 200.

// namesWait is how long these tests wait for one frame: generous, for a
// busy machine under the race detector.
const namesWait = 20 * time.Second

// namesNext reads raw frames until one named ev arrives, failing after
// namesWait or when the connection ends.
func namesNext(t *testing.T, r *testenv.Raw, ev string) protocol.Event {
	t.Helper()
	return namesFirst(t, r, ev)
}

// namesFirst reads raw frames until one named by evs arrives.
func namesFirst(t *testing.T, r *testenv.Raw, evs ...string) protocol.Event {
	t.Helper()
	deadline := time.Now().Add(namesWait)
	for {
		_ = r.WS.SetReadDeadline(deadline)
		var got protocol.Event
		if err := r.WS.ReadJSON(&got); err != nil {
			t.Fatalf("waiting for %v: %v", evs, err)
		}
		for _, ev := range evs {
			if got.Ev == ev {
				return got
			}
		}
	}
}

// namesLogin dials edge url and logs account in with _no_need_token.
func namesLogin(t *testing.T, url, account string) *testenv.Raw {
	t.Helper()
	r := testenv.Dial(t, url)
	r.Send(protocol.Request{Op: protocol.OpLogin, AppID: testenv.App.ID, Account: account, Token: "_no_need_token"})
	namesNext(t, r, protocol.EvLoginSuccess)
	return r
}

// namesHealthz is the status of edge i's /healthz.
func namesHealthz(t *testing.T, env *testenv.Env, i int) int {
	t.Helper()
	resp, err := http.Get("http://" + env.Edges[i].Addr.String() + "/healthz")
	if err != nil {
		t.Fatalf("/healthz: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// namesStillWorks checks what the attack used to break: fresh users log in
// and exchange a peer message, end to end, and /healthz is 200.
func namesStillWorks(t *testing.T, env *testenv.Env, from, to string) {
	t.Helper()
	sender := env.LoginUser(t, 0, from)
	receiver := env.LoginUser(t, 0, to)
	sender.MessageInstantSend(to, 0, "still here", "m-"+from)
	receiver.Wait(t, protocol.EvMessageInstantReceive, testenv.Account(from), testenv.Msg("still here"))
	sender.Wait(t, protocol.EvMessageSendSuccess, testenv.MsgID("m-"+from))
	if code := namesHealthz(t, env, 0); code != http.StatusOK {
		t.Errorf("/healthz = %d after the attack, want 200", code)
	}
}

// A resume whose appId has 1,400 characters builds, unchecked, a user
// subject of over 4,096 bytes. It must be refused without touching NATS,
// and the node must go on serving everyone.
func TestHostile_LongAppIDResumeDoesNotBreakTheNode(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	url := env.URL(0)
	// A user who was there before the attack keeps getting her messages.
	before := env.LoginUser(t, 0, "before")

	for _, app := range []string{strings.Repeat("~", 1400), strings.Repeat("a", 1400)} {
		attacker := testenv.Dial(t, url)
		attacker.Send(protocol.Request{Op: protocol.OpResume, AppID: app, Account: "victim",
			Session: strings.Repeat("A", 43), N: 1})
		// The attacker is refused or disconnected; either way it gets
		// nothing, and what matters is everyone else.
		_ = attacker.WS.SetReadDeadline(time.Now().Add(namesWait))
		for {
			var ev protocol.Event
			if err := attacker.WS.ReadJSON(&ev); err != nil {
				break
			}
			if ev.Ev == protocol.EvReconnected {
				t.Fatalf("a resume with a %d-byte appId succeeded", len(app))
			}
			if ev.Ev == protocol.EvResumeFailed || ev.Ev == protocol.EvError {
				break
			}
		}
		// The same app ID in a login is refused with 1004.
		login := testenv.Dial(t, url)
		login.Send(protocol.Request{Op: protocol.OpLogin, AppID: app, Account: "victim", Token: "_no_need_token"})
		if ev := namesNext(t, login, protocol.EvLoginFailed); ev.Ecode != protocol.WrongParam {
			t.Errorf("login with a %d-byte appId: onLoginFailed(%d), want %d", len(app), ev.Ecode, protocol.WrongParam)
		}
	}

	namesStillWorks(t, env, "after1", "after2")
	sender := env.LoginUser(t, 0, "after3")
	sender.MessageInstantSend("before", 0, "hello", "m-before")
	before.Wait(t, protocol.EvMessageInstantReceive, testenv.Account("after3"))
	sender.Wait(t, protocol.EvMessageSendSuccess, testenv.MsgID("m-before"))
}

// Two users with 128-emoji account names and a 128-emoji channel: legal
// names, but an invitation key joins all three, 4,600 bytes in the old
// encoding. The invitation must go through, and the node go on serving.
func TestHostile_EmojiNamesInvitationDoesNotBreakTheNode(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	url := env.URL(0)
	callerName := strings.Repeat("😀", protocol.MaxNameChars)
	calleeName := strings.Repeat("😎", protocol.MaxNameChars)
	channel := strings.Repeat("🎉", protocol.MaxNameChars)

	caller := namesLogin(t, url, callerName)
	callee := namesLogin(t, url, calleeName)
	caller.Send(protocol.Request{Op: protocol.OpChannelInviteUser, ChannelID: channel, Account: calleeName})
	got := namesNext(t, callee, protocol.EvInviteReceived)
	if got.ChannelID != channel || got.Account != callerName {
		t.Fatalf("invitation arrived for channel %q from %q", got.ChannelID, got.Account)
	}
	namesNext(t, caller, protocol.EvInviteReceivedByPeer)
	callee.Send(protocol.Request{Op: protocol.OpChannelInviteAccept, ChannelID: channel, Account: callerName})
	if ev := namesNext(t, caller, protocol.EvInviteAcceptedByPeer); ev.Account != calleeName || ev.ChannelID != channel {
		t.Errorf("accepted by %q in %q", ev.Account, ev.ChannelID)
	}
	callee.Send(protocol.Request{Op: protocol.OpChannelInviteEnd, ChannelID: channel, Account: callerName})
	namesNext(t, caller, protocol.EvInviteEndByPeer)
	// The emoji users' own subjects and keys work too: a channel join and a
	// peer message to one of them.
	caller.Send(protocol.Request{Op: protocol.OpChannelJoin, ChannelID: channel})
	namesNext(t, caller, protocol.EvChannelJoined)
	peer := env.LoginUser(t, 0, "peer")
	peer.MessageInstantSend(calleeName, 0, "hi", "m-emoji")
	if ev := namesNext(t, callee, protocol.EvMessageInstantReceive); ev.Account != "peer" {
		t.Errorf("message from %q", ev.Account)
	}

	namesStillWorks(t, env, "fresh1", "fresh2")
}

// When the edge's NATS connection is gone, the edge can serve no one, and
// /healthz must say so, so that Kubernetes restarts it.
func TestHostile_HealthzFailsWhenNATSIsLost(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	if code := namesHealthz(t, env, 0); code != http.StatusOK {
		t.Fatalf("/healthz = %d before, want 200", code)
	}
	env.Edges[0].Conn.Close()
	if code := namesHealthz(t, env, 0); code != http.StatusServiceUnavailable {
		t.Fatalf("/healthz = %d with the NATS connection closed, want 503", code)
	}
	// A user of that edge indeed gets nowhere: a login fails.
	r := testenv.Dial(t, env.URL(0))
	r.Send(protocol.Request{Op: protocol.OpLogin, AppID: testenv.App.ID, Account: "alice", Token: "_no_need_token"})
	_ = r.WS.SetReadDeadline(time.Now().Add(namesWait))
	var ev protocol.Event
	err := r.WS.ReadJSON(&ev)
	var ne net.Error
	switch {
	case err == nil && ev.Ev == protocol.EvLoginSuccess:
		t.Fatal("a login succeeded on an edge without NATS")
	case errors.As(err, &ne) && ne.Timeout():
		t.Fatal("a login on an edge without NATS got no answer")
	}
}

// é written as e and a combining accent, or alice in full-width letters,
// look like names that exist: they must not be accounts of their own.
func TestHostile_NamesAreOneAccount(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	url := env.URL(0)
	namesLogin(t, url, "\u00e9") // NFC: legal
	alice := namesLogin(t, url, "alice")

	for _, name := range []string{"e\u0301", "ａｌｉｃｅ", "\ufb01", "x\u00b2"} {
		r := testenv.Dial(t, url)
		r.Send(protocol.Request{Op: protocol.OpLogin, AppID: testenv.App.ID, Account: name, Token: "_no_need_token"})
		ev := namesFirst(t, r, protocol.EvLoginFailed, protocol.EvLoginSuccess)
		if ev.Ev != protocol.EvLoginFailed || ev.Ecode != protocol.WrongParam {
			t.Errorf("login as %+q: %s(%d), want %s(%d)", name, ev.Ev, ev.Ecode, protocol.EvLoginFailed, protocol.WrongParam)
		}
	}
	// Nor can a logged-in user address one, or use one as a channel.
	alice.Send(protocol.Request{Op: protocol.OpMessageInstantSend, Account: "ａｌｉｃｅ", Msg: "hi", MsgID: "m1"})
	if ev := namesFirst(t, alice, protocol.EvMessageSendError, protocol.EvMessageSendSuccess); ev.Ev != protocol.EvMessageSendError ||
		ev.Ecode != protocol.WrongParam || ev.MessageID != "m1" {
		t.Errorf("message to full-width alice: %+v, want onMessageSendError(m1, %d)", ev, protocol.WrongParam)
	}
	alice.Send(protocol.Request{Op: protocol.OpChannelJoin, ChannelID: "caf" + "e\u0301"})
	if ev := namesFirst(t, alice, protocol.EvChannelJoinFailed, protocol.EvChannelJoined); ev.Ev != protocol.EvChannelJoinFailed || ev.Ecode != protocol.WrongParam {
		t.Errorf("join of an NFD channel: %s(%d), want %s(%d)", ev.Ev, ev.Ecode, protocol.EvChannelJoinFailed, protocol.WrongParam)
	}
}
