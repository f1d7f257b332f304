package kv

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/switchboard-io/switchboard/subjects"
)

// ErrTooLarge is returned by a write whose record would be over the bucket's
// value limit (a channel with too many members).
var ErrTooLarge = errors.New("kv: record too large")

// maxRecordBytes keeps member and attribute records under the buckets'
// MaxValueSize (1 MiB) with room to spare.
const maxRecordBytes = 900 << 10

// Members is a channel's member list, in the order the accounts joined.
type Members struct {
	Accounts []string `json:"m"`
}

// MembersWrite is what a member list update decides.
type MembersWrite struct {
	Accounts []string
	// Keep leaves the record as it is.
	Keep bool
	// TTL, when set, makes the record expire that long after this write
	// (an empty channel waiting for _channel_ttl); zero writes it to stay.
	TTL time.Duration
}

// ChannelMembers returns a channel's members and the list's revision; a
// channel that does not exist (or expired) has none, at revision 0.
func (s *Store) ChannelMembers(ctx context.Context, app, channel string) ([]string, uint64, error) {
	v, rev, err := get(ctx, s.members, subjects.Key(app, channel))
	if errors.Is(err, ErrNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	var m Members
	if err := json.Unmarshal(v, &m); err != nil {
		return nil, 0, err
	}
	return m.Accounts, rev, nil
}

// UpdateChannelMembers applies fn to the channel's member list with
// compare-and-swap, retrying with the fresh list when another writer came
// first; fn may run several times and must have no side effects. It returns
// the revision the list has afterwards (its current one when fn keeps it).
// A list that would be over the record limit fails with ErrTooLarge.
func (s *Store) UpdateChannelMembers(ctx context.Context, app, channel string, fn func(cur []string) (MembersWrite, error)) (uint64, error) {
	return s.update(ctx, s.members, subjects.Key(app, channel), func(old []byte, _ uint64) (Change, error) {
		var m Members
		if old != nil {
			if err := json.Unmarshal(old, &m); err != nil {
				return Change{}, err
			}
		}
		w, err := fn(m.Accounts)
		if err != nil || w.Keep {
			return Change{Keep: true}, err
		}
		v, err := json.Marshal(Members{Accounts: w.Accounts})
		if err != nil {
			return Change{}, err
		}
		if len(v) > maxRecordBytes {
			return Change{}, ErrTooLarge
		}
		return Change{Value: v, TTL: w.TTL}, nil
	})
}

// ChannelAttrs is a channel's attribute record: the attributes, and what the
// writers of the record need to keep its lifetime right.
type ChannelAttrs struct {
	Attrs map[string]string `json:"a,omitempty"`
	// Empty says the channel had no members as of member list revision
	// MemRev; the record then expires with the channel (_channel_ttl).
	Empty  bool   `json:"e,omitempty"`
	MemRev uint64 `json:"mr,omitempty"`
	// Tok and At are _setattr_limit's token bucket: the tokens left as of
	// At (Unix milliseconds; zero: a full bucket).
	Tok float64 `json:"tk,omitempty"`
	At  int64   `json:"at,omitempty"`
}

// AttrsWrite is what an attribute record update decides.
type AttrsWrite struct {
	Attrs ChannelAttrs
	Keep  bool
	// TTL, when set, makes the record expire that long after this write.
	TTL time.Duration
}

// ChannelAttributes returns a channel's attribute record and its revision;
// a channel without one has an empty record at revision 0.
func (s *Store) ChannelAttributes(ctx context.Context, app, channel string) (ChannelAttrs, uint64, error) {
	var a ChannelAttrs
	v, rev, err := get(ctx, s.chAttrs, subjects.Key(app, channel))
	if errors.Is(err, ErrNotFound) {
		return a, 0, nil
	}
	if err != nil {
		return a, 0, err
	}
	return a, rev, json.Unmarshal(v, &a)
}

// UpdateChannelAttrs applies fn to the channel's attribute record with
// compare-and-swap, as UpdateChannelMembers does. exists is false when there
// is no record (fn then gets an empty one). It returns the record's
// revision afterwards.
func (s *Store) UpdateChannelAttrs(ctx context.Context, app, channel string, fn func(cur ChannelAttrs, exists bool) (AttrsWrite, error)) (uint64, error) {
	return s.update(ctx, s.chAttrs, subjects.Key(app, channel), func(old []byte, _ uint64) (Change, error) {
		var a ChannelAttrs
		if old != nil {
			if err := json.Unmarshal(old, &a); err != nil {
				return Change{}, err
			}
		}
		if a.Attrs != nil {
			a.Attrs = maps.Clone(a.Attrs)
		}
		w, err := fn(a, old != nil)
		if err != nil || w.Keep {
			return Change{Keep: true}, err
		}
		v, err := json.Marshal(w.Attrs)
		if err != nil {
			return Change{}, err
		}
		if len(v) > maxRecordBytes {
			return Change{}, ErrTooLarge
		}
		return Change{Value: v, TTL: w.TTL}, nil
	})
}

// AddSessionChannel records that session sid of account is in channel, and
// reports whether the channel was new to the record. Unlike AddUserChannel it
// never takes over another session's record: a session that is no longer
// the account's current one (kicked, logged out, expired) gets ErrNotFound.
func (s *Store) AddSessionChannel(ctx context.Context, app, account, sid, channel string) (bool, error) {
	added := false
	_, err := s.update(ctx, s.userChs, subjects.Key(app, account), func(old []byte, _ uint64) (Change, error) {
		added = false
		var uc UserChannels
		if old == nil || json.Unmarshal(old, &uc) != nil || uc.SID != sid {
			return Change{}, ErrNotFound
		}
		if slices.Contains(uc.Channels, channel) {
			return Change{Keep: true}, nil
		}
		added = true
		uc.Channels = append(uc.Channels, channel)
		v, err := json.Marshal(uc)
		return Change{Value: v}, err
	})
	return added, err
}
