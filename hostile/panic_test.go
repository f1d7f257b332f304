package hostile

import (
	"strconv"
	"testing"
	"time"

	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
)

// Acks after a logout, acks beyond what was sent and acks of nothing must
// change nothing: the edge goes on serving everyone, and recovers no panic.
func TestHostile_AcksAfterLogoutDoNotPanic(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	url := env.URL(0)
	bob := testenv.Dial(t, url)
	bob.Login("bob")
	bobRd := readAll(t, bob)

	alice := testenv.Dial(t, url)
	alice.Login("alice")
	// Alice gets messages she does not acknowledge.
	for _, id := range []string{"m1", "m2", "m3"} {
		bob.Send(protocol.Request{Op: protocol.OpMessageInstantSend, Account: "alice", Msg: "hi", MsgID: id})
		alice.Expect(protocol.EvMessageInstantReceive)
	}
	// She is in channels, so that her session's end has work to do while
	// her acks keep coming.
	for i := range 20 {
		alice.Send(protocol.Request{Op: protocol.OpChannelJoin, ChannelID: "busy" + strconv.Itoa(i)})
		alice.Expect(protocol.EvChannelJoined)
	}
	alice.Send(protocol.Request{Op: protocol.OpLogout})
	stop := make(chan struct{})
	acked := make(chan struct{})
	go func() {
		defer close(acked)
		for _, n := range []uint64{1, 3, 1 << 40, 0, 1 << 63} {
			for range 50 {
				select {
				case <-stop:
					return
				default:
				}
				if alice.WS.WriteJSON(protocol.Request{Op: protocol.OpAck, N: n}) != nil {
					return
				}
			}
		}
	}()
	alice.Expect(protocol.EvLogout)
	<-acked
	close(stop)
	// Each of bob's messages got its one answer: a success for those
	// alice acknowledged before her session ended, a failure for the rest.
	for range 3 {
		select {
		case ev := <-bobRd.events:
			if ev.Ev != protocol.EvMessageSendSuccess && ev.Ev != protocol.EvMessageSendError {
				t.Fatalf("bob got %+v", ev)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a message of bob's got no answer")
		}
	}

	// The edge serves as before: alice logs in again on the same
	// connection, and bob's next message reaches her.
	alice.Login("alice")
	bob.Send(protocol.Request{Op: protocol.OpMessageInstantSend, Account: "alice", Msg: "again", MsgID: "m4"})
	if ev := alice.Expect(protocol.EvMessageInstantReceive); ev.Msg != "again" {
		t.Errorf("alice got %+v", ev)
	}
	carol := testenv.Dial(t, url)
	carol.Login("carol")
	if n := env.Edges[0].Edge.Panics(); n != 0 {
		t.Fatalf("the edge recovered %d panics", n)
	}
}
