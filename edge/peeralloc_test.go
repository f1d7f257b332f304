package edge

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// testEdge is an edge without NATS whose sessions take peer messages sent
// on it (peerSender.start), as deliverHere delivers them.
func testEdge(t *testing.T, replayFrames int) *Server {
	t.Helper()
	cfg := DefaultConfig()
	cfg.ReplayFrames = replayFrames
	srv := &Server{cfg: cfg, log: discardLog(), sessions: map[string]*session{}, users: map[userKey]*userEntry{}, chans: map[chanKey]*channel{}}
	srv.peers = &peerSender{srv: srv, prefix: "_INBOX.edge1.", pending: map[uint64]*pendingSend{}}
	return srv
}

// testSession is a confirmed session of account on srv, the one peer
// messages to account find.
func testSession(srv *Server, account string) *session {
	sess := newSession(srv, "app", account, 0, "sid-"+account)
	sess.confirmed.Store(true)
	srv.users[userKey{"app", account}] = &userEntry{sessions: []*session{sess}}
	return sess
}

// A replay buffer that the client keeps acknowledging stays in the array
// it has: neither delivering nor acknowledging allocates once it is warm,
// however far behind the client acknowledges.
func TestSession_DeliverAndAckReuseTheBuffer(t *testing.T) {
	srv := testEdge(t, DefaultConfig().ReplayFrames)
	sess := testSession(srv, "bob")
	f := newFrame([]byte(`{"ev":"x"}`))
	for _, c := range []struct {
		name          string
		batch, behind int // frames per cycle, and how many stay unacknowledged
	}{
		{"one at a time", 1, 0},
		{"every 64, all", 64, 0},
		{"every 64, 10 behind", 64, 10},
		{"every 64, 100 behind", 64, 100},
	} {
		cycle := func() {
			for range c.batch {
				sess.deliverFrame(f, "")
			}
			sess.ack(sess.sent - uint64(min(c.behind, int(sess.sent))))
		}
		for range 100 {
			cycle()
		}
		if n := testing.AllocsPerRun(1000, cycle); n != 0 {
			t.Errorf("%s: %.0f allocations per cycle of %d frames, want 0", c.name, n, c.batch)
		}
		sess.ack(sess.sent)
	}
}

