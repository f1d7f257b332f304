package kv

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard-io/switchboard/subjects"
)

// Edge leases. Each edge keeps a key with a short TTL alive while it runs;
// when an edge dies its key expires, and the workers give its sessions
// _conn_timeout to be resumed elsewhere before they are cleaned up.

// TouchEdge renews edge's lease for ttl.
func (s *Store) TouchEdge(ctx context.Context, edge string, ttl time.Duration) error {
	_, err := s.update(ctx, s.edges, subjects.EdgeKey(edge), func(old []byte, _ uint64) (Change, error) {
		return Change{Value: []byte(time.Now().UTC().Format(time.RFC3339Nano)), TTL: ttl}, nil
	})
	return err
}

// DropEdge ends edge's lease at once (a clean shutdown): its remaining
// sessions are handled as a dead edge's. The purge's marker expires like
// a delete's (deleteMarkerTTL): edges get a new ID each start, and a
// cluster that rolls its edges would otherwise keep one for each. The
// server's marker that follows reads as a second end of the lease; the
// dead-edge claim (ClaimDeadEdge), held for an hour, makes it a no-op.
func (s *Store) DropEdge(ctx context.Context, edge string) error {
	err := s.edges.Purge(ctx, subjects.EdgeKey(edge), njs.PurgeTTL(deleteMarkerTTL))
	if errors.Is(translate(err), ErrNotFound) {
		return nil
	}
	return translate(err)
}

// WatchDeadEdges calls fn with the ID of every edge whose lease ends (expired
// or dropped), until ctx ends.
func (s *Store) WatchDeadEdges(ctx context.Context, fn func(edge string)) error {
	return watchExpiries(ctx, s.edges, ">", func(key string) {
		if edge, ok := subjects.ParseEdgeKey(key); ok {
			fn(edge)
		}
	})
}

// ClaimDeadEdge reports whether the caller is the one worker to clean up
// after edge (the first to ask within an hour).
func (s *Store) ClaimDeadEdge(ctx context.Context, edge string) (bool, error) {
	_, err := s.edges.Create(ctx, subjects.DeadEdgeKey(edge), []byte("1"), njs.KeyTTL(time.Hour))
	switch err := translate(err); {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrConflict):
		return false, nil
	default:
		return false, err
	}
}

// OrphanSessions gives every session that edge held a TTL of its own
// _conn_timeout: a client that resumes on another edge in that time takes it
// over; otherwise it expires and is cleaned up as any expired session. It
// returns how many sessions it found.
func (s *Store) OrphanSessions(ctx context.Context, edge string) (int, error) {
	lister, err := s.sessions.ListKeys(ctx)
	if err != nil {
		if errors.Is(err, njs.ErrNoKeysFound) {
			return 0, nil
		}
		return 0, err
	}
	var keys []string
	for k := range lister.Keys() {
		keys = append(keys, k)
	}
	n := 0
	for _, key := range keys {
		mine := false
		_, err := s.update(ctx, s.sessions, key, func(old []byte, _ uint64) (Change, error) {
			var sess Session
			mine = false
			if old == nil || json.Unmarshal(old, &sess) != nil || sess.Edge != edge {
				return Change{Keep: true}, nil
			}
			mine = true
			ct := sess.ConnTimeout
			if ct <= 0 {
				ct = 120
			}
			return Change{Value: old, TTL: time.Duration(ct) * time.Second}, nil
		})
		if err != nil && !errors.Is(err, ErrNotFound) {
			return n, err
		}
		if mine {
			n++
		}
	}
	return n, nil
}

// MoveSession makes the session sid of account belong to edge, with a fresh
// TTL, and returns it as it was before and the new revision. It fails with
// ErrNotFound when the account has no session or another one.
func (s *Store) MoveSession(ctx context.Context, app, account, sid, edge string, ttl time.Duration) (Session, uint64, error) {
	var before Session
	rev, err := s.update(ctx, s.sessions, subjects.Key(app, account), func(old []byte, _ uint64) (Change, error) {
		before = Session{}
		if old == nil || json.Unmarshal(old, &before) != nil || before.SID != sid {
			return Change{}, ErrNotFound
		}
		moved := before
		moved.Edge = edge
		v, err := json.Marshal(moved)
		return Change{Value: v, TTL: ttl}, err
	})
	return before, rev, err
}
