package kv_test

import (
	"context"
	"errors"
	"testing"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard-io/switchboard/internal/testenv"
	sbjs "github.com/switchboard-io/switchboard/jetstream"
	"github.com/switchboard-io/switchboard/kv"
	"github.com/switchboard-io/switchboard/subjects"
)

// openStore opens a Store on a fresh embedded JetStream with file storage,
// as the embedded default has it.
func openStore(t *testing.T) (*kv.Store, njs.JetStream) {
	t.Helper()
	_, js := testenv.JetStream(t, testenv.StartNATS(t))
	ctx := context.Background()
	if err := sbjs.EnsureBuckets(ctx, js, sbjs.Config{}); err != nil {
		t.Fatal(err)
	}
	s, err := kv.Open(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	return s, js
}

// TestEndSession_LeavesAMarkerThatExpires: an ended session reads as gone
// at once, to the KV API as to the store, and its marker does not stay for
// ever: accounts that come and go must not grow the bucket without end.
func TestEndSession_LeavesAMarkerThatExpires(t *testing.T) {
	defer kv.SetDeleteMarkerTTL(time.Second)() // the least TTL the server takes
	s, js := openStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	expired := make(chan string, 10)
	if err := s.WatchExpiredSessions(ctx, func(app, account string) { expired <- account }); err != nil {
		t.Fatal(err)
	}

	if _, _, err := s.ClaimSession(ctx, "app", "alice", kv.Session{SID: "s1", Edge: "e1"}, time.Minute); err != nil {
		t.Fatal(err)
	}
	ended, err := s.EndSession(ctx, "app", "alice", "s1", "e1")
	if err != nil || !ended {
		t.Fatalf("EndSession: %v, %v", ended, err)
	}
	if _, _, err := s.Session(ctx, "app", "alice"); !errors.Is(err, kv.ErrNotFound) {
		t.Fatalf("an ended session reads %v, want ErrNotFound", err)
	}
	b, err := js.KeyValue(ctx, sbjs.Sessions)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctx, subjects.Key("app", "alice")); !errors.Is(err, njs.ErrKeyNotFound) && !errors.Is(err, njs.ErrKeyDeleted) {
		t.Fatalf("the KV API reads the ended session as %v, want it gone", err)
	}
	stream, err := js.Stream(ctx, "KV_"+sbjs.Sessions)
	if err != nil {
		t.Fatal(err)
	}
	subject := subjects.KVSubject(sbjs.Sessions, subjects.Key("app", "alice"))
	m, err := stream.GetLastMsgForSubject(ctx, subject)
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get(kv.KVOperation) != kv.KVDelete || m.Header.Get("Nats-TTL") == "" {
		t.Fatalf("the marker has headers %v, want a delete with a TTL", m.Header)
	}
	// An ended session is not an expired one: the session-expiry watch
	// must not take it for one while its marker stands. Then the marker
	// expires, and the server's own marker of an expiry (with its TTL)
	// replaces it; the watch may see that one, once all is settled, and
	// the worker's handler then finds nothing to do.
	gone := func() bool {
		t.Helper()
		m, err := stream.GetLastMsgForSubject(ctx, subject)
		if err != nil {
			t.Fatal(err)
		}
		if m.Header.Get(kv.KVOperation) == kv.KVDelete {
			return false
		}
		if m.Header.Get("Nats-Marker-Reason") == "" || m.Header.Get("Nats-TTL") == "" {
			t.Fatalf("after the delete marker, headers %v: want the server's marker, with a TTL", m.Header)
		}
		return true
	}
	for done := false; !done; {
		select {
		case acc := <-expired:
			if !gone() {
				t.Fatalf("ending %s's session was taken for an expiry while its delete marker stood", acc)
			}
			done = true
		case <-ctx.Done():
			t.Fatal("the delete marker never expired")
		case <-time.After(50 * time.Millisecond):
			done = gone()
		}
	}
	// A new session on the key is a new session.
	if _, _, err := s.ClaimSession(ctx, "app", "alice", kv.Session{SID: "s2", Edge: "e1"}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if got, _, err := s.Session(ctx, "app", "alice"); err != nil || got.SID != "s2" {
		t.Fatalf("after a new login the session is %+v, %v", got, err)
	}
}

// TestDropEdge_EndsTheLeaseWithAMarkerThatExpires: a dropped lease reads as
// ended to the dead-edge watch at once, and its marker carries a TTL.
func TestDropEdge_EndsTheLeaseWithAMarkerThatExpires(t *testing.T) {
	s, js := openStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dead := make(chan string, 10)
	if err := s.WatchDeadEdges(ctx, func(edge string) { dead <- edge }); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchEdge(ctx, "edge-a", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.DropEdge(ctx, "edge-a"); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-dead:
		if e != "edge-a" {
			t.Fatalf("the watch reported %q, want edge-a", e)
		}
	case <-ctx.Done():
		t.Fatal("the dropped lease was never reported")
	}
	stream, err := js.Stream(ctx, "KV_"+sbjs.Edges)
	if err != nil {
		t.Fatal(err)
	}
	m, err := stream.GetLastMsgForSubject(ctx, subjects.KVSubject(sbjs.Edges, subjects.EdgeKey("edge-a")))
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get(kv.KVOperation) != "PURGE" || m.Header.Get("Nats-TTL") == "" {
		t.Fatalf("the lease's marker has headers %v, want a purge with a TTL", m.Header)
	}
}
