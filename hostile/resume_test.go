package hostile

import (
	"strings"
	"testing"
	"time"

	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
)

// A client with no token resumes "alice" with a session ID of its choosing,
// many times on one connection, and then again on a second connection. It
// must not become alice: no resume succeeds, nothing it sends goes out as
// alice, alice still gets her messages, and the flooding connection is
// closed.
func TestHostile_ResumeWithAChosenSessionIsRefused(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	url := env.URL(0)

	alice := testenv.Dial(t, url)
	alice.Login("alice")
	aliceRd := readAll(t, alice)
	bob := testenv.Dial(t, url)
	bob.Login("bob")
	bobRd := readAll(t, bob)

	chosen := "attacker-chosen-session"
	flood := testenv.Dial(t, url)
	floodRd := readAll(t, flood)
	for i := 0; i < 20; i++ {
		if err := flood.WS.WriteJSON(protocol.Request{Op: protocol.OpResume, AppID: testenv.App.ID,
			Account: "alice", Session: chosen}); err != nil {
			break // closed for its failed resumes
		}
	}
	thief := testenv.Dial(t, url)
	thief.Send(protocol.Request{Op: protocol.OpResume, AppID: testenv.App.ID, Account: "alice", Session: chosen})
	thiefRd := readAll(t, thief)
	ev := thiefRd.Expect(protocol.EvResumeFailed, 10*time.Second)
	if ev.Ecode != protocol.WrongParam && ev.Ecode != protocol.NotLoggedIn {
		t.Errorf("resume with a chosen session: ecode %d, want %d or %d", ev.Ecode, protocol.WrongParam, protocol.NotLoggedIn)
	}

	// A well-formed secret that is not alice's fails the same way.
	guess := strings.Repeat("A", 43)
	thief.Send(protocol.Request{Op: protocol.OpResume, AppID: testenv.App.ID, Account: "alice", Session: guess})
	if ev := thiefRd.Expect(protocol.EvResumeFailed, 10*time.Second); ev.Ecode != protocol.NotLoggedIn {
		t.Errorf("resume with a guessed secret: ecode %d, want %d", ev.Ecode, protocol.NotLoggedIn)
	}

	// Whatever the thief sends is not sent as alice.
	thief.Send(protocol.Request{Op: protocol.OpMessageInstantSend, Account: "bob", Msg: "from alice, honestly", MsgID: "stolen"})
	if ev := thiefRd.Expect(protocol.EvMessageSendError, 10*time.Second); ev.Ecode != protocol.NotLoggedIn {
		t.Errorf("send after a failed resume: ecode %d, want %d", ev.Ecode, protocol.NotLoggedIn)
	}

	// The flooding connection was closed for its failed resumes.
	if code := floodRd.Closed(10 * time.Second); code != protocol.CloseResumeFlood {
		t.Errorf("flooding connection closed with %d, want %d", code, protocol.CloseResumeFlood)
	}

	// Alice is untouched: bob's message reaches her, and only hers.
	bob.Send(protocol.Request{Op: protocol.OpMessageInstantSend, Account: "alice", Msg: "hi alice", MsgID: "m1"})
	if ev := bobRd.Expect(protocol.EvMessageSendSuccess, 10*time.Second); ev.MessageID != "m1" {
		t.Errorf("bob's send: %+v", ev)
	}
	got := aliceRd.Expect(protocol.EvMessageInstantReceive, 10*time.Second)
	if got.Account != "bob" || got.Msg != "hi alice" {
		t.Errorf("alice got %+v", got)
	}
	// And bob never heard from the thief.
	alice.Send(protocol.Request{Op: protocol.OpMessageInstantSend, Account: "bob", Msg: "really me", MsgID: "m2"})
	got = bobRd.Expect(protocol.EvMessageInstantReceive, 10*time.Second)
	if got.Msg != "really me" {
		t.Errorf("bob's first message from alice is %q, want %q", got.Msg, "really me")
	}
}

// The secret a login hands out is unguessable (256 bits), is not the
// session ID the server uses elsewhere, and resumes the session on another
// edge after the connection drops.
func TestHostile_ResumeNeedsTheLoginsSecret(t *testing.T) {
	env := testenv.Start(t, testenv.Options{Edges: 2})
	alice := testenv.Dial(t, env.URL(0))
	ok := alice.Login("alice")
	if len(ok.Session) < 43 {
		t.Fatalf("session secret %d characters, want at least 43 (256 bits)", len(ok.Session))
	}
	second := testenv.Dial(t, env.URL(1))
	if ok2 := second.Login("carol"); ok2.Session == ok.Session {
		t.Fatal("two logins got the same secret")
	}
	alice.WS.Close()

	// Someone who knows the account but not the secret gets nothing.
	thief := testenv.Dial(t, env.URL(1))
	thief.Send(protocol.Request{Op: protocol.OpResume, AppID: testenv.App.ID, Account: "alice", Session: ok.Session[:42] + "x"})
	if ev := thief.Expect(protocol.EvResumeFailed); ev.Ecode != protocol.NotLoggedIn {
		t.Errorf("resume with a wrong secret: ecode %d, want %d", ev.Ecode, protocol.NotLoggedIn)
	}
	// The secret, for another account, gets nothing either.
	thief.Send(protocol.Request{Op: protocol.OpResume, AppID: testenv.App.ID, Account: "mallory", Session: ok.Session})
	if ev := thief.Expect(protocol.EvResumeFailed); ev.Ecode != protocol.NotLoggedIn {
		t.Errorf("resume of another account with alice's secret: ecode %d, want %d", ev.Ecode, protocol.NotLoggedIn)
	}
	// Alice, with her secret, is back on the other edge.
	back := testenv.Dial(t, env.URL(1))
	back.Send(protocol.Request{Op: protocol.OpResume, AppID: testenv.App.ID, Account: "alice", Session: ok.Session})
	back.Expect(protocol.EvReconnected)
}
