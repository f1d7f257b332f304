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

// Session is an account's live session: one per account and app.
type Session struct {
	SID   string `json:"sid"`
	Edge  string `json:"edge"`
	Since int64  `json:"since"` // Unix milliseconds
	// ConnTimeout is how long, in seconds, the session outlives a dropped
	// connection.
	ConnTimeout int `json:"ct,omitempty"`
	// Expires is when the login token expires (Unix seconds; 0 never).
	Expires int64 `json:"exp,omitempty"`
}

// Session returns the account's live session and its revision, or
// ErrNotFound when the account is offline.
func (s *Store) Session(ctx context.Context, app, account string) (Session, uint64, error) {
	var sess Session
	v, rev, err := get(ctx, s.sessions, subjects.Key(app, account))
	if err != nil {
		return sess, 0, err
	}
	return sess, rev, json.Unmarshal(v, &sess)
}

// ClaimSession makes sess the account's session, whichever session was there
// before. It returns that previous session (nil if none) and the new revision.
// The key expires ttl after this write unless RefreshSession renews it.
func (s *Store) ClaimSession(ctx context.Context, app, account string, sess Session, ttl time.Duration) (*Session, uint64, error) {
	val, err := json.Marshal(sess)
	if err != nil {
		return nil, 0, err
	}
	var prev *Session
	rev, err := s.update(ctx, s.sessions, subjects.Key(app, account), func(old []byte, _ uint64) (Change, error) {
		prev = nil
		if old != nil {
			var p Session
			if json.Unmarshal(old, &p) == nil {
				prev = &p
			}
		}
		return Change{Value: val, TTL: ttl}, nil
	})
	return prev, rev, err
}

// RefreshSession renews the TTL of the session written at rev. It fails with
// ErrConflict when the session changed hands since (another login took it,
// or a resume moved it to another edge) and ErrNotFound when it is gone.
//
// A record rewritten with the same session and edge was not taken: a worker
// that took the edge for dead (its lease lapsed on a busy machine) gave it
// its _conn_timeout to wait for a client that never left. It is renewed as
// it stands, or it would expire under a user who is still connected.
func (s *Store) RefreshSession(ctx context.Context, app, account string, sess Session, rev uint64, ttl time.Duration) (uint64, error) {
	val, err := json.Marshal(sess)
	if err != nil {
		return 0, err
	}
	key := subjects.Key(app, account)
	newRev, err := s.putTTL(ctx, s.sessions, key, val, rev, ttl)
	if !errors.Is(err, ErrConflict) {
		return newRev, err
	}
	cur, curRev, gerr := s.Session(ctx, app, account)
	switch {
	case errors.Is(gerr, ErrNotFound):
		return 0, ErrNotFound
	case gerr == nil && cur.SID == sess.SID && cur.Edge == sess.Edge:
		return s.putTTL(ctx, s.sessions, key, val, curRev, ttl)
	}
	return 0, ErrConflict
}

// EndSession deletes the account's session if it is still sid and, unless
// edge is "", still held by edge; it reports whether it did.
func (s *Store) EndSession(ctx context.Context, app, account, sid, edge string) (bool, error) {
	ended := false
	_, err := s.update(ctx, s.sessions, subjects.Key(app, account), func(old []byte, _ uint64) (Change, error) {
		ended = false
		var cur Session
		if old == nil || json.Unmarshal(old, &cur) != nil || cur.SID != sid || edge != "" && cur.Edge != edge {
			return Change{Keep: true}, nil
		}
		ended = true
		return Change{Delete: true}, nil
	})
	return ended, err
}

// WatchExpiredSessions calls fn for every session that expires by its TTL
// (its edge stopped refreshing it), until ctx ends. Sessions ended by
// EndSession are not reported.
func (s *Store) WatchExpiredSessions(ctx context.Context, fn func(app, account string)) error {
	return watchExpiries(ctx, s.sessions, ">", func(key string) {
		if parts, err := subjects.SplitKey(key); err == nil && len(parts) == 2 {
			fn(parts[0], parts[1])
		}
	})
}

// UserChannels is the set of channels one session of an account is in.
type UserChannels struct {
	SID      string   `json:"sid"`
	Channels []string `json:"ch"`
}

