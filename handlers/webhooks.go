package handlers

import (
	"context"

	"github.com/switchboard-io/switchboard/apps"
	"github.com/switchboard-io/switchboard/protocol"
	"github.com/switchboard-io/switchboard/webhooks"
)

// Webhook events (docs/webhooks.md). Each place where a login, logout, join
// or leave takes effect makes one of these calls, after the KV write that
// makes it so and in the order the users' clients see it; Service.Events
// writes the event to the event stream if the app's webhook wants it. A nil
// Events writes nothing.

// emitLogin records that account logged in.
func (s *Service) emitLogin(ctx context.Context, app, account string) {
	s.Events.Emit(ctx, app, webhooks.Event{Type: apps.EventLogin, Account: account})
}

// emitLogout records that account's session ended with onLogout code.
func (s *Service) emitLogout(ctx context.Context, app, account string, code int) {
	s.Events.Emit(ctx, app, webhooks.Event{
		Type: apps.EventLogout, Account: account, Code: code, Reason: webhooks.LogoutReason(code),
	})
}

// emitMember records a join, or a leave with its onChannelLeaved code.
func (s *Service) emitMember(ctx context.Context, app, channel string, op *memberOp) {
	ev := webhooks.Event{Type: apps.EventChannelLeave, Channel: channel, Account: op.account, Code: op.code}
	if op.join {
		ev = webhooks.Event{Type: apps.EventChannelJoin, Channel: channel, Account: op.account}
	}
	s.Events.Emit(ctx, app, ev)
}

// logoutCode is the onLogout code of a logout call: the user's own (101),
// or the reason given by the edge that ended the session itself (a lost
// connection's 604 is 102), or by the app's backend (a kick, 103).
func logoutCode(reason int) int {
	switch reason {
	case 0:
		return protocol.LogoutUser
	case protocol.LeaveChannelDisconn:
		return protocol.LogoutNet
	case protocol.LogoutTokenExpired, protocol.LogoutKicked:
		return reason
	}
	return protocol.LogoutOther
}
