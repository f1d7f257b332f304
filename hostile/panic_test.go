package hostile

import (
	"strconv"
	"testing"
	"time"

	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
)

// A client that acknowledges its frames one at a time while it logs out
// (an ordinary client acking as it leaves a busy session): acks that reach
// the session as it ends, after it ended, beyond what was sent, or of
// nothing change nothing. The edge goes on serving everyone and recovers no
// panic, and every message sent to the client gets exactly one answer.
func TestHostile_AcksAfterLogoutDoNotPanic(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	url := env.URL(0)
	const senders, each = 40, 50
	alice := testenv.Dial(t, url)
	var conns []*testenv.Raw
	for round := range 4 {
		// Fresh senders each round, each well within its rate.
		var rds []*reader
		conns = nil
		for i := range senders {
			r := testenv.Dial(t, url)
			r.Login("sender" + strconv.Itoa(round) + "." + strconv.Itoa(i))
			conns = append(conns, r)
			rds = append(rds, readAll(t, r))
		}
		alice.Login("alice")
		// Alice gets messages she does not acknowledge yet.
		for i, r := range conns {
			for j := range each {
				r.Send(protocol.Request{Op: protocol.OpMessageInstantSend, Account: "alice", Msg: "hi",
					MsgID: strconv.Itoa(round) + "." + strconv.Itoa(i) + "." + strconv.Itoa(j)})
			}
		}
		for k := range senders * each {
			_ = alice.WS.SetReadDeadline(time.Now().Add(5 * time.Second))
			var ev protocol.Event
			if err := alice.WS.ReadJSON(&ev); err != nil {
				t.Fatalf("round %d: %d messages arrived, then %v", round, k, err)
			}
			if ev.Ev != protocol.EvMessageInstantReceive {
				t.Fatalf("round %d: got %+v", round, ev)
			}
		}
		// She logs out and acknowledges them one by one, and then some.
		alice.Send(protocol.Request{Op: protocol.OpLogout})
		for n := uint64(1); n <= senders*each; n++ {
			alice.Send(protocol.Request{Op: protocol.OpAck, N: n})
		}
		for _, n := range []uint64{0, 1 << 40, 1<<64 - 1} {
			alice.Send(protocol.Request{Op: protocol.OpAck, N: n})
		}
		alice.Expect(protocol.EvLogout)
		// Each message got its one answer: a success for those alice
		// acknowledged before her session ended, a failure for the rest.
		for _, rd := range rds {
			for range each {
				select {
				case ev := <-rd.events:
					if ev.Ev != protocol.EvMessageSendSuccess && ev.Ev != protocol.EvMessageSendError {
						t.Fatalf("a sender got %+v", ev)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("a message got no answer")
				}
			}
		}
	}
	// The edge serves as before.
	alice.Login("alice")
	conns[0].Send(protocol.Request{Op: protocol.OpMessageInstantSend, Account: "alice", Msg: "again", MsgID: "last"})
	if ev := alice.Expect(protocol.EvMessageInstantReceive); ev.Msg != "again" {
		t.Errorf("alice got %+v", ev)
	}
	if n := env.Edges[0].Edge.Panics(); n != 0 {
		t.Fatalf("the edge recovered %d panics", n)
	}
}
