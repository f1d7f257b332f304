// Package jetstream creates the JetStream KV buckets that hold all of
// Switchboard's shared state. Every process calls EnsureBuckets at start; the
// call is idempotent, so whichever process comes first creates them and the
// others find them.
//
// Only this package decides bucket names and settings; package kv reads and
// writes them.
package jetstream

import (
	"context"
	"errors"
	"fmt"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"
)

// Bucket names.
const (
	Sessions     = "sb-sessions"  // <app>.<account> → the live session, with a TTL the edge refreshes
	UserChannels = "sb-userchans" // <app>.<account> → the channels a session is in
	Members      = "sb-members"   // <app>.<channel> → the channel's members
	ChannelAttrs = "sb-chattrs"   // <app>.<channel> → the channel's attributes
	UserAttrs    = "sb-userattrs" // <app>.<account> → the user's attributes
	Invites      = "sb-invites"   // <app>.<caller>.<callee>.<channel> → a pending invitation
	Edges        = "sb-edges"     // <edge> → the edge's liveness lease; dead.<edge> → who cleans up after it
)

// All lists every bucket.
var All = []string{Sessions, UserChannels, Members, ChannelAttrs, UserAttrs, Invites, Edges}

// Config sets how buckets are created.
type Config struct {
	// Replicas is the number of copies of each bucket in a cluster; 1 for a
	// single server.
	Replicas int
	// Memory keeps buckets in memory instead of on disk (tests, benchmarks).
	Memory bool
}

// markerTTL is how long a bucket keeps the marker of a key that expired, so
// that watchers see the expiry.
const markerTTL = 5 * time.Minute

// EnsureBuckets creates every bucket that does not exist yet, and brings one
// that exists with other settings in line. Buckets keep one revision per key:
// per-key TTLs expire on time only with History 1.
func EnsureBuckets(ctx context.Context, js njs.JetStream, cfg Config) error {
	if cfg.Replicas < 1 {
		cfg.Replicas = 1
	}
	storage := njs.FileStorage
	if cfg.Memory {
		storage = njs.MemoryStorage
	}
	for _, name := range All {
		kvc := njs.KeyValueConfig{
			Bucket:         name,
			History:        1,
			Replicas:       cfg.Replicas,
			Storage:        storage,
			LimitMarkerTTL: markerTTL,
			MaxValueSize:   1 << 20,
		}
		err := retry(ctx, func(ctx context.Context) error {
			_, err := js.CreateOrUpdateKeyValue(ctx, kvc)
			return err
		})
		if err != nil {
			return fmt.Errorf("bucket %s: %w", name, err)
		}
	}
	return nil
}

// Each attempt to create or update a bucket waits at most attemptTimeout,
// doubling from the first to the last: a JetStream API request can go
// unanswered (a cluster that just started and is still electing its meta
// leader, or a busy server), and one such request must not use up the whole
// start. Creating or updating a bucket is idempotent, so a retry after an
// attempt whose answer was lost is harmless.
const (
	firstAttemptTimeout = 2 * time.Second
	lastAttemptTimeout  = 16 * time.Second
)

// retryPause is the wait after an attempt that failed at once (JetStream not
// ready yet, two processes racing to create the same bucket).
const retryPause = 200 * time.Millisecond

// retry creates or updates one bucket or stream with create, trying again
// until it succeeds or ctx ends; it then returns the last attempt's error.
func retry(ctx context.Context, create func(context.Context) error) error {
	attempt := firstAttemptTimeout
	for {
		actx, cancel := context.WithTimeout(ctx, attempt)
		err := create(actx)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		if errors.Is(err, context.DeadlineExceeded) {
			// Unanswered: ask again, and give the next answer more time.
			attempt = min(2*attempt, lastAttemptTimeout)
			continue
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(retryPause):
		}
	}
}
