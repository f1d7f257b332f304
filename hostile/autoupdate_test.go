package hostile

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/nats-io/nats.go"

	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
)

// TestHostile_AutoUpdateCostDoesNotGrowWithChannels plays a user who joins
// many channels and sets _auto_update_num=1 on each (issue 9, point 7). The
// JetStream requests the server makes while the pushes run must not grow
// with the number of such channels (they grew by one KV read per channel per
// second), and the pushes must still reach every member.
func TestHostile_AutoUpdateCostDoesNotGrowWithChannels(t *testing.T) {
	const (
		channels = 300
		// maxJSPerSecond bounds every JetStream API request and KV write
		// the whole server makes while the pushes run: edge leases and
		// session refreshes, well under this, and no read per channel.
		maxJSPerSecond = 50
		window         = 3 * time.Second
	)
	env := testenv.Start(t, testenv.Options{Edges: 2})

	// Count what reaches JetStream: API requests (KV gets among them) and
	// KV writes.
	nc, err := nats.Connect("", nats.InProcessServer(env.NATS))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	var jsRequests atomic.Int64
	for _, subj := range []string{"$JS.API.>", "$KV.>"} {
		if _, err := nc.Subscribe(subj, func(*nats.Msg) { jsRequests.Add(1) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}

	mallory := dialAutoClient(t, env.URL(0), "mallory")
	name := func(i int) string { return fmt.Sprintf("tick-%03d", i) }
	// Joins go in windows, so that the test stays within any bound on
	// requests in flight per connection.
	const inFlight = 16
	for i := 0; i < channels; i += inFlight {
		n := min(inFlight, channels-i)
		for j := range n {
			mallory.send(protocol.Request{Op: protocol.OpChannelJoin, ChannelID: name(i + j)})
		}
		mallory.waitCount(t, "joined", i+n)
	}
	bob := env.LoginUser(t, 1, "bob")
	bob.ChannelJoin(name(0))
	bob.Wait(t, protocol.EvChannelJoined, testenv.Channel(name(0)))
	for i := 0; i < channels; i += inFlight {
		n := min(inFlight, channels-i)
		for j := range n {
			mallory.send(protocol.Request{Op: protocol.OpChannelSetAttr, ChannelID: name(i + j), Name: "_auto_update_num", Value: "1"})
		}
		mallory.waitCount(t, "auto", i+n)
	}

	// Measure for at least the window and until every channel pushed at
	// least once in it, so that a slow machine lengthens the window
	// instead of hiding the reads.
	mallory.resetPushes()
	start, before := time.Now(), jsRequests.Load()
	deadline := start.Add(60 * time.Second)
	for time.Since(start) < window || mallory.pushedChannels() < channels {
		if time.Now().After(deadline) {
			t.Fatalf("in %v, %d of %d channels pushed _member_num", time.Since(start), mallory.pushedChannels(), channels)
		}
		mallory.waitChange(time.Second)
	}
	elapsed, reqs := time.Since(start), jsRequests.Load()-before
	perSecond := float64(reqs) / elapsed.Seconds()
	t.Logf("%d channels with _auto_update_num=1: %d JetStream requests in %v (%.1f/s)", channels, reqs, elapsed.Round(time.Millisecond), perSecond)
	if perSecond >= maxJSPerSecond {
		t.Fatalf("%.1f JetStream requests per second with %d auto-updated channels, want under %d: the cost grows with the channels", perSecond, channels, maxJSPerSecond)
	}

	// The other member still gets the count, again and again.
	memberNum2 := func(e protocol.Event) bool {
		return e.Name == "_member_num" && e.Value == "2" && e.Type == protocol.AttrUpdate
	}
	deadline = time.Now().Add(30 * time.Second)
	for bob.Count(protocol.EvChannelAttrUpdated, testenv.Channel(name(0)), memberNum2) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("bob got _member_num=2 %d times, want at least 2", bob.Count(protocol.EvChannelAttrUpdated, testenv.Channel(name(0)), memberNum2))
		}
		bob.WaitFor(t, 30*time.Second, protocol.EvChannelAttrUpdated, testenv.Channel(name(0)), memberNum2)
	}
}

