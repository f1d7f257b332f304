package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/switchboard-io/switchboard/kv"
	"github.com/switchboard-io/switchboard/protocol"
)

// User attributes (docs/user-attributes.md): per app and account, kept until
// their owner deletes them, across logouts; anyone in the app may read
// anyone's. Names are 1 to 128 visible characters, values up to 1024 bytes;
// an empty value deletes. Names that begin with "_" are built-ins, of which
// there is one: _conn_timeout.

// AttrConnTimeout is the built-in user attribute that sets how long, in
// seconds, a dropped connection may come back before its session ends.
const AttrConnTimeout = "_conn_timeout"

// The bounds of _conn_timeout, in seconds.
const (
	MinConnTimeout = 20
	MaxConnTimeout = 120
)

// MaxUserAttrs bounds the attributes of one account, so that its record
// stays well under the KV value limit whatever the names and values hold.
const MaxUserAttrs = 100

// registerUsers adds the user attribute and invoke handlers.
func (s *Service) registerUsers() {
	s.handlers[protocol.OpSetAttr] = s.setAttr
	s.handlers[protocol.OpGetAttr] = s.getAttr
	s.handlers[protocol.OpGetAttrAll] = s.getAttrAll
	s.handlers[protocol.OpGetUserAttr] = s.getUserAttr
	s.handlers[protocol.OpGetUserAttrAll] = s.getUserAttrAll
	s.handlers[protocol.OpInvoke] = s.invoke
}

// setAttr sets one of the caller's attributes. It has no callback on
// success; a change of _conn_timeout applies to the caller's session at
// once (the reply's ConnTimeout) and to every later login.
func (s *Service) setAttr(ctx context.Context, c *protocol.Call) (*protocol.Reply, error) {
	ct, err := s.storeUserAttr(ctx, c.App, c.Account, c.Req.Name, c.Req.Value)
	if err != nil {
		return nil, err
	}
	return &protocol.Reply{ConnTimeout: ct}, nil
}

// storeUserAttr checks and writes one attribute. For _conn_timeout it
// returns the session's new conn timeout in seconds (the default when the
// attribute is deleted), and 0 for any other attribute.
func (s *Service) storeUserAttr(ctx context.Context, app, account, name, value string) (int, error) {
	if !protocol.ValidName(name) {
		return 0, protocol.Errorf(protocol.KindInvalid, "name must be 1 to 128 visible characters without spaces")
	}
	if len(value) > protocol.MaxUserAttrBytes {
		return 0, protocol.Errorf(protocol.KindTooLarge, "value is over %d bytes", protocol.MaxUserAttrBytes)
	}
	ct := 0
	if strings.HasPrefix(name, "_") {
		if name != AttrConnTimeout {
			return 0, protocol.Errorf(protocol.KindInvalid, "%s: names beginning with _ are reserved for built-in attributes", name)
		}
		ct = s.Cfg.ConnTimeout
		if value != "" {
			v, ok := parseConnTimeout(value)
			if !ok {
				return 0, protocol.Errorf(protocol.KindInvalid, "%s must be a whole number of seconds from %d to %d", AttrConnTimeout, MinConnTimeout, MaxConnTimeout)
			}
			ct = v
		}
	}
	err := s.Store.SetUserAttr(ctx, app, account, name, value, MaxUserAttrs)
	if errors.Is(err, kv.ErrTooMany) {
		return 0, protocol.Errorf(protocol.KindTooLarge, "an account has at most %d attributes", MaxUserAttrs)
	}
	return ct, err
}

// getAttr answers one of the caller's own attributes.
func (s *Service) getAttr(ctx context.Context, c *protocol.Call) (*protocol.Reply, error) {
	return s.userAttr(ctx, c.App, c.Account, c.Req.Name)
}

// getUserAttr answers one attribute of any account of the app.
func (s *Service) getUserAttr(ctx context.Context, c *protocol.Call) (*protocol.Reply, error) {
	return s.userAttr(ctx, c.App, c.Req.Account, c.Req.Name)
}

// getAttrAll answers all the caller's attributes as one JSON object.
func (s *Service) getAttrAll(ctx context.Context, c *protocol.Call) (*protocol.Reply, error) {
	return s.userAttrAll(ctx, c.App, c.Account)
}

// getUserAttrAll answers all attributes of any account as one JSON object.
func (s *Service) getUserAttrAll(ctx context.Context, c *protocol.Call) (*protocol.Reply, error) {
	return s.userAttrAll(ctx, c.App, c.Req.Account)
}

// userAttr is onUserAttrResult: an attribute that is not set reads as "".
func (s *Service) userAttr(ctx context.Context, app, account, name string) (*protocol.Reply, error) {
	attrs, err := s.Store.UserAttrs(ctx, app, account)
	if err != nil {
		return nil, err
	}
	return &protocol.Reply{Events: []protocol.Event{{
		Ev: protocol.EvUserAttrResult, Account: account, Name: name, Value: attrs[name],
	}}}, nil
}

// userAttrAll is onUserAttrAllResult: {} for an account with none.
func (s *Service) userAttrAll(ctx context.Context, app, account string) (*protocol.Reply, error) {
	all, err := s.userAttrsJSON(ctx, app, account)
	if err != nil {
		return nil, err
	}
	return &protocol.Reply{Events: []protocol.Event{{
		Ev: protocol.EvUserAttrAllResult, Account: account, Value: all,
	}}}, nil
}

// userAttrsJSON is every attribute of account as one JSON object.
func (s *Service) userAttrsJSON(ctx context.Context, app, account string) (string, error) {
	attrs, err := s.Store.UserAttrs(ctx, app, account)
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(attrs)
	return string(b), err
}

// userConnTimeout is the account's _conn_timeout attribute, when set. It is
// read at every login, so a failure to read it falls back to the default
// rather than failing the login.
func (s *Service) userConnTimeout(ctx context.Context, app, account string) (int, bool) {
	attrs, err := s.Store.UserAttrs(ctx, app, account)
	if err != nil {
		s.Log.Warn("reading _conn_timeout failed; using the default", "app", app, "err", err)
		return 0, false
	}
	v, ok := attrs[AttrConnTimeout]
	if !ok {
		return 0, false
	}
	return parseConnTimeout(v)
}

// parseConnTimeout reads a _conn_timeout value: whole seconds in range.
func parseConnTimeout(v string) (int, bool) {
	n, err := strconv.Atoi(v)
	if err != nil || n < MinConnTimeout || n > MaxConnTimeout {
		return 0, false
	}
	return n, true
}
