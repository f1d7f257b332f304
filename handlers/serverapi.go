package handlers

import (
	"context"
	"errors"
	"sync"

	"github.com/switchboard-io/switchboard/kv"
	"github.com/switchboard-io/switchboard/protocol"
	"github.com/switchboard-io/switchboard/subjects"
)

// The server API's operations (protocol/serverapi.go, docs/server-api.md).
// An edge's API listener sends them with Call.API set; a client cannot, as
// its edge refuses operations it does not know. The API acts as the app's
// backend: it may write any channel's attributes, and end any session.

// registerServerAPI adds the server API's handlers.
func (s *Service) registerServerAPI() {
	s.handlers[protocol.APIOnline] = s.apiOnline
	s.handlers[protocol.APIMembers] = s.apiMembers
	s.handlers[protocol.APIChannelAttrs] = s.apiChannelAttrs
	s.handlers[protocol.APIChannelSetAttr] = func(ctx context.Context, c *protocol.Call) (*protocol.Reply, error) {
		return &protocol.Reply{}, s.setChannelAttr(ctx, c.App, asBackend, c.Req.ChannelID, c.Req.Name, c.Req.Value)
	}
	s.handlers[protocol.APIChannelDelAttr] = func(ctx context.Context, c *protocol.Call) (*protocol.Reply, error) {
		return &protocol.Reply{}, s.delChannelAttr(ctx, c.App, asBackend, c.Req.ChannelID, c.Req.Name)
	}
	s.handlers[protocol.APIChannelClearAttr] = func(ctx context.Context, c *protocol.Call) (*protocol.Reply, error) {
		return &protocol.Reply{}, s.clearChannelAttr(ctx, c.App, asBackend, c.Req.ChannelID)
	}
	s.handlers[protocol.APIKick] = s.apiKick
}

// apiArgs returns the call's API parameters, never nil.
func apiArgs(c *protocol.Call) protocol.APIArgs {
	if c.API == nil {
		return protocol.APIArgs{}
	}
	return *c.API
}

// onlineParallel bounds the session reads of one online-status query.
const onlineParallel = 16

// apiOnline answers whether each account has a live session.
func (s *Service) apiOnline(ctx context.Context, c *protocol.Call) (*protocol.Reply, error) {
	accounts := apiArgs(c).Accounts
	if len(accounts) == 0 || len(accounts) > protocol.MaxAPIOnline {
		return nil, protocol.Errorf(protocol.KindInvalid, "accounts must name 1 to %d accounts", protocol.MaxAPIOnline)
	}
	for _, a := range accounts {
		if !protocol.ValidName(a) {
			return nil, protocol.Errorf(protocol.KindInvalid, "account names must be 1 to 128 visible characters without spaces, in NFKC")
		}
	}
	evs := make([]protocol.Event, len(accounts))
	errs := make([]error, len(accounts))
	sem := make(chan struct{}, onlineParallel)
	var wg sync.WaitGroup
	for i, a := range accounts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			status := "1"
			_, _, err := s.Store.Session(ctx, c.App, a)
			switch {
			case errors.Is(err, kv.ErrNotFound):
				status = "0"
			case err != nil:
				errs[i] = err
			}
			evs[i] = protocol.Event{Ev: protocol.EvQueryUserStatusResult, Name: a, Status: status}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &protocol.Reply{Events: evs}, nil
}

// apiMembers answers a page of a channel's members, in the order they
// joined, with their count.
func (s *Service) apiMembers(ctx context.Context, c *protocol.Call) (*protocol.Reply, error) {
	args := apiArgs(c)
	if args.Offset < 0 || args.Limit < 1 || args.Limit > protocol.MaxAPIPage {
		return nil, protocol.Errorf(protocol.KindInvalid, "limit must be 1 to %d and offset at least 0", protocol.MaxAPIPage)
	}
	members, err := s.channelMembers(ctx, c.App, c.Req.ChannelID)
	if err != nil {
		return nil, err
	}
	from := min(args.Offset, len(members))
	to := min(from+args.Limit, len(members))
	return &protocol.Reply{Events: []protocol.Event{{
		Ev: protocol.EvChannelUserList, ChannelID: c.Req.ChannelID, N: len(members),
		Accounts: append([]string{}, members[from:to]...),
	}}}, nil
}

// apiChannelAttrs answers a channel's attributes as a joiner gets them:
// _member_num and the rest, in name order.
func (s *Service) apiChannelAttrs(ctx context.Context, c *protocol.Call) (*protocol.Reply, error) {
	members, err := s.channelMembers(ctx, c.App, c.Req.ChannelID)
	if err != nil {
		return nil, err
	}
	attrs, _, err := s.Store.ChannelAttributes(ctx, c.App, c.Req.ChannelID)
	if err != nil {
		return nil, err
	}
	evs := joinEvents(c.Req.ChannelID, memberResult{members: members, attrs: attrs})
	return &protocol.Reply{Events: evs[2:]}, nil // not onChannelJoined, onChannelUserList
}

// errNotOnline answers a kick of an account with no session.
var errNotOnline = protocol.Errorf(protocol.KindNotFound, "the account is not online")

// apiKick ends an account's session: the session's edge gets onError with
// the reason (when there is one) and then onLogout(100) for it, and ends
// it (onChannelLeaved(603) for each channel first, as for any logout); the
// other members of its channels see it leave, and _agora_user_online sees
// it go offline.
func (s *Service) apiKick(ctx context.Context, c *protocol.Call) (*protocol.Reply, error) {
	account := c.Req.Account
	if !protocol.ValidName(account) {
		return nil, protocol.Errorf(protocol.KindInvalid, "account must be 1 to 128 visible characters without spaces, in NFKC")
	}
	reason := apiArgs(c).Reason
	if len(reason) > protocol.MaxKickReason {
		return nil, protocol.Errorf(protocol.KindTooLarge, "reason is over %d bytes", protocol.MaxKickReason)
	}
	sess, _, err := s.Store.Session(ctx, c.App, account)
	if errors.Is(err, kv.ErrNotFound) {
		return nil, errNotOnline
	}
	if err != nil {
		return nil, err
	}
	ended, err := s.Store.EndSession(ctx, c.App, account, sess.SID, "")
	if err != nil {
		return nil, err
	}
	if !ended {
		// It logged out, or another login took it, meanwhile.
		return nil, errNotOnline
	}
	subject := subjects.User(c.App, account)
	if reason != "" {
		err := s.publish(ctx, subject, protocol.Event{Ev: protocol.EvError, Name: "kick", Ecode: protocol.General, Desc: reason},
			protocol.HdrSession, sess.SID)
		if err != nil {
			s.Log.Warn("kick reason not published", "app", c.App, "err", err)
		}
	}
	if err := s.publish(ctx, subject, protocol.Event{Ev: protocol.EvLogout, Ecode: protocol.LogoutOther},
		protocol.HdrSession, sess.SID, protocol.HdrKind, protocol.DeliverEnd); err != nil {
		// The record is gone: the edge's next refresh fails and ends it.
		s.Log.Warn("kick not published", "app", c.App, "err", err)
	}
	uc, err := s.Store.TakeUserChannels(ctx, c.App, account, func(sid string) bool { return sid == sess.SID })
	if err != nil {
		return nil, err
	}
	s.leaveAll(ctx, c.App, account, uc.Channels, protocol.LeaveChannelLogout)
	s.emitLogout(ctx, c.App, account, protocol.LogoutOther)
	s.presence(ctx, c.App, account, false)
	return &protocol.Reply{}, nil
}
