package e2e_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-io/switchboard/edge"
	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
)

// The frames of peer messages come from a pool and go back to it once
// written and acknowledged. Here every client acknowledges far ahead of
// what it has read, as a hostile client may, so that its session lets go
// of frames its connection has not written yet; and a few hundred messages
// cross between eight users at once. Every message reaches its receiver
// alone, with its own text, and every sender hears of its own messages
// and no others, each once.
func TestPeer_PooledFramesReachOnlyTheirReceiverWhateverTheAcks(t *testing.T) {
	env := testenv.Start(t, testenv.Options{Edge: func(c *edge.Config) { c.UserRate = 1 << 20 }})
	const users, each = 8, 150
	type client struct {
		r   *testenv.Raw
		wmu sync.Mutex // gorilla takes one writer at a time
	}
	cs := make([]*client, users)
	for i := range cs {
		cs[i] = &client{r: testenv.Dial(t, env.URL(0))}
		cs[i].r.Login(fmt.Sprintf("u%d", i))
	}
	type tally struct {
		got      map[string]int // text → times received
		succeeds map[string]int // message ID → onMessageSendSuccess
		bad      []string
	}
	tallies := make([]*tally, users)
	var wg sync.WaitGroup
	for i, c := range cs {
		tl := &tally{got: map[string]int{}, succeeds: map[string]int{}}
		tallies[i] = tl
		wg.Add(1)
		go func() {
			defer wg.Done()
			me := fmt.Sprintf("u%d", i)
			deadline := time.Now().Add(testenv.WaitTimeout)
			for len(tl.succeeds) < each || sum(tl.got) < each {
				_ = c.r.WS.SetReadDeadline(deadline)
				var ev protocol.Event
				if err := c.r.WS.ReadJSON(&ev); err != nil {
					tl.bad = append(tl.bad, fmt.Sprintf("%s: reading: %v (%d of %d received, %d of %d answered)", me, err, sum(tl.got), each, len(tl.succeeds), each))
					return
				}
				switch ev.Ev {
				case protocol.EvMessageInstantReceive:
					if want := " to " + me + " #"; !strings.HasPrefix(ev.Msg, "from "+ev.Account+want) {
						tl.bad = append(tl.bad, fmt.Sprintf("%s got %q from %s", me, ev.Msg, ev.Account))
					}
					tl.got[ev.Msg]++
					// Far ahead of anything sent: the session drops
					// every frame it keeps, written or not.
					c.wmu.Lock()
					err := c.r.WS.WriteMessage(websocket.TextMessage, []byte(`{"op":"ack","n":1000000000}`))
					c.wmu.Unlock()
					if err != nil {
						tl.bad = append(tl.bad, fmt.Sprintf("%s: ack: %v", me, err))
						return
					}
				case protocol.EvMessageSendSuccess:
					if !strings.HasPrefix(ev.MessageID, me+"-") {
						tl.bad = append(tl.bad, fmt.Sprintf("%s heard of %s's message %q", me, strings.Split(ev.MessageID, "-")[0], ev.MessageID))
					}
					tl.succeeds[ev.MessageID]++
				case protocol.EvMessageSendError:
					tl.bad = append(tl.bad, fmt.Sprintf("%s: message %s failed with %d", me, ev.MessageID, ev.Ecode))
					return
				}
			}
		}()
	}
	// Each user sends `each` messages, to every other user in turn, so
	// that each also receives `each`.
	for k := range each {
		for i, c := range cs {
			to := (i + 1 + k%(users-1)) % users
			text := fmt.Sprintf("from u%d to u%d #%d %s", i, to, k, strings.Repeat("x", k%97))
			c.wmu.Lock()
			err := c.r.WS.WriteJSON(protocol.Request{Op: protocol.OpMessageInstantSend, Account: fmt.Sprintf("u%d", to), MsgID: fmt.Sprintf("u%d-%d", i, k), Msg: text})
			c.wmu.Unlock()
			if err != nil {
				t.Fatalf("u%d sends: %v", i, err)
			}
		}
	}
	wg.Wait()
	for i, tl := range tallies {
		for _, b := range tl.bad {
			t.Error(b)
		}
		for text, n := range tl.got {
			if n != 1 {
				t.Errorf("u%d got %q %d times", i, text, n)
			}
		}
		for id, n := range tl.succeeds {
			if n != 1 {
				t.Errorf("u%d heard of %s %d times", i, id, n)
			}
		}
		if sum(tl.got) != each || len(tl.succeeds) != each {
			t.Errorf("u%d: %d messages received, %d answered, want %d of each", i, sum(tl.got), len(tl.succeeds), each)
		}
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
