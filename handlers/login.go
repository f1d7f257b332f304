package handlers

import (
	"context"
	"errors"

	"github.com/switchboard-io/switchboard/kv"
	"github.com/switchboard-io/switchboard/protocol"
	"github.com/switchboard-io/switchboard/subjects"
	"github.com/switchboard-io/switchboard/token"
)

// Special channels (design.md): their members hear of every login and logout,
// and of every join and leave, in the app.
const (
	ChannelUserOnline   = "_agora_user_online"
	ChannelChannelEvent = "_agora_channel_event"
)

// login checks the app and token, makes the caller's session the account's
// only one (kicking any other), and leaves the channels a previous session
// left behind.
func (s *Service) login(ctx context.Context, c *protocol.Call) (*protocol.Reply, error) {
	r := &c.Req
	app, ok := s.Apps.Lookup(r.AppID)
	if !ok {
		return nil, protocol.Coded(protocol.KindNotFound, protocol.LoginTokenWrong, "unknown app ID")
	}
	now := s.Now()
	expires, err := app.CheckToken(r.Account, r.Token, now)
	switch {
	case errors.Is(err, token.ErrExpired):
		return nil, protocol.Coded(protocol.KindInvalid, protocol.LoginTokenExpired, "token expired")
	case err != nil:
		return nil, protocol.Coded(protocol.KindInvalid, protocol.LoginTokenWrong, "invalid token")
	}
	if c.Session == "" || c.Edge == "" {
		return nil, protocol.Errorf(protocol.KindInvalid, "login without a session ID")
	}
	account := r.Account
	ct := s.connTimeout(ctx, r.AppID, account)
	sess := kv.Session{SID: c.Session, Edge: c.Edge, Since: now.UnixMilli(), ConnTimeout: ct, Expires: expires}
	prev, rev, err := s.Store.ClaimSession(ctx, r.AppID, account, sess, s.Cfg.SessionTTL)
	if err != nil {
		return nil, err
	}
	if prev != nil && prev.SID != c.Session {
		err := s.publish(ctx, subjects.User(r.AppID, account),
			protocol.Event{Ev: protocol.EvLogout, Ecode: protocol.LogoutKicked},
			protocol.HdrSession, prev.SID, protocol.HdrKind, protocol.DeliverKick)
		if err != nil {
			return nil, err
		}
	}
	old, err := s.Store.ResetUserChannels(ctx, r.AppID, account, c.Session)
	if err != nil {
		return nil, err
	}
	if old.SID != "" && old.SID != c.Session {
		s.leaveAll(ctx, r.AppID, account, old.Channels, protocol.LeaveChannelKicked)
	}
	if prev != nil && prev.SID != c.Session {
		s.emitLogout(ctx, r.AppID, account, protocol.LogoutKicked)
	}
	if prev == nil || prev.SID != c.Session {
		s.emitLogin(ctx, r.AppID, account)
	}
	if prev == nil {
		s.presence(ctx, r.AppID, account, true)
	}
	// Invitations waiting for this account ring at the new session (issue 4;
	// invites.go). One KV Get when there are none.
	s.deliverPendingInvites(ctx, r.AppID, account, c.Session)
	return &protocol.Reply{
		Events:      []protocol.Event{{Ev: protocol.EvLoginSuccess, UID: r.UID, Session: c.Session}},
		Expires:     expires,
		ConnTimeout: ct,
		Rev:         rev,
	}, nil
}

// logout ends the caller's session: on request (Reason 0), after a dropped
// connection that did not come back (604), or when its token expired (105).
func (s *Service) logout(ctx context.Context, c *protocol.Call) (*protocol.Reply, error) {
	leaveCode := protocol.LeaveChannelLogout
	if c.Reason == protocol.LeaveChannelDisconn {
		leaveCode = protocol.LeaveChannelDisconn
	}
	// An edge ends a session it lost (disconnect, expiry) only while it
	// still holds it: a session resumed on another edge goes on there.
	holder := ""
	if c.Reason != 0 {
		holder = c.Edge
	}
	ended, err := s.Store.EndSession(ctx, c.App, c.Account, c.Session, holder)
	if err != nil {
		return nil, err
	}
	if !ended && c.Reason != 0 {
		return &protocol.Reply{}, nil
	}
	uc, err := s.Store.TakeUserChannels(ctx, c.App, c.Account, func(sid string) bool { return sid == c.Session })
	if err != nil {
		return nil, err
	}
	s.leaveAll(ctx, c.App, c.Account, uc.Channels, leaveCode)
	if ended {
		s.emitLogout(ctx, c.App, c.Account, logoutCode(c.Reason))
		s.presence(ctx, c.App, c.Account, false)
	}
	reply := &protocol.Reply{Channels: uc.Channels}
	if c.Reason == 0 {
		reply.Events = []protocol.Event{{Ev: protocol.EvLogout, Ecode: protocol.LogoutUser}}
	}
	return reply, nil
}

// sessionExpired cleans up after a session whose edge stopped refreshing it:
// its channels are left (604) and its account goes offline, unless a newer
// session took over in the meantime. Every worker sees the expiry; the
// compare-and-swap in TakeUserChannels lets exactly one of them act.
func (s *Service) sessionExpired(app, account string) {
	ctx, cancel := context.WithTimeout(context.Background(), s.Cfg.RequestTimeout)
	defer cancel()
	live := ""
	if sess, _, err := s.Store.Session(ctx, app, account); err == nil {
		live = sess.SID
	}
	uc, err := s.Store.TakeUserChannels(ctx, app, account, func(sid string) bool { return sid != live })
	if err != nil {
		s.Log.Warn("session expiry cleanup failed", "app", app, "err", err)
		return
	}
	if uc.SID == "" {
		return
	}
	s.leaveAll(ctx, app, account, uc.Channels, protocol.LeaveChannelDisconn)
	if live == "" {
		s.emitLogout(ctx, app, account, protocol.LogoutNet)
		s.presence(ctx, app, account, false)
	}
}

// queryUserStatus answers whether an account has a live session.
func (s *Service) queryUserStatus(ctx context.Context, c *protocol.Call) (*protocol.Reply, error) {
	status := "1"
	if _, _, err := s.Store.Session(ctx, c.App, c.Req.Account); errors.Is(err, kv.ErrNotFound) {
		status = "0"
	} else if err != nil {
		return nil, err
	}
	return &protocol.Reply{Events: []protocol.Event{{
		Ev: protocol.EvQueryUserStatusResult, Name: c.Req.Account, Status: status,
	}}}, nil
}

// presence tells the members of _agora_user_online that account logged in or
// out.
func (s *Service) presence(ctx context.Context, app, account string, online bool) {
	ev := protocol.Event{Ev: protocol.EvChannelUserLeaved, ChannelID: ChannelUserOnline, Account: account}
	if online {
		ev.Ev = protocol.EvChannelUserJoined
	}
	if err := s.publish(ctx, subjects.Online(app, account), ev, protocol.HdrFrom, account); err != nil {
		s.Log.Warn("presence publish failed", "app", app, "err", err)
	}
}

// connTimeout is the account's _conn_timeout, or the default.
func (s *Service) connTimeout(ctx context.Context, app, account string) int {
	if v, ok := s.userConnTimeout(ctx, app, account); ok {
		return v
	}
	return s.Cfg.ConnTimeout
}
