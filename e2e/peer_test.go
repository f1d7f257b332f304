package e2e_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-io/switchboard/edge"
	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
)

func TestPeer_MessageCrossesEdges(t *testing.T) {
	env := testenv.Start(t, testenv.Options{Edges: 2, Workers: 2})
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 1, "bob")
	alice.MessageInstantSend("bob", 0, "hello bob", "m1")
	got := bob.Wait(t, protocol.EvMessageInstantReceive)
	if got.Account != "alice" || got.Msg != "hello bob" || got.UID != 0 {
		t.Fatalf("bob received %+v", got)
	}
	alice.Wait(t, protocol.EvMessageSendSuccess, testenv.MsgID("m1"))
	bob.MessageInstantSend("alice", 0, "hello alice", "m2")
	alice.Wait(t, protocol.EvMessageInstantReceive, testenv.Account("bob"), testenv.Msg("hello alice"))
	bob.Wait(t, protocol.EvMessageSendSuccess, testenv.MsgID("m2"))
}

// A receiver who is away keeps at most 4 MiB of messages for a resume;
// those beyond it fail at once with 400, whether the sender is on the
// receiver's edge or not, rather than with 401 after MessageTimeout.
func TestPeer_AwayReceiverWithAFullBufferRefusesAtOnce(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.Options{Edges: 2, Edge: func(c *edge.Config) {
		c.UserRate = 100000
		c.MessageTimeout = 3 * time.Second // for the kept ones, which carol never answers
	}})
	carol := testenv.Dial(t, env.URL(0))
	carol.Login("carol")
	carol.WS.Close() // gone without a word: her session waits for her
	msg := strings.Repeat("m", protocol.MaxMsgBytes)
	const n, kept = 700, 4 << 20 / protocol.MaxMsgBytes // 700 × 8 KiB is more than kept
	for i, at := range []int{0, 1} {
		sender := env.LoginUser(t, at, "sender"+strconv.Itoa(i))
		for k := range n {
			sender.MessageInstantSend("carol", 0, msg, "f"+strconv.Itoa(k))
		}
		for range n - kept - 20 {
			sender.Wait(t, protocol.EvMessageSendError, testenv.Code(protocol.SendMessageOther))
		}
	}
}

func TestPeer_MessagesArriveInOrder(t *testing.T) {
	env := testenv.Start(t, testenv.Options{Edges: 2})
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 1, "bob")
	const n = 50
	for i := 0; i < n; i++ {
		alice.MessageInstantSend("bob", 0, strconv.Itoa(i), "o"+strconv.Itoa(i))
	}
	for i := 0; i < n; i++ {
		alice.Wait(t, protocol.EvMessageSendSuccess, testenv.MsgID("o"+strconv.Itoa(i)))
	}
	i := 0
	for _, e := range bob.Events() {
		if e.Ev != protocol.EvMessageInstantReceive {
			continue
		}
		if e.Msg != strconv.Itoa(i) {
			t.Fatalf("message %d arrived as %q", i, e.Msg)
		}
		i++
	}
	if i != n {
		t.Fatalf("bob received %d messages, want %d", i, n)
	}
}

func TestPeer_OfflinePeerFails400(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	alice := env.LoginUser(t, 0, "alice")
	alice.MessageInstantSend("nobody", 0, "hello?", "off1")
	alice.Wait(t, protocol.EvMessageSendError, testenv.MsgID("off1"), testenv.Code(protocol.SendMessageOther))
}

func TestPeer_EmptyMsgIDIsReplacedByAUniqueOne(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	alice := env.LoginUser(t, 0, "alice")
	env.LoginUser(t, 0, "bob")
	alice.MessageInstantSend("bob", 0, "one", "")
	alice.MessageInstantSend("bob", 0, "two", "")
	first := alice.Wait(t, protocol.EvMessageSendSuccess)
	second := alice.Wait(t, protocol.EvMessageSendSuccess)
	if first.MessageID == "" || second.MessageID == "" || first.MessageID == second.MessageID {
		t.Fatalf("message IDs %q and %q are not unique", first.MessageID, second.MessageID)
	}
}

