package e2e_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
)

// Every channelSetAttr, channelDelAttr and channelClearAttr gets an answer:
// its onChannelAttrUpdated, or onError with the reason.

// answersUntil sends req and then a getAttr of sentinel, which the session
// answers after req (the edge answers a session's forwarded requests in
// order), and returns the frames between them.
func answersUntil(t *testing.T, r *testenv.Raw, req protocol.Request, sentinel string) []protocol.Event {
	t.Helper()
	r.Send(req)
	return framesUntil(t, r, sentinel)
}

// framesUntil sends a getAttr of sentinel and returns the frames before its
// answer.
func framesUntil(t *testing.T, r *testenv.Raw, sentinel string) []protocol.Event {
	t.Helper()
	r.Send(protocol.Request{Op: protocol.OpGetAttr, Name: sentinel})
	var out []protocol.Event
	for {
		ev := r.Next()
		if ev.Ev == protocol.EvUserAttrResult && ev.Name == sentinel ||
			ev.Ev == protocol.EvError && ev.Name == protocol.OpGetAttr {
			return out
		}
		out = append(out, ev)
	}
}

func TestAttrs_EveryRefusedWriteGetsExactlyOneAnswer(t *testing.T) {
	env := testenv.Start(t, testenv.Options{Edges: 2})
	alice := testenv.Dial(t, env.URL(0))
	alice.Login("alice")
	// A member on the other edge, so that "room" exists and has members
	// that alice is not among.
	bob := env.LoginUser(t, 1, "bob")
	chJoin(t, bob, "room")
	bob.ChannelSetAttr("room", "_setattr_limit", "1")
	bob.Wait(t, protocol.EvChannelAttrUpdated, attr("_setattr_limit", "1", "update"))

	set := func(ch, name, value string) protocol.Request {
		return protocol.Request{Op: protocol.OpChannelSetAttr, ChannelID: ch, Name: name, Value: value}
	}
	del := func(ch, name string) protocol.Request {
		return protocol.Request{Op: protocol.OpChannelDelAttr, ChannelID: ch, Name: name}
	}
	clr := func(ch string) protocol.Request {
		return protocol.Request{Op: protocol.OpChannelClearAttr, ChannelID: ch}
	}
	tests := []struct {
		what string
		req  protocol.Request
		code int
	}{
		{"set in a channel alice is not in", set("room", "topic", "x"), protocol.GeneralFailed},
		{"del in a channel alice is not in", del("room", "topic"), protocol.GeneralFailed},
		{"clear in a channel alice is not in", clr("room"), protocol.GeneralFailed},
		{"set of a built-in in a channel alice is not in", set("room", "_sendmsg_limit", "1"), protocol.GeneralFailed},
		{"set in a channel that does not exist", set("nowhere", "topic", "x"), protocol.GeneralFailed},
		{"set of read-only _member_num", set("room", "_member_num", "9"), protocol.GeneralFailed},
		{"del of read-only _member_num", del("room", "_member_num"), protocol.GeneralFailed},
		{"set in _agora_user_online", set("_agora_user_online", "topic", "x"), protocol.GeneralFailed},
		{"del in _agora_channel_event", del("_agora_channel_event", "topic"), protocol.GeneralFailed},
		{"clear of _agora_channel_event", clr("_agora_channel_event"), protocol.GeneralFailed},
		{"set of a reserved name", set("room", "_mine", "x"), protocol.WrongParam},
		{"set of a name with a space", set("room", "a b", "x"), protocol.WrongParam},
		{"set of a value over 8096 bytes", set("room", "topic", string(make([]byte, protocol.MaxChanAttrBytes+1))), protocol.LargeParam},
	}
	run := func(tests []struct {
		what string
		req  protocol.Request
		code int
	}, prefix string) {
		t.Helper()
		for i, tt := range tests {
			got := answersUntil(t, alice, tt.req, fmt.Sprintf("%s%d", prefix, i))
			if len(got) != 1 || got[0].Ev != protocol.EvError || got[0].Ecode != tt.code || got[0].Name != tt.req.Op {
				t.Errorf("%s: answered %+v, want one onError %d", tt.what, got, tt.code)
			}
		}
	}
	run(tests, "s")

	// Alice joins: over _setattr_limit, the refused write is answered too.
	alice.Send(protocol.Request{Op: protocol.OpChannelJoin, ChannelID: "room"})
	alice.Expect(protocol.EvChannelJoined)
	alice.Send(protocol.Request{Op: protocol.OpChannelJoin, ChannelID: "_agora_user_online"})
	alice.Expect(protocol.EvChannelJoined)
	// Writes in one second beyond the first: bursts until one burst falls
	// within a second (a busy machine may spread one over two).
	limited, sent, updates := 0, 0, 0
	isUpdate := func(ev protocol.Event) bool {
		return ev.Ev == protocol.EvChannelAttrUpdated && ev.Name == "burst"
	}
	for b := 0; b < 20 && limited == 0; b++ {
		for i := 0; i < 3; i++ {
			alice.Send(set("room", "burst", fmt.Sprint(b, i)))
			sent++
		}
		for _, ev := range framesUntil(t, alice, fmt.Sprintf("b%d", b)) {
			if ev.Ev == protocol.EvError && ev.Ecode == protocol.GeneralFailed && ev.Name == protocol.OpChannelSetAttr {
				limited++
			}
			if isUpdate(ev) {
				updates++
			}
		}
	}
	if limited == 0 {
		t.Fatalf("20 bursts of 3 writes at _setattr_limit 1: none refused")
	}
	// Every write that passed reaches alice as a member's update; one may
	// come after the sentinel's answer (it travels through the channel's
	// subscription), so take them all before asking more.
	for updates < sent-limited {
		if ev := alice.Next(); isUpdate(ev) {
			updates++
		}
	}
	// A member, even of a special channel, is refused there too.
	run(tests[7:10], "m")

	// With no worker left, each write is still answered, in time.
	for _, w := range env.Workers {
		if err := w.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	for i, req := range []protocol.Request{set("room", "topic", "x"), del("room", "topic"), clr("room")} {
		got := answersUntil(t, alice, req, fmt.Sprintf("w%d", i))
		if len(got) != 1 || got[0].Ev != protocol.EvError || got[0].Name != req.Op {
			t.Errorf("%s without workers: answered %+v, want one onError", req.Op, got)
		}
	}
}

// Members writing one attribute at once: each write's onChannelAttrUpdated
// reaches its writer even when a newer write's event arrived first, and
// every member's view still ends at the value the record holds.
func TestAttrs_ConcurrentWritersEachGetTheirAnswer(t *testing.T) {
	env := chanEnv(t)
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 0, "bob")
	carol := env.LoginUser(t, 1, "carol")
	for _, u := range []*testenv.User{alice, bob, carol} {
		chJoin(t, u, "room")
	}
	const n = 100
	for i := 0; i < n; i++ {
		alice.ChannelSetAttr("room", "k", fmt.Sprintf("a%d", i))
		bob.ChannelSetAttr("room", "k", fmt.Sprintf("b%d", i))
		carol.ChannelSetAttr("room", "k", fmt.Sprintf("c%d", i))
	}
	for i := 0; i < n; i++ {
		alice.Wait(t, protocol.EvChannelAttrUpdated, attr("k", fmt.Sprintf("a%d", i), "update"))
		bob.Wait(t, protocol.EvChannelAttrUpdated, attr("k", fmt.Sprintf("b%d", i), "update"))
		carol.Wait(t, protocol.EvChannelAttrUpdated, attr("k", fmt.Sprintf("c%d", i), "update"))
	}
	// Every member hears of every write (its own were waited for above),
	// so once each has heard of all,
	// nothing about k is in flight: its last word is the record's.
	for u, own := range map[*testenv.User]string{alice: "a", bob: "b", carol: "c"} {
		for _, p := range []string{"a", "b", "c"} {
			for i := 0; i < n && p != own; i++ {
				u.Wait(t, protocol.EvChannelAttrUpdated, attr("k", fmt.Sprintf("%s%d", p, i), "update"))
			}
		}
	}
	dave := env.LoginUser(t, 1, "dave")
	chJoin(t, dave, "room")
	want := dave.Wait(t, protocol.EvChannelAttrUpdated, func(e protocol.Event) bool { return e.Name == "k" }).Value
	for name, u := range map[string]*testenv.User{"alice": alice, "bob": bob, "carol": carol} {
		var last string
		for _, e := range chEvents(u, "room", protocol.EvChannelAttrUpdated) {
			if e.Name == "k" {
				last = e.Value
			}
		}
		if last != want {
			t.Errorf("%s's last word on k is %q; the record holds %q", name, last, want)
		}
	}
}
