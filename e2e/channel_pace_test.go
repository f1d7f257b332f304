//go:build unix

package e2e_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/switchboard-io/switchboard/edge"
	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
)

// TestPacing_APeerMessageTakesTheHeldChannelMessagesWithIt: channel frames to
// a member written to a moment ago wait for the pacer (SB_WRITE_COALESCE, here
// an hour, with no ping to flush them), but a peer message is written at once
// and takes them along: the member gets every channel message, in order,
// before the peer message, not an hour later.
func TestPacing_APeerMessageTakesTheHeldChannelMessagesWithIt(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.Options{Edge: func(c *edge.Config) {
		c.WriteCoalesce = time.Hour
		c.Ping = time.Hour
	}})
	const ch = "paced"
	alice, bob := testenv.Dial(t, env.URL(0)), testenv.Dial(t, env.URL(0))
	alice.Login("alice")
	bob.Login("bob")
	for _, r := range []*testenv.Raw{alice, bob} {
		r.Send(protocol.Request{Op: protocol.OpChannelJoin, ChannelID: ch})
		r.Expect(protocol.EvChannelJoined)
	}
	const n = 5
	for i := range n {
		alice.Send(protocol.Request{Op: protocol.OpMessageChannelSend, ChannelID: ch, Msg: fmt.Sprint("m", i), MsgID: fmt.Sprint("c", i)})
	}
	for range n {
		alice.Expect(protocol.EvMessageSendSuccess)
	}
	// Every channel message has been handed to bob's connection before
	// alice heard of it (both are on one edge); the peer message she sends
	// next is written at once and takes all of them along, in order.
	alice.Send(protocol.Request{Op: protocol.OpMessageInstantSend, Account: "bob", Msg: "flush"})
	next := 0
	for {
		ev := bob.Next()
		if ev.Ev == protocol.EvMessageInstantReceive {
			break
		}
		if ev.Ev != protocol.EvMessageChannelReceive {
			continue
		}
		if want := fmt.Sprint("m", next); ev.Msg != want {
			t.Fatalf("bob got channel message %q, want %q", ev.Msg, want)
		}
		next++
	}
	if next != n {
		t.Fatalf("the peer message came after %d of the %d channel messages", next, n)
	}
}
