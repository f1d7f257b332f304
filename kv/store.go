// Package kv is the only code that reads and writes Switchboard's JetStream KV
// buckets (created by package jetstream). It speaks in Switchboard's terms
// (sessions, members, attributes) and translates JetStream's errors into its
// own: ErrNotFound and ErrConflict never leak as jetstream errors.
//
// Every read-modify-write goes through Update, a compare-and-swap loop on the
// key's revision, so that concurrent writers from many edges and workers never
// lose an update.
package kv

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	sbjs "github.com/switchboard-io/switchboard/jetstream"
	"github.com/switchboard-io/switchboard/subjects"
)

// Errors of this package.
var (
	ErrNotFound = errors.New("kv: not found")
	ErrConflict = errors.New("kv: changed concurrently")
)

// maxCASAttempts bounds Update's retries; past it a write reports ErrConflict.
const maxCASAttempts = 100

// Store gives typed access to the buckets.
type Store struct {
	js       njs.JetStream
	sessions njs.KeyValue
	userChs  njs.KeyValue
	members  njs.KeyValue
	chAttrs  njs.KeyValue
	uAttrs   njs.KeyValue
	invites  njs.KeyValue
	edges    njs.KeyValue
}

// Open binds to the buckets, which must exist (jetstream.EnsureBuckets).
func Open(ctx context.Context, js njs.JetStream) (*Store, error) {
	s := &Store{js: js}
	for _, b := range []struct {
		name string
		dst  *njs.KeyValue
	}{
		{sbjs.Sessions, &s.sessions},
		{sbjs.UserChannels, &s.userChs},
		{sbjs.Members, &s.members},
		{sbjs.ChannelAttrs, &s.chAttrs},
		{sbjs.UserAttrs, &s.uAttrs},
		{sbjs.Invites, &s.invites},
		{sbjs.Edges, &s.edges},
	} {
		kv, err := js.KeyValue(ctx, b.name)
		if err != nil {
			return nil, fmt.Errorf("kv: bucket %s: %w", b.name, err)
		}
		*b.dst = kv
	}
	return s, nil
}

// translate maps jetstream's errors to this package's.
func translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, njs.ErrKeyNotFound), errors.Is(err, njs.ErrKeyDeleted):
		return ErrNotFound
	case errors.Is(err, njs.ErrKeyExists), errors.Is(err, njs.ErrKeyRevisionMismatch):
		return ErrConflict
	}
	var apiErr *njs.APIError
	if errors.As(err, &apiErr) && (apiErr.ErrorCode == njs.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == njs.JSErrCodeStreamWrongLastSequenceConstant) {
		return ErrConflict
	}
	return err
}

// get returns the value and revision of key, or ErrNotFound.
func get(ctx context.Context, b njs.KeyValue, key string) ([]byte, uint64, error) {
	e, err := b.Get(ctx, key)
	if err != nil {
		return nil, 0, translate(err)
	}
	return e.Value(), e.Revision(), nil
}

// Change is what an Update function decides: the new value, or that the key
// is to be deleted, or that nothing changes.
type Change struct {
	Value  []byte
	Delete bool
	Keep   bool
	// TTL, when set, makes the key expire that long after this write.
	TTL time.Duration
}

// update applies fn to the current value of key (nil and rev 0 when it does
// not exist) and writes the result with compare-and-swap, retrying with the
// fresh value when another writer came first. fn must be free of side effects:
// it may run several times.
func (s *Store) update(ctx context.Context, b njs.KeyValue, key string, fn func(old []byte, rev uint64) (Change, error)) (uint64, error) {
	for attempt := 0; attempt < maxCASAttempts; attempt++ {
		old, rev, err := get(ctx, b, key)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return 0, err
		}
		ch, err := fn(old, rev)
		if err != nil {
			return 0, err
		}
		newRev, err := s.write(ctx, b, key, rev, ch)
		if errors.Is(err, ErrConflict) {
			continue
		}
		return newRev, err
	}
	return 0, ErrConflict
}

// write stores ch at key if the key's revision is still rev (0: the key must
// not exist).
func (s *Store) write(ctx context.Context, b njs.KeyValue, key string, rev uint64, ch Change) (uint64, error) {
	switch {
	case ch.Keep:
		return rev, nil
	case ch.Delete:
		if rev == 0 {
			return 0, nil
		}
		return 0, s.deleteTTL(ctx, b, key, rev)
	case rev == 0:
		// Create also replaces a delete or expiry marker.
		var opts []njs.KVCreateOpt
		if ch.TTL > 0 {
			opts = append(opts, njs.KeyTTL(ch.TTL))
		}
		r, err := b.Create(ctx, key, ch.Value, opts...)
		return r, translate(err)
	case ch.TTL > 0:
		return s.putTTL(ctx, b, key, ch.Value, rev, ch.TTL)
	default:
		r, err := b.Update(ctx, key, ch.Value, rev)
		return r, translate(err)
	}
}

// putTTL is a compare-and-swap write that also sets the key's TTL. The KV API
// takes a TTL only on Create, so this publishes to the bucket's subject
// directly with the same expectations Update uses.
func (s *Store) putTTL(ctx context.Context, b njs.KeyValue, key string, value []byte, rev uint64, ttl time.Duration) (uint64, error) {
	m := &nats.Msg{Subject: subjects.KVSubject(b.Bucket(), key), Data: value, Header: nats.Header{}}
	ack, err := s.js.PublishMsg(ctx, m, njs.WithExpectLastSequencePerSubject(rev), njs.WithMsgTTL(ttl))
	if err != nil {
		return 0, translate(err)
	}
	return ack.Sequence, nil
}

// deleteMarkerTTL is how long the marker of a deleted key stays (the
// server then replaces it with its own marker, which stays as long, see
// jetstream.EnsureBuckets); then the key leaves no trace. Accounts come
// and go: a marker kept for ever per account that ever logged out would
// grow every bucket it is in, on disk and in the server's index of
// subjects, which the embedded default keeps on the edge's heap.
var deleteMarkerTTL = 5 * time.Minute

// deleteTTL deletes key if its revision is still rev, with a marker that
// expires. It is what the KV API's Delete writes, plus a TTL, which that
// API takes only on a purge; a purge would read as an expiry to
// watchExpiries at once. The server's marker that replaces this one when
// it expires does read as one, deleteMarkerTTL later, when the delete has
// long been handled: a watcher's fn must (and does) find nothing to do
// for a key that is gone.
func (s *Store) deleteTTL(ctx context.Context, b njs.KeyValue, key string, rev uint64) error {
	m := &nats.Msg{Subject: subjects.KVSubject(b.Bucket(), key), Header: nats.Header{kvOperation: []string{kvDelete}}}
	_, err := s.js.PublishMsg(ctx, m, njs.WithExpectLastSequencePerSubject(rev), njs.WithMsgTTL(deleteMarkerTTL))
	return translate(err)
}

// kvOperation and kvDelete are the header the KV API marks a deleted key
// with, and its value.
const (
	kvOperation = "KV-Operation"
	kvDelete    = "DEL"
)

// watchExpiries calls fn with the key of every entry of b under filter that
// expires by its TTL (or is purged), one call at a time, until ctx ends.
func watchExpiries(ctx context.Context, b njs.KeyValue, filter string, fn func(key string)) error {
	w, err := b.Watch(ctx, filter, njs.UpdatesOnly())
	if err != nil {
		return err
	}
	go func() {
		defer w.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-w.Updates():
				if !ok {
					return
				}
				if e != nil && e.Operation() == njs.KeyValuePurge {
					fn(e.Key())
				}
			}
		}
	}()
	return nil
}
