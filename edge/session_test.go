package edge

import (
	"io"
	"log/slog"
	"testing"

	"github.com/switchboard-io/switchboard/protocol"
)

// An ack that reaches a session after it ended (a client's acks racing its
// logout) must change nothing: the session's buffer is gone by then.
func TestSession_AckAfterEndIsHarmless(t *testing.T) {
	srv := &Server{cfg: DefaultConfig(), log: discardLog(), sessions: map[string]*session{}, users: map[userKey]*userEntry{}, chans: map[chanKey]*channel{}}
	srv.peers = &peerSender{srv: srv, pending: map[uint64]*pendingSend{}}
	sess := newSession(srv, "app", "alice", 0, "sid")
	sess.confirmed.Store(true)
	for range 3 {
		sess.deliverEvent(protocol.Event{Ev: protocol.EvLog, Desc: "x"})
	}
	sess.mu.Lock()
	sess.ended = true // as end() leaves it, without the worker call
	sess.buf, sess.bufBytes = nil, 0
	sess.mu.Unlock()
	sess.ack(3)
	sess.ack(1 << 63)

	live := newSession(srv, "app", "bob", 0, "sid2")
	for range 3 {
		live.deliverEvent(protocol.Event{Ev: protocol.EvLog, Desc: "x"})
	}
	live.ack(2)
	live.ack(1 << 63)
	live.ack(0)
	if live.base != 3 || len(live.buf) != 0 || live.bufBytes != 0 {
		t.Fatalf("after acks: base %d, %d frames, %d bytes; want 3, 0, 0", live.base, len(live.buf), live.bufBytes)
	}
}

// The replay buffer keeps within its byte bound, and peer messages whose
// frames it drops unacknowledged are refused, not left to time out.
func TestSession_ReplayBufferIsBoundedInBytes(t *testing.T) {
	srv := &Server{cfg: DefaultConfig(), log: discardLog(), sessions: map[string]*session{}, users: map[userKey]*userEntry{}, chans: map[chanKey]*channel{}}
	sess := newSession(srv, "app", "alice", 0, "sid")
	big := make([]byte, 64<<10)
	for range 2 * maxReplayBytes / len(big) {
		sess.deliverFrame(newFrame(big), "")
	}
	if sess.bufBytes > maxReplayBytes || len(sess.buf)*len(big) != sess.bufBytes {
		t.Fatalf("buffer holds %d bytes in %d frames, bound %d", sess.bufBytes, len(sess.buf), maxReplayBytes)
	}
	if sess.sent-sess.base != uint64(len(sess.buf)) {
		t.Fatalf("sent %d, base %d, %d frames kept", sess.sent, sess.base, len(sess.buf))
	}
	// Detached and full: a peer message is refused at once.
	if sess.deliverFrame(newFrame(big), "reply.1") {
		t.Fatal("a full, detached session took a peer message")
	}
}

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
