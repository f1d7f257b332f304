package e2e_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
)

// A client that loses its edge resumes its session on another one: its
// channels and its messages come along, and its peers see nothing.
func TestResume_OnAnotherEdgeKeepsChannelsAndMessages(t *testing.T) {
	env := testenv.Start(t, testenv.Options{Edges: 2, Workers: 2})
	proxy := testenv.NewProxy(t, env.URL(0))
	alice := testenv.NewUser(t, "alice", proxy.URL(), env.URL(1))
	alice.Login(testenv.App.ID, "alice", "_no_need_token", 0, "")
	alice.Wait(t, protocol.EvLoginSuccess)
	alice.ChannelJoin("room")
	alice.Wait(t, protocol.EvChannelJoined, testenv.Channel("room"))
	bob := env.LoginUser(t, 1, "bob")
	bob.ChannelJoin("room")
	bob.Wait(t, protocol.EvChannelJoined, testenv.Channel("room"))
	alice.Wait(t, protocol.EvChannelUserJoined, testenv.Account("bob"))

	// Alice's network to edge 0 fails; edge 0 lives on.
	proxy.Refuse(true)
	proxy.Drop()
	alice.Wait(t, protocol.EvReconnecting)
	for i := 0; i < 3; i++ {
		bob.MessageInstantSend("alice", 0, "p"+strconv.Itoa(i), "p"+strconv.Itoa(i))
	}
	alice.Wait(t, protocol.EvReconnected)
	for i := 0; i < 3; i++ {
		alice.Wait(t, protocol.EvMessageInstantReceive, testenv.Msg("p"+strconv.Itoa(i)))
		bob.Wait(t, protocol.EvMessageSendSuccess, testenv.MsgID("p"+strconv.Itoa(i)))
	}
	// Back in the channel on edge 1, without a join.
	bob.MessageChannelSend("room", "after the move", "c1")
	alice.Wait(t, protocol.EvMessageChannelReceive, testenv.Msg("after the move"))
	alice.MessageChannelSend("room", "me too", "c2")
	bob.Wait(t, protocol.EvMessageChannelReceive, testenv.Msg("me too"), testenv.Account("alice"))
	if n := bob.Count(protocol.EvChannelUserLeaved, testenv.Account("alice")); n != 0 {
		t.Fatalf("bob saw alice leave %d times", n)
	}
	if n := alice.Count(protocol.EvLoginSuccess); n != 1 {
		t.Fatalf("alice logged in %d times; a resume needs no login", n)
	}
	if s := queryStatus(t, bob, "alice"); s != "1" {
		t.Fatalf("alice's status after the move = %q", s)
	}
}

// An edge that shuts down asks its clients to move; they resume elsewhere
// and nobody sees them go.
func TestDrain_ClientsMoveWithoutAnyoneNoticing(t *testing.T) {
	env := testenv.Start(t, testenv.Options{Edges: 2, Workers: 2})
	alice := testenv.NewUser(t, "alice", env.URL(0), env.URL(1))
	alice.Login(testenv.App.ID, "alice", "_no_need_token", 0, "")
	alice.Wait(t, protocol.EvLoginSuccess)
	alice.ChannelJoin("room")
	alice.Wait(t, protocol.EvChannelJoined)
	bob := env.LoginUser(t, 1, "bob")
	bob.ChannelJoin("room")
	bob.Wait(t, protocol.EvChannelJoined)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := env.Edges[0].Close(ctx); err != nil {
		t.Fatalf("edge shutdown: %v", err)
	}
	alice.Wait(t, protocol.EvReconnected)
	bob.MessageInstantSend("alice", 0, "still there?", "q1")
	alice.Wait(t, protocol.EvMessageInstantReceive, testenv.Msg("still there?"))
	bob.Wait(t, protocol.EvMessageSendSuccess, testenv.MsgID("q1"))
	bob.MessageChannelSend("room", "room too", "r1")
	alice.Wait(t, protocol.EvMessageChannelReceive, testenv.Msg("room too"))
	if n := bob.Count(protocol.EvChannelUserLeaved); n != 0 {
		t.Fatalf("bob saw %d leaves during the drain", n)
	}
	if n := alice.Count(protocol.EvLogout); n != 0 {
		t.Fatalf("alice was logged out by the drain")
	}
}

// A peer message whose receiver acknowledges it while the sender's edge
// drains gets its success on the sender's new edge: the edge waits for the
// answers to the messages it sent, and a delivered message is never
// reported failed.
func TestDrain_WaitsForTheAnswersToItsPeerMessages(t *testing.T) {
	env := testenv.Start(t, testenv.Options{Edges: 2, Workers: 2})
	alice := testenv.NewUser(t, "alice", env.URL(0), env.URL(1))
	alice.Login(testenv.App.ID, "alice", "_no_need_token", 0, "")
	alice.Wait(t, protocol.EvLoginSuccess)
	carol := testenv.Dial(t, env.URL(1))
	carol.Login("carol")

	alice.MessageInstantSend("carol", 0, "hold on", "h1")
	if ev := carol.Expect(protocol.EvMessageInstantReceive); ev.Msg != "hold on" || !ev.Ack {
		t.Fatalf("carol got %+v", ev)
	}
	closed := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		closed <- env.Edges[0].Close(ctx)
	}()
	alice.Wait(t, protocol.EvReconnected)
	// Carol is slow: she acknowledges two seconds after alice moved,
	// longer than the drain waits for moved sessions to be resumed.
	time.Sleep(2 * time.Second)
	carol.Send(protocol.Request{Op: protocol.OpAck, N: 1})
	alice.WaitFor(t, testenv.WaitTimeout, "", testenv.MsgID("h1"), func(e protocol.Event) bool {
		return e.Ev == protocol.EvMessageSendSuccess || e.Ev == protocol.EvMessageSendError
	})
	if n := alice.Count(protocol.EvMessageSendError); n != 0 {
		t.Fatalf("alice's message was reported failed; carol had acknowledged it")
	}
	if err := <-closed; err != nil {
		t.Fatalf("edge shutdown: %v", err)
	}
}

// A client that had a peer message, and moved to another edge before it
// acknowledged it, says so with its resume count: the message's sender
// gets its success, as after a resume on the same edge.
func TestResume_OnAnotherEdgeAcknowledgesWhatTheClientCounted(t *testing.T) {
	env := testenv.Start(t, testenv.Options{Edges: 2, Workers: 2})
	alice := env.LoginUser(t, 0, "alice")
	carol := testenv.Dial(t, env.URL(0))
	sid := carol.Login("carol").Session

	alice.MessageInstantSend("carol", 0, "did you get this?", "q1")
	if ev := carol.Expect(protocol.EvMessageInstantReceive); ev.Msg != "did you get this?" || !ev.Ack {
		t.Fatalf("carol got %+v", ev)
	}
	// Carol's connection drops before her acknowledgement is sent; she
	// resumes on edge 1, having counted the message.
	carol.WS.Close()
	back := testenv.Dial(t, env.URL(1))
	back.Send(protocol.Request{Op: protocol.OpResume, AppID: testenv.App.ID, Account: "carol", Session: sid, N: 1})
	back.Expect(protocol.EvReconnected)
	ev := alice.WaitFor(t, testenv.WaitTimeout, "", testenv.MsgID("q1"), func(e protocol.Event) bool {
		return e.Ev == protocol.EvMessageSendSuccess || e.Ev == protocol.EvMessageSendError
	})
	if ev.Ev != protocol.EvMessageSendSuccess {
		t.Fatalf("alice got %+v; carol has the message", ev)
	}
}