// Whatever the order of frames, peer messages, acknowledgements and
// trimming, the replay buffer holds exactly the frames after base, the
// pending acknowledgements exactly those of its peer messages, every sender
// learns its message's outcome once, and nothing outside what is kept stays
// in the arrays.
func TestSession_ReplayBufferMatchesAModel(t *testing.T) {
	const replay = 16
	srv := testEdge(t, replay)
	sess := testSession(srv, "bob")
	rng := rand.New(rand.NewPCG(1, 2))

	type sent struct {
		f   *frame
		msg int // the peer message it carries, or -1
	}
	var (
		kept     []sent // the model of the buffer: frames base+1 …
		base     uint64 // of the model
		outcomes = map[int]string{}
		want     = map[int]string{}
		msgs     int
	)
	settle := func(msg int, what string) {
		if _, dup := want[msg]; dup {
			t.Fatalf("message %d settled twice in the model", msg)
		}
		want[msg] = what
	}
	for step := range 20000 {
		switch r := rng.IntN(10); {
		case r < 4:
			f := newFrame(fmt.Appendf(nil, `{"ev":"x","n":%d}`, step))
			sess.deliverFrame(f, "")
			kept = append(kept, sent{f, -1})
		case r < 7:
			msg := msgs
			msgs++
			srv.peers.start(&pendingSend{app: "app", to: "bob", msgID: fmt.Sprint(msg), from: "alice", msg: fmt.Sprint(msg),
				notify: func(err error) {
					if _, dup := outcomes[msg]; dup {
						t.Fatalf("message %d settled twice", msg)
					}
					outcomes[msg] = fmt.Sprint(err)
				}})
			kept = append(kept, sent{sess.buf[len(sess.buf)-1], msg})
		default:
			n := base + uint64(rng.IntN(3*replay)) - 2
			sess.ack(n)
			for len(kept) > 0 && base < n {
				if kept[0].msg >= 0 {
					settle(kept[0].msg, "<nil>")
				}
				kept = kept[1:]
				base++
			}
		}
		for len(kept) > replay {
			if kept[0].msg >= 0 {
				settle(kept[0].msg, errOffline.Error())
			}
			kept = kept[1:]
			base++
		}

		sess.mu.Lock()
		if sess.base != base || len(sess.buf) != len(kept) {
			t.Fatalf("step %d: base %d with %d frames, want %d with %d", step, sess.base, len(sess.buf), base, len(kept))
		}
		bytes := 0
		var acks []uint64
		for i, k := range kept {
			if sess.buf[i] != k.f {
				t.Fatalf("step %d: frame %d is not the one delivered", step, base+uint64(i)+1)
			}
			bytes += len(k.f.data)
			if k.msg >= 0 {
				acks = append(acks, base+uint64(i)+1)
			}
		}
		if sess.bufBytes != bytes {
			t.Fatalf("step %d: %d bytes counted, want %d", step, sess.bufBytes, bytes)
		}
		if len(sess.acks) != len(acks) {
			t.Fatalf("step %d: %d pending acknowledgements, want %d", step, len(sess.acks), len(acks))
		}
		for i, a := range sess.acks {
			if a.seq != acks[i] {
				t.Fatalf("step %d: pending acknowledgement %d of frame %d, want %d", step, i, a.seq, acks[i])
			}
		}
		// What the arrays hold outside buf and acks is cleared.
		if off := cap(sess.buf0) - cap(sess.buf); off < 0 || cap(sess.buf) > 0 && &sess.buf0[:cap(sess.buf0)][off] != &sess.buf[:1][0] {
			t.Fatalf("step %d: buf0 is not buf's array", step)
		}
		for i, f := range sess.buf0[:cap(sess.buf0)] {
			if off := cap(sess.buf0) - cap(sess.buf); (i < off || i >= off+len(sess.buf)) && f != nil {
				t.Fatalf("step %d: the buffer's array keeps a dropped frame at %d", step, i)
			}
		}
		for i, a := range sess.acks0[:cap(sess.acks0)] {
			if off := cap(sess.acks0) - cap(sess.acks); (i < off || i >= off+len(sess.acks)) && a != (pendingAck{}) {
				t.Fatalf("step %d: the acknowledgements' array keeps a settled one at %d", step, i)
			}
		}
		sess.mu.Unlock()
	}
	if len(outcomes) != len(want) {
		t.Fatalf("%d messages settled, want %d", len(outcomes), len(want))
	}
	for msg, w := range want {
		if outcomes[msg] != w {
			t.Fatalf("message %d: %s, want %s", msg, outcomes[msg], w)
		}
	}
}

// A peer message between two sessions of one edge allocates nothing on its
// way there and back once warm: not the receiver's frame (from framePool,
// back there once acknowledged), not its reply token, not the receiver's
// memory of it, not the acknowledgement, not the record of the message that
// waits (from pendingSends, as send takes it).
func TestPeer_OnOneEdgeAMessageAllocatesNothing(t *testing.T) {
	srv := testEdge(t, DefaultConfig().ReplayFrames)
	bob := testSession(srv, "bob")
	var outcome error
	notify := func(err error) { outcome = err }
	settled := 0
	cycle := func() {
		outcome = errOffline
		ps := pendingSends.Get().(*pendingSend)
		*ps = pendingSend{app: "app", to: "bob", msgID: "m1", from: "alice", msg: "hi", notify: notify}
		srv.peers.start(ps)
		bob.ack(bob.sent)
		if outcome == nil {
			settled++
		}
	}
	for range 2 * recentReplies {
		cycle()
	}
	n := testing.AllocsPerRun(1000, cycle)
	if settled != 2*recentReplies+1001 {
		t.Fatalf("%d of %d messages delivered", settled, 2*recentReplies+1001)
	}
	// Under the race detector the pools drop a quarter of what they are
	// given: about one allocation in every message's three pooled records.
	if want := map[bool]float64{false: 0, true: 1}[raceEnabled]; n > want {
		t.Errorf("%.0f allocations per message, want at most %.0f", n, want)
	}
}

