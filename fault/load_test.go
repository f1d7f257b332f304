package fault_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
)

// Lobby is the channel every client of a fault scenario is in.
const lobby = "lobby"

// client is one SDK user of a scenario.
type client struct {
	*testenv.User
	home int // the edge it first connected to
}

// fleet is a scenario's users and the traffic they exchange.
type fleet struct {
	t       *testing.T
	clients []*client
	byName  map[string]*client

	seq     atomic.Int64
	mu      sync.Mutex
	sent    map[string]string // msgID → receiver (peer messages)
	chSent  map[string]bool   // msgID of channel messages
	stop    chan struct{}
	stopped sync.WaitGroup
}

// newFleet logs n clients in, spread over the edges, each knowing every
// edge's URL (its own first), and joins them all to the lobby.
func newFleet(t *testing.T, c *cluster, n int) *fleet {
	t.Helper()
	f := &fleet{t: t, byName: map[string]*client{}, sent: map[string]string{}, chSent: map[string]bool{}}
	for i := 0; i < n; i++ {
		home := i % len(c.urls)
		urls := []string{c.urls[home]}
		for j := range c.urls {
			if j != home {
				urls = append(urls, c.urls[j])
			}
		}
		f.add(t, fmt.Sprintf("u%03d", i), home, urls...)
	}
	for _, cl := range f.clients {
		cl.Wait(t, protocol.EvLoginSuccess)
		cl.ChannelJoin(lobby)
	}
	for _, cl := range f.clients {
		cl.Wait(t, protocol.EvChannelJoined, testenv.Channel(lobby))
	}
	return f
}

// add logs one more client in through urls.
func (f *fleet) add(t *testing.T, name string, home int, urls ...string) *client {
	u := testenv.NewUser(t, name, urls...)
	u.Login(testenv.App.ID, name, "_no_need_token", 0, "")
	cl := &client{User: u, home: home}
	f.clients = append(f.clients, cl)
	f.byName[name] = cl
	return cl
}

// traffic makes every client send a peer message to a random other client
// every period, and one client in ten a lobby message too, until stopTraffic.
func (f *fleet) traffic(period time.Duration) {
	f.stop = make(chan struct{})
	for i, cl := range f.clients {
		f.stopped.Add(1)
		go func(i int, cl *client) {
			defer f.stopped.Done()
			tick := time.NewTicker(period)
			defer tick.Stop()
			for {
				select {
				case <-f.stop:
					return
				case <-tick.C:
				}
				peer := f.clients[rand.IntN(len(f.clients))]
				if peer == cl {
					continue
				}
				id := fmt.Sprintf("%s-%d", cl.Account, f.seq.Add(1))
				f.mu.Lock()
				f.sent[id] = peer.Account
				f.mu.Unlock()
				cl.MessageInstantSend(peer.Account, 0, id, id)
				if i%10 == 0 {
					cid := "c" + id
					f.mu.Lock()
					f.chSent[cid] = true
					f.mu.Unlock()
					cl.MessageChannelSend(lobby, cid, cid)
				}
			}
		}(i, cl)
	}
}

func (f *fleet) stopTraffic() {
	close(f.stop)
	f.stopped.Wait()
}

// settle waits until every message sent has an answer at its sender
// (success or error), failing after d.
func (f *fleet) settle(d time.Duration) {
	f.t.Helper()
	deadline := time.Now().Add(d)
	f.mu.Lock()
	var ids []string
	for id := range f.sent {
		ids = append(ids, id)
	}
	for id := range f.chSent {
		ids = append(ids, id)
	}
	f.mu.Unlock()
	for _, id := range ids {
		sender := f.byName[strings.SplitN(strings.TrimPrefix(id, "c"), "-", 2)[0]]
		left := max(time.Until(deadline), time.Millisecond)
		sender.WaitFor(f.t, left, "", testenv.MsgID(id), func(e protocol.Event) bool {
			return e.Ev == protocol.EvMessageSendSuccess || e.Ev == protocol.EvMessageSendError
		})
	}
}

// tally counts what happened to the peer and channel messages and fails
// the test for any message acknowledged to its sender and not delivered.
type tally struct {
	sent, acked, failed, delivered, lost, dup int
	// failedDelivered counts peer messages reported failed to their
	// sender that their receiver got all the same.
	failedDelivered                       int
	chSent, chAcked, chDeliveries, chLost int
}

func (f *fleet) tally() tally {
	f.t.Helper()
	var tl tally
	acked := map[string]bool{}
	failed := map[string]bool{}
	got := map[string]int{}               // peer msgID → deliveries at its receiver
	chGot := map[string]map[string]bool{} // channel msgID → receivers
	for _, cl := range f.clients {
		for _, e := range cl.Events() {
			switch e.Ev {
			case protocol.EvMessageSendSuccess:
				acked[e.MessageID] = true
			case protocol.EvMessageSendError:
				failed[e.MessageID] = true
			case protocol.EvMessageInstantReceive:
				if f.sent[e.Msg] == cl.Account {
					got[e.Msg]++
				}
			case protocol.EvMessageChannelReceive:
				if e.ChannelID == lobby && strings.HasPrefix(e.Msg, "c") {
					if chGot[e.Msg] == nil {
						chGot[e.Msg] = map[string]bool{}
					}
					chGot[e.Msg][cl.Account] = true
				}
			}
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for id := range f.sent {
		tl.sent++
		if acked[id] {
			tl.acked++
			switch n := got[id]; {
			case n == 0:
				tl.lost++
				f.t.Errorf("peer message %s was acknowledged to its sender and never delivered", id)
			case n > 1:
				tl.dup++
			}
		}
		if failed[id] {
			tl.failed++
			if got[id] > 0 {
				tl.failedDelivered++
			}
		}
		tl.delivered += min(got[id], 1)
	}
	for id := range f.chSent {
		tl.chSent++
		if acked[id] {
			tl.chAcked++
			if len(chGot[id]) == 0 {
				tl.chLost++
				f.t.Errorf("channel message %s was acknowledged to its sender and delivered to nobody", id)
			}
		}
		tl.chDeliveries += len(chGot[id])
	}
	return tl
}

func (tl tally) String() string {
	return fmt.Sprintf("peer: sent %d, acknowledged %d, failed %d (delivered all the same %d), delivered %d, lost %d, duplicated %d; "+
		"channel: sent %d, acknowledged %d, deliveries %d, lost %d",
		tl.sent, tl.acked, tl.failed, tl.failedDelivered, tl.delivered, tl.lost, tl.dup, tl.chSent, tl.chAcked, tl.chDeliveries, tl.chLost)
}

// report prints what a scenario counted, whatever the verbosity.
func report(t *testing.T, format string, args ...any) {
	line := fmt.Sprintf("%s: "+format, append([]any{t.Name()}, args...)...)
	t.Log(line)
	fmt.Fprintln(os.Stderr, line)
}