// UserChannels returns the channels recorded for the account.
func (s *Store) UserChannels(ctx context.Context, app, account string) (UserChannels, error) {
	var uc UserChannels
	v, _, err := get(ctx, s.userChs, subjects.Key(app, account))
	if err != nil {
		return uc, err
	}
	return uc, json.Unmarshal(v, &uc)
}

// RemoveUserChannel records that session sid of account left channel.
func (s *Store) RemoveUserChannel(ctx context.Context, app, account, sid, channel string) error {
	_, err := s.update(ctx, s.userChs, subjects.Key(app, account), func(old []byte, _ uint64) (Change, error) {
		var uc UserChannels
		if old == nil || json.Unmarshal(old, &uc) != nil || uc.SID != sid {
			return Change{Keep: true}, nil
		}
		i := slices.Index(uc.Channels, channel)
		if i < 0 {
			return Change{Keep: true}, nil
		}
		uc.Channels = slices.Delete(uc.Channels, i, i+1)
		v, err := json.Marshal(uc)
		return Change{Value: v}, err
	})
	return err
}

// TakeUserChannels removes the account's channel record if keep says so
// about its session ID, and returns the channels it held. Only one of many
// concurrent callers gets the channels, so the leaves they stand for happen
// once.
func (s *Store) TakeUserChannels(ctx context.Context, app, account string, take func(sid string) bool) (UserChannels, error) {
	var got UserChannels
	_, err := s.update(ctx, s.userChs, subjects.Key(app, account), func(old []byte, _ uint64) (Change, error) {
		got = UserChannels{}
		var uc UserChannels
		if old == nil || json.Unmarshal(old, &uc) != nil || !take(uc.SID) {
			return Change{Keep: true}, nil
		}
		got = uc
		return Change{Delete: true}, nil
	})
	return got, err
}

// ResetUserChannels starts an empty channel record for session sid and
// returns the record it replaced, whose channels the caller must leave when
// it belonged to another session.
func (s *Store) ResetUserChannels(ctx context.Context, app, account, sid string) (UserChannels, error) {
	var prev UserChannels
	val, err := json.Marshal(UserChannels{SID: sid})
	if err != nil {
		return prev, err
	}
	_, err = s.update(ctx, s.userChs, subjects.Key(app, account), func(old []byte, _ uint64) (Change, error) {
		prev = UserChannels{}
		if old != nil {
			_ = json.Unmarshal(old, &prev)
		}
		if prev.SID == sid {
			return Change{Keep: true}, nil
		}
		return Change{Value: val}, nil
	})
	return prev, err
}

// Account is one app's account, as the sessions and user channels buckets
// key it.
type Account struct {
	App, Name string
}

// EndAllSessions deletes every session record and returns the accounts it
// deleted one for. Only a process that knows no other edge exists may call
// it (the embedded default at start, before its edge takes logins): every
// session it ends is one whose edge is gone.
func (s *Store) EndAllSessions(ctx context.Context) ([]Account, error) {
	accounts, err := listAccounts(ctx, s.sessions)
	if err != nil {
		return nil, err
	}
	var ended []Account
	for _, a := range accounts {
		deleted := false
		_, err := s.update(ctx, s.sessions, subjects.Key(a.App, a.Name), func(old []byte, _ uint64) (Change, error) {
			deleted = old != nil
			if old == nil {
				return Change{Keep: true}, nil
			}
			return Change{Delete: true}, nil
		})
		if err != nil && !errors.Is(err, ErrNotFound) {
			return ended, err
		}
		if deleted {
			ended = append(ended, a)
		}
	}
	return ended, nil
}

// ChannelRecordAccounts lists the accounts that have a channel record
// (UserChannels), live or left behind by a session that ended unseen.
func (s *Store) ChannelRecordAccounts(ctx context.Context) ([]Account, error) {
	return listAccounts(ctx, s.userChs)
}

// listAccounts lists the accounts that b, a bucket keyed <app>.<account>,
// holds a key for.
func listAccounts(ctx context.Context, b njs.KeyValue) ([]Account, error) {
	lister, err := b.ListKeys(ctx)
	if err != nil {
		if errors.Is(err, njs.ErrNoKeysFound) {
			return nil, nil
		}
		return nil, err
	}
	var out []Account
	for k := range lister.Keys() {
		if parts, err := subjects.SplitKey(k); err == nil && len(parts) == 2 {
			out = append(out, Account{App: parts[0], Name: parts[1]})
		}
	}
	return out, nil
}