// A reply subject splits into a prefix and a counter only as
// strconv.FormatUint writes the counter, so that two subjects never share a
// split.
func TestParseReply_SplitsOnlyACounterAsFormatUintWritesIt(t *testing.T) {
	for _, c := range []struct {
		subject string
		prefix  string
		n       uint64
	}{
		{"_INBOX.a.b.1", "_INBOX.a.b.", 1},
		{"_INBOX.a.b.907", "_INBOX.a.b.", 907},
		{"_INBOX.a.b.18446744073709551615", "_INBOX.a.b.", 1<<64 - 1},
		{"123", "", 123},
		{"a9.5", "a9.", 5},
		{"_INBOX.a.b.0", "_INBOX.a.b.0", 0},
		{"_INBOX.a.b.07", "_INBOX.a.b.07", 0},
		{"_INBOX.a.b.18446744073709551616", "_INBOX.a.b.18446744073709551616", 0},
		{"_INBOX.a.b.", "_INBOX.a.b.", 0},
		{"_INBOX.a.b.x", "_INBOX.a.b.x", 0},
		{"0", "0", 0},
		{"", "", 0},
	} {
		r := parseReply(c.subject)
		if r.prefix != c.prefix || r.n != c.n || r.String() != c.subject {
			t.Errorf("parseReply(%q) = %q, %d (%q); want %q, %d", c.subject, r.prefix, r.n, r.String(), c.prefix, c.n)
		}
	}
	if r := (replyTo{prefix: "_INBOX.a.b.", n: 42}); r.String() != "_INBOX.a.b.42" {
		t.Errorf("String() = %q", r.String())
	}
}

// A session queues a peer message once, however often it comes, and never
// takes a different message for one it has: the same counter under another
// edge's prefix, or a subject that only looks like a counter, is another
// message.
func TestSession_RemembersExactlyTheRepliesItQueued(t *testing.T) {
	srv := testEdge(t, DefaultConfig().ReplayFrames)
	bob := testSession(srv, "bob")
	local := srv.peers.prefix
	f := newFrame([]byte(`{"ev":"m","ack":true}`))
	for i, c := range []struct {
		reply  replyTo
		queued bool
	}{
		{parseReply("_INBOX.edge2.7"), true},
		{parseReply("_INBOX.edge3.7"), true}, // the same counter from another edge
		{parseReply("_INBOX.edge3.9"), true},
		{parseReply("_INBOX.edge2.9"), true},  // both edges known by now
		{parseReply("_INBOX.edge2.7"), false}, // the same message again
		{parseReply("_INBOX.edge3.9"), false},
		{parseReply("_INBOX.edge2.07"), true}, // not a counter: another subject
		{parseReply("_INBOX.edge2.07"), false},
		{parseReply("_INBOX.edge2.70"), true},
		{parseReply("_INBOX.edge2.0"), true},
		{parseReply("_INBOX.edge2.0"), false},
		{replyTo{prefix: local, n: 7}, true}, // deliverHere's
		{parseReply(local + "7"), false},     // the same message through NATS
		{parseReply(local + "8"), true},
		{replyTo{prefix: local, n: 8}, false},
		{parseReply("_INBOX.edge2.72057594037927936"), true}, // 1<<56: kept as a string
		{parseReply("_INBOX.edge2.72057594037927936"), false},
		{replyTo{prefix: "_INBOX.edge2.", n: 1 << 56}, false},
	} {
		before := bob.sent
		if !bob.deliverReply(f, c.reply) {
			t.Fatalf("%d: %s refused", i, c.reply)
		}
		if queued := bob.sent != before; queued != c.queued {
			t.Errorf("%d: %s queued %v, want %v", i, c.reply, queued, c.queued)
		}
	}
}

