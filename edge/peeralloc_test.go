package edge

import (
	"fmt"
	"math/rand/v2"
	"testing"
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
			srv.peers.start(&pendingSend{app: "app", to: "bob", msgID: fmt.Sprint(msg), frame: fmt.Appendf(nil, `{"ev":"m","n":%d}`, msg),
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