// autoClient is a raw client that reads every frame on its own goroutine,
// acknowledges them as a client must, and counts what the test waits for.
type autoClient struct {
	t   *testing.T
	ws  *websocket.Conn
	wmu sync.Mutex

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every count change
	counts  map[string]int
	pushed  map[string]bool // channels that pushed _member_num since resetPushes
	err     error
}

func dialAutoClient(t *testing.T, url, account string) *autoClient {
	t.Helper()
	raw := testenv.Dial(t, url)
	raw.Login(account)
	c := &autoClient{t: t, ws: raw.WS, changed: make(chan struct{}), counts: map[string]int{}, pushed: map[string]bool{}}
	go c.read()
	return c
}

func (c *autoClient) send(r protocol.Request) {
	c.t.Helper()
	c.wmu.Lock()
	err := c.ws.WriteJSON(r)
	c.wmu.Unlock()
	if err != nil {
		c.t.Fatalf("send %s: %v", r.Op, err)
	}
}

// read counts joins, _auto_update_num updates and _member_num pushes, and
// acknowledges every protocol.AckEvery frames (an acknowledgement past what
// the edge sent is capped by the edge).
func (c *autoClient) read() {
	var n uint64
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			c.mu.Lock()
			c.err = err
			c.bump()
			c.mu.Unlock()
			return
		}
		n++
		if n%protocol.AckEvery == 0 {
			c.wmu.Lock()
			_ = c.ws.WriteJSON(protocol.Request{Op: protocol.OpAck, N: n})
			c.wmu.Unlock()
		}
		ev, err := testenv.Decode(data)
		if err != nil {
			continue
		}
		c.mu.Lock()
		switch {
		case ev.Ev == protocol.EvChannelJoined:
			c.counts["joined"]++
		case ev.Ev == protocol.EvChannelJoinFailed, ev.Ev == protocol.EvError:
			c.err = fmt.Errorf("%s %s %s, code %d", ev.Ev, ev.Name, ev.ChannelID, ev.Ecode)
		case ev.Ev == protocol.EvChannelAttrUpdated && ev.Name == "_auto_update_num" && ev.Value == "1":
			c.counts["auto"]++
		case ev.Ev == protocol.EvChannelAttrUpdated && ev.Name == "_member_num":
			c.pushed[ev.ChannelID] = true
		default:
			c.mu.Unlock()
			continue
		}
		c.bump()
		c.mu.Unlock()
	}
}

// bump wakes the waiters. c.mu is held.
func (c *autoClient) bump() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// waitCount waits until the count of key reaches want, failing on an error
// frame, a closed connection, or after 30 s without progress.
func (c *autoClient) waitCount(t *testing.T, key string, want int) {
	t.Helper()
	for {
		c.mu.Lock()
		got, err, ch := c.counts[key], c.err, c.changed
		c.mu.Unlock()
		if err != nil {
			t.Fatalf("mallory: %v", err)
		}
		if got >= want {
			return
		}
		select {
		case <-ch:
		case <-time.After(30 * time.Second):
			t.Fatalf("mallory: %s = %d after 30 s, want %d", key, got, want)
		}
	}
}

// waitChange waits for the next counted frame, or at most d.
func (c *autoClient) waitChange(d time.Duration) {
	c.mu.Lock()
	ch := c.changed
	c.mu.Unlock()
	select {
	case <-ch:
	case <-time.After(d):
	}
}

func (c *autoClient) resetPushes() {
	c.mu.Lock()
	c.pushed = map[string]bool{}
	c.mu.Unlock()
}

func (c *autoClient) pushedChannels() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pushed)
}
