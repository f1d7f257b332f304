package kv

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/switchboard-io/switchboard/subjects"
)

// ErrTooMany is returned when a write would take a record past its limit
// (attributes per user, pending invitations per callee).
var ErrTooMany = errors.New("kv: limit reached")

// User attributes live in one JSON object per account and app, under
// <app>.<account>, with no TTL: they outlive sessions and are removed only
// when their owner deletes them. A record whose last attribute is deleted
// is purged, so that accounts that once had attributes leave nothing behind.

// UserAttrs returns all of account's attributes; an account that has none
// (or never logged in) gets an empty map.
func (s *Store) UserAttrs(ctx context.Context, app, account string) (map[string]string, error) {
	v, _, err := get(ctx, s.uAttrs, subjects.Key(app, account))
	if errors.Is(err, ErrNotFound) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	return decodeAttrs(v), nil
}

// SetUserAttr sets account's attribute name to value; an empty value
// deletes it. Adding an attribute to an account that already has max fails
// with ErrTooMany; changing or deleting one never does.
func (s *Store) SetUserAttr(ctx context.Context, app, account, name, value string, max int) error {
	return s.modify(ctx, s.uAttrs, subjects.Key(app, account), func(old []byte, _ uint64) (Change, bool, error) {
		attrs := decodeAttrs(old)
		cur, had := attrs[name]
		switch {
		case value == "" && !had:
			return Change{Keep: true}, false, nil
		case value == "":
			delete(attrs, name)
			if len(attrs) == 0 {
				return Change{}, true, nil
			}
		case had && cur == value:
			return Change{Keep: true}, false, nil
		case !had && len(attrs) >= max:
			return Change{}, false, ErrTooMany
		default:
			attrs[name] = value
		}
		v, err := json.Marshal(attrs)
		return Change{Value: v}, false, err
	})
}

// decodeAttrs reads a stored attribute object; a record that does not decode
// counts as empty rather than making the account's attributes unusable.
func decodeAttrs(v []byte) map[string]string {
	attrs := map[string]string{}
	if len(v) > 0 {
		_ = json.Unmarshal(v, &attrs)
	}
	return attrs
}
