package kv

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard-io/switchboard/subjects"
)

// The invites bucket holds three kinds of keys, told apart by their number
// of tokens (encoded names never contain a dot):
//
//	<app>.<callee>                            the callee's pending invitations (an index, so that a
//	                                          login finds them with one Get)
//	<app>.<caller>.<callee>.<channel>         one invitation: its state, extra and deadline
//	<app>.<caller>.<callee>.<channel>.<token> a timer: a key with a TTL whose expiry every worker
//	                                          watches; the token names the phase it times
//
// The record and the index carry TTLs too, a little past the longest phase,
// as a backstop: should every worker miss a timer, nothing hangs for ever.

// Invitation states.
const (
	InviteWaiting  = "waiting"  // the callee is offline; the invitation waits for a login
	InviteRinging  = "ringing"  // delivered; waits for an answer
	InviteAccepted = "accepted" // answered: a call that either side may end
)

// InviteKey names one invitation.
type InviteKey struct {
	App, Caller, Callee, Channel string
}

func (k InviteKey) key() string { return subjects.Key(k.App, k.Caller, k.Callee, k.Channel) }

// Invite is the stored state of one invitation.
type Invite struct {
	State string `json:"st"`
	Extra string `json:"x,omitempty"`
	// Timer is the token of the timer key of the current phase; an expired
	// timer whose token is not this one is stale and does nothing.
	Timer string `json:"t,omitempty"`
	// Deadline is when the current phase ends (Unix milliseconds).
	Deadline int64 `json:"dl,omitempty"`
	// CalleeSID is the callee session the invitation was last delivered to.
	CalleeSID string `json:"cs,omitempty"`
	// Since is when the invitation was made (Unix milliseconds).
	Since int64 `json:"since"`
}

// Pending reports whether the invitation still waits for an answer.
func (i *Invite) Pending() bool {
	return i.State == InviteWaiting || i.State == InviteRinging
}

// InviteChange is what an UpdateInvite function decides: keep the record,
// replace it with Next (expiring after TTL), or remove it.
type InviteChange struct {
	Next   *Invite
	TTL    time.Duration
	Remove bool
}

// Invite returns an invitation, or ErrNotFound.
func (s *Store) Invite(ctx context.Context, k InviteKey) (Invite, error) {
	var inv Invite
	v, _, err := get(ctx, s.invites, k.key())
	if err != nil {
		return inv, err
	}
	return inv, json.Unmarshal(v, &inv)
}

// UpdateInvite applies fn to the invitation (nil when there is none) with
// compare-and-swap. fn may run several times and must have no side
// effects; an error from it is returned as it is. Of many concurrent
// callers, exactly one sees a given state and replaces or removes it.
func (s *Store) UpdateInvite(ctx context.Context, k InviteKey, fn func(cur *Invite) (InviteChange, error)) error {
	return s.modify(ctx, s.invites, k.key(), func(old []byte, _ uint64) (Change, bool, error) {
		var cur *Invite
		if old != nil {
			var inv Invite
			if json.Unmarshal(old, &inv) == nil {
				cur = &inv
			}
		}
		ch, err := fn(cur)
		switch {
		case err != nil:
			return Change{}, false, err
		case ch.Remove:
			return Change{}, true, nil
		case ch.Next == nil:
			return Change{Keep: true}, false, nil
		}
		v, err := json.Marshal(ch.Next)
		return Change{Value: v, TTL: wholeSeconds(ch.TTL)}, false, err
	})
}

// StartInviteTimer creates the timer key of one phase of an invitation: it
// expires after d, and WatchInviteTimers reports that to every watcher.
func (s *Store) StartInviteTimer(ctx context.Context, k InviteKey, token string, d time.Duration) error {
	_, err := s.write(ctx, s.invites, subjects.Key(k.App, k.Caller, k.Callee, k.Channel, token), 0,
		Change{Value: []byte{'1'}, TTL: wholeSeconds(d)})
	return err
}