func TestPeer_BadMessagesFailAndTheSessionGoesOn(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 0, "bob")
	alice.MessageInstantSend("bob", 0, strings.Repeat("x", protocol.MaxMsgBytes+1), "big")
	alice.Wait(t, protocol.EvMessageSendError, testenv.MsgID("big"), testenv.Code(protocol.LargeParam))
	alice.MessageInstantSend("not a name", 0, "hi", "badname")
	alice.Wait(t, protocol.EvMessageSendError, testenv.MsgID("badname"), testenv.Code(protocol.WrongParam))
	alice.MessageInstantSend("bob", 0, strings.Repeat("y", protocol.MaxMsgBytes), "max")
	alice.Wait(t, protocol.EvMessageSendSuccess, testenv.MsgID("max"))
	bob.Wait(t, protocol.EvMessageInstantReceive, func(e protocol.Event) bool { return len(e.Msg) == protocol.MaxMsgBytes })
	if n := bob.Count(protocol.EvMessageInstantReceive); n != 1 {
		t.Fatalf("bob received %d messages, want only the legal one", n)
	}
}

func TestPeer_MoreThan60PerSecondFails(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 0, "bob")
	// The limit is a bucket of 60 that refills at 60 a second: of a burst
	// that takes d from the first send to the last answer, at least 60 and
	// at most 60 + 60·d pass, and the rest are refused.
	const sent = 200
	start := time.Now()
	for i := 0; i < sent; i++ {
		alice.MessageInstantSend("bob", 0, "flood", "f"+strconv.Itoa(i))
	}
	ok, failed := 0, 0
	for i := 0; i < sent; i++ {
		id := "f" + strconv.Itoa(i)
		e := alice.Wait(t, "", func(e protocol.Event) bool {
			return e.MessageID == id && (e.Ev == protocol.EvMessageSendSuccess || e.Ev == protocol.EvMessageSendError)
		})
		if e.Ev == protocol.EvMessageSendSuccess {
			ok++
		} else if e.Ecode == protocol.SendMessageOther {
			failed++
		}
	}
	took := time.Since(start)
	if ok < 60 || float64(ok) > 61+60*took.Seconds() || ok+failed != sent {
		t.Fatalf("of %d messages in a burst over %v, %d succeeded and %d failed with 400; want 60 to %.0f to pass", sent, took, ok, failed, 60+60*took.Seconds())
	}
	// Everything acknowledged arrived, and nothing else did: bob's own
	// query is answered on his socket after every frame already sent there.
	queryStatus(t, bob, "alice")
	if n := bob.Count(protocol.EvMessageInstantReceive); n != ok {
		t.Fatalf("bob received %d messages, %d were acknowledged", n, ok)
	}
}

// TestPeer_UnacknowledgedFails401AfterMessageTimeout: a receiver that gets the
// message and never acknowledges it leaves its sender with 401 once
// MessageTimeout has passed, and the messages after it still go.
func TestPeer_UnacknowledgedFails401AfterMessageTimeout(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	env := testenv.Start(t, testenv.Options{Edge: func(c *edge.Config) { c.MessageTimeout = timeout }})
	alice := env.LoginUser(t, 0, "alice")
	mute := testenv.Dial(t, env.URL(0))
	mute.Login("mute") // a raw client: it reads and never acknowledges
	start := time.Now()
	alice.MessageInstantSend("mute", 0, "are you there?", "m1")
	if ev := mute.Expect(protocol.EvMessageInstantReceive); ev.Msg != "are you there?" {
		t.Fatalf("mute got %+v", ev)
	}
	alice.Wait(t, protocol.EvMessageSendError, testenv.MsgID("m1"), testenv.Code(protocol.SendMessageTimeout))
	if waited := time.Since(start); waited < timeout {
		t.Fatalf("401 after %v, before MessageTimeout %v", waited, timeout)
	}
	env.LoginUser(t, 0, "bob")
	alice.MessageInstantSend("bob", 0, "hi", "m2")
	alice.Wait(t, protocol.EvMessageSendSuccess, testenv.MsgID("m2"))
}