// The memory of reply subjects holds exactly the latest recentReplies of
// each kind it keeps (numbers, strings), and never a subject it was not
// given, whatever the mix of edges, counters and other subjects, and beyond
// the replyPrefixes edges it tells apart by number.
func TestReplyMemory_HoldsTheLatestAndNothingElse(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var m replyMemory
	given := map[string]bool{}
	var order []string // every subject given, in order
	subject := func() string {
		p := fmt.Sprintf("_INBOX.e%d.", rng.IntN(replyPrefixes+8))
		switch rng.IntN(20) {
		case 0:
			return p + "0" + fmt.Sprint(rng.IntN(50))
		case 1:
			return fmt.Sprint(rng.IntN(50))
		case 2:
			return p + fmt.Sprint(1<<56+rng.IntN(50))
		}
		return p + fmt.Sprint(1+rng.IntN(3000))
	}
	for step := range 50000 {
		s := subject()
		r := parseReply(s)
		if rng.IntN(4) == 0 {
			r.subject = "" // as deliverHere hands it over
		}
		has := m.has(r)
		if has && !given[s] {
			t.Fatalf("step %d: %s remembered, never given", step, s)
		}
		// Anything among the latest recentReplies is remembered.
		if !has {
			for _, x := range order[max(len(order)-recentReplies, 0):] {
				if x == s {
					t.Fatalf("step %d: %s forgotten among the latest %d", step, s, recentReplies)
				}
			}
			m.add(r)
			given[s] = true
			order = append(order, s)
		}
	}
	if len(m.ring) != recentReplies || len(m.prefixes) != replyPrefixes || len(m.whole) != recentReplies {
		t.Fatalf("%d numbers, %d prefixes, %d strings", len(m.ring), len(m.prefixes), len(m.whole))
	}
	// The numbers alone: exactly the latest recentReplies of them.
	var n replyMemory
	for i := range uint64(5000) {
		n.add(replyTo{prefix: "_INBOX.x.", n: i*7919%10007 + 1})
		for j := range i + 1 {
			want := i-j < recentReplies
			if got := n.has(replyTo{prefix: "_INBOX.x.", n: j*7919%10007 + 1}); got != want {
				t.Fatalf("after %d: counter of %d remembered %v, want %v", i, j, got, want)
			}
		}
	}
}

// A pending message can get its outcome, and go back to the pool, while
// the goroutine that started it is still publishing it: here the sweep
// times messages out as they are sent, and their receiver acknowledges
// them from another goroutine. Every message gets one outcome, and the race
// detector finds no access to a record after it went back to the pool.
func TestPeer_AMessageSettledWhileItIsPublishedIsSafe(t *testing.T) {
	srv := testEdge(t, DefaultConfig().ReplayFrames)
	srv.cfg.MessageTimeout = time.Nanosecond // due as soon as it is sent
	bob := testSession(srv, "bob")
	done := make(chan struct{})
	swept := make(chan struct{})
	go func() { defer close(swept); srv.peers.sweep(done) }()
	acked := make(chan struct{})
	go func() {
		defer close(acked)
		for {
			select {
			case <-done:
				return
			default:
				bob.mu.Lock()
				n := bob.sent
				bob.mu.Unlock()
				bob.ack(n)
			}
		}
	}()
	const msgs = 2000
	var mu sync.Mutex
	outcomes := 0
	settled := make(chan struct{})
	for i := range msgs {
		ps := pendingSends.Get().(*pendingSend)
		*ps = pendingSend{app: "app", to: "bob", msgID: fmt.Sprint(i), from: "alice", msg: "m",
			notify: func(error) {
				mu.Lock()
				defer mu.Unlock()
				if outcomes++; outcomes == msgs {
					close(settled)
				}
			}}
		srv.peers.start(ps)
	}
	select {
	case <-settled:
	case <-time.After(30 * time.Second):
		mu.Lock()
		t.Errorf("%d of %d messages settled", outcomes, msgs)
		mu.Unlock()
	}
	close(done)
	<-swept
	<-acked
	if n := srv.peers.waiting(); n != 0 {
		t.Errorf("%d messages still wait", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if outcomes != msgs {
		t.Errorf("%d outcomes for %d messages", outcomes, msgs)
	}
}