// WatchInviteTimers calls fn, one call at a time, for every invitation
// timer that expires, until ctx ends. Every watcher sees every expiry; fn
// uses UpdateInvite so that only one of them acts on it.
func (s *Store) WatchInviteTimers(ctx context.Context, fn func(k InviteKey, token string)) error {
	return watchExpiries(ctx, s.invites, "*.*.*.*.*", func(key string) {
		p, err := subjects.SplitKey(key)
		if err != nil || len(p) != 5 {
			return
		}
		fn(InviteKey{App: p[0], Caller: p[1], Callee: p[2], Channel: p[3]}, p[4])
	})
}

// InviteRef names one of a callee's pending invitations.
type InviteRef struct {
	Caller  string `json:"c"`
	Channel string `json:"ch"`
}

// PendingInvites lists the invitations recorded as pending for callee: one
// Get, and nothing when there are none. Entries may be stale (the
// invitation ended while its index entry was not yet removed); callers check
// each with Invite.
func (s *Store) PendingInvites(ctx context.Context, app, callee string) ([]InviteRef, error) {
	v, _, err := get(ctx, s.invites, subjects.Key(app, callee))
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var refs []InviteRef
	_ = json.Unmarshal(v, &refs)
	return refs, nil
}

// AddPendingInvite records ref among callee's pending invitations, keeping
// the index for ttl after this write. It fails with ErrTooMany when callee
// already has max.
func (s *Store) AddPendingInvite(ctx context.Context, app, callee string, ref InviteRef, max int, ttl time.Duration) error {
	return s.modify(ctx, s.invites, subjects.Key(app, callee), func(old []byte, _ uint64) (Change, bool, error) {
		var refs []InviteRef
		if old != nil {
			_ = json.Unmarshal(old, &refs)
		}
		if !slices.Contains(refs, ref) {
			if len(refs) >= max {
				return Change{}, false, ErrTooMany
			}
			refs = append(refs, ref)
		}
		v, err := json.Marshal(refs)
		return Change{Value: v, TTL: wholeSeconds(ttl)}, false, err
	})
}

// RemovePendingInvite drops ref from callee's pending invitations; the
// others keep the index for ttl after this write.
func (s *Store) RemovePendingInvite(ctx context.Context, app, callee string, ref InviteRef, ttl time.Duration) error {
	return s.modify(ctx, s.invites, subjects.Key(app, callee), func(old []byte, _ uint64) (Change, bool, error) {
		var refs []InviteRef
		if old == nil || json.Unmarshal(old, &refs) != nil {
			return Change{}, old != nil, nil
		}
		i := slices.Index(refs, ref)
		if i < 0 {
			return Change{Keep: true}, false, nil
		}
		refs = slices.Delete(refs, i, i+1)
		if len(refs) == 0 {
			return Change{}, true, nil
		}
		// A plain update would drop the key's TTL; keep it for as long as
		// the remaining invitations may last.
		v, err := json.Marshal(refs)
		return Change{Value: v, TTL: wholeSeconds(ttl)}, false, err
	})
}

// removedMarkerTTL is how long the marker of a purged key stays; then the
// key leaves no trace, so keys that come and go (an invitation per call)
// do not pile up delete markers.
const removedMarkerTTL = time.Minute

// modify is update with one more outcome: when fn says remove, the key is
// purged (compare-and-swap on its revision) and its marker expires.
func (s *Store) modify(ctx context.Context, b njs.KeyValue, key string, fn func(old []byte, rev uint64) (Change, bool, error)) error {
	for attempt := 0; attempt < maxCASAttempts; attempt++ {
		old, rev, err := get(ctx, b, key)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		ch, remove, err := fn(old, rev)
		if err != nil {
			return err
		}
		switch {
		case remove && rev == 0:
			return nil
		case remove:
			err = translate(b.Purge(ctx, key, njs.LastRevision(rev), njs.PurgeTTL(removedMarkerTTL)))
		default:
			_, err = s.write(ctx, b, key, rev, ch)
		}
		if errors.Is(err, ErrConflict) {
			continue
		}
		return err
	}
	return ErrConflict
}

// wholeSeconds rounds d up to whole seconds: JetStream counts message TTLs
// in whole seconds, truncating, and a phase must never end early.
func wholeSeconds(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return (d + time.Second - 1).Truncate(time.Second)
}
