package e2e_test

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-io/switchboard/edge"
	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
)

// An edge that falls behind on a channel refuses its members' new messages
// to it before publishing them, and never reports a delivered message as
// failed: each message is either delivered to every member and succeeds,
// or is refused (400) and delivered to no one; none times out (401) while
// it is only queued.
func TestOverload_AMessageFailsOnlyIfNoOneGetsIt(t *testing.T) {
	const ch = "busy"
	var hold atomic.Bool
	release := make(chan struct{})
	var once sync.Once
	open := func() { once.Do(func() { hold.Store(false); close(release) }) }
	t.Cleanup(open)
	env := testenv.Start(t, testenv.Options{Edges: 2, Edge: func(c *edge.Config) {
		c.UserRate, c.ChannelRate = 1<<20, 1<<20
		c.ShedBacklog = 16
		// Short, so that messages wait past it while the channel is held:
		// their wait must start again rather than fail them.
		c.MessageTimeout = time.Second
		// The test holds the channel's arrivals on both edges, as a busy
		// edge that cannot keep up would.
		c.ChannelHook = func(_, name string) {
			if name == ch && hold.Load() {
				<-release
			}
		}
	}})
	alice := env.LoginUser(t, 0, "alice")
	carol := env.LoginUser(t, 0, "carol")
	bob := env.LoginUser(t, 1, "bob")
	for _, u := range []*testenv.User{alice, carol, bob} {
		chJoin(t, u, ch)
	}

	hold.Store(true)
	const sent = 200
	for i := 0; i < sent; i++ {
		id := "o" + strconv.Itoa(i)
		alice.MessageChannelSend(ch, id, id)
	}
	// Refusals come at once, while the channel is held; waits start again
	// once a held message is older than MessageTimeout.
	alice.Wait(t, protocol.EvMessageSendError, testenv.Code(protocol.SendMessageOther))
	eventually(t, func() (bool, string) {
		n := env.Edges[0].Edge.Stats().ChannelWaitsExtended
		return n > 0, strconv.FormatUint(n, 10) + " waits started again"
	})
	open()

	ok, failed := map[string]bool{}, map[string]int{}
	eventually(t, func() (bool, string) {
		clear(ok)
		clear(failed)
		for _, e := range alice.Events() {
			switch e.Ev {
			case protocol.EvMessageSendSuccess:
				ok[e.MessageID] = true
			case protocol.EvMessageSendError:
				failed[e.MessageID] = e.Ecode
			}
		}
		return len(ok)+len(failed) == sent, strconv.Itoa(len(ok)+len(failed)) + " outcomes of " + strconv.Itoa(sent)
	})
	for id, code := range failed {
		if code != protocol.SendMessageOther {
			t.Errorf("%s failed with %d, want 400 (refused before publishing)", id, code)
		}
	}
	if len(ok) == 0 || len(failed) == 0 {
		t.Fatalf("%d succeeded and %d were refused; want both", len(ok), len(failed))
	}
	// A marker after alice's messages, on her connection: once a member
	// has it, the member has everything of hers that was published.
	alice.MessageChannelSend(ch, "marker", "mk")
	for _, u := range []*testenv.User{carol, bob} {
		u.Wait(t, protocol.EvMessageChannelReceive, testenv.Msg("marker"))
		got := map[string]bool{}
		for _, e := range chEvents(u, ch, protocol.EvMessageChannelReceive) {
			if e.Msg != "marker" {
				if got[e.Msg] {
					t.Errorf("%s got %s twice", u.Account, e.Msg)
				}
				got[e.Msg] = true
			}
		}
		if !mapsEqual(got, ok) {
			t.Errorf("%s got %d messages, %d succeeded; refused ones delivered: %v", u.Account, len(got), len(ok), onlyIn(got, ok))
		}
	}
	t.Logf("%d delivered and succeeded, %d refused at once", len(ok), len(failed))
}

// onlyIn lists the keys of a that b lacks.
func onlyIn(a, b map[string]bool) []string {
	var out []string
	for k := range a {
		if !b[k] {
			out = append(out, k)
		}
	}
	return out
}
