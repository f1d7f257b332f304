package e2e_test

import (
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/switchboard-io/switchboard/edge"
	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
	"github.com/switchboard-io/switchboard/subjects"
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

// Two users of one edge exchange peer messages without NATS: the edge
// queues the frame on the receiver's session and settles the message when
// the receiver acknowledges it, with the same callbacks as across edges.
func TestPeer_OnOneEdgeTheMessageGoesStraightToTheReceiver(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 0, "bob")
	nc, err := nats.Connect("", nats.InProcessServer(env.NATS))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	var published atomic.Int64
	users := strings.TrimSuffix(subjects.User(testenv.App.ID, "x"), subjects.Encode("x")) + "*"
	sub, err := nc.Subscribe(users, func(*nats.Msg) { published.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}

	const n = 20
	for i := range n {
		alice.MessageInstantSend("bob", 0, "to bob "+strconv.Itoa(i), "a"+strconv.Itoa(i))
		bob.MessageInstantSend("alice", 0, "to alice "+strconv.Itoa(i), "b"+strconv.Itoa(i))
	}
	alice.MessageInstantSend("alice", 0, "to myself", "self")
	for i := range n {
		alice.Wait(t, protocol.EvMessageSendSuccess, testenv.MsgID("a"+strconv.Itoa(i)))
		bob.Wait(t, protocol.EvMessageSendSuccess, testenv.MsgID("b"+strconv.Itoa(i)))
	}
	alice.Wait(t, protocol.EvMessageSendSuccess, testenv.MsgID("self"))
	alice.Wait(t, protocol.EvMessageInstantReceive, testenv.Account("alice"), testenv.Msg("to myself"))
	for _, c := range []struct {
		who  *testenv.User
		from string
		text string
	}{{bob, "alice", "to bob "}, {alice, "bob", "to alice "}} {
		i := 0
		for _, e := range c.who.Events() {
			if e.Ev == protocol.EvMessageInstantReceive && e.Account == c.from {
				if e.Msg != c.text+strconv.Itoa(i) {
					t.Fatalf("message %d from %s arrived as %q", i, c.from, e.Msg)
				}
				i++
			}
		}
		if i != n {
			t.Fatalf("%d messages from %s arrived, want %d", i, c.from, n)
		}
	}
	// A message that needs no other edge publishes nothing to NATS.
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	if p := published.Load(); p != 0 {
		t.Fatalf("%d messages were published to the users' subjects", p)
	}
	// A receiver who logged out fails the message as before (without the
	// tap, which NATS would count as a responder).
	if err := sub.Unsubscribe(); err != nil {
		t.Fatal(err)
	}
	bob.Logout()
	bob.Wait(t, protocol.EvLogout)
	alice.MessageInstantSend("bob", 0, "gone?", "gone")
	alice.Wait(t, protocol.EvMessageSendError, testenv.MsgID("gone"), testenv.Code(protocol.SendMessageOther))
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
