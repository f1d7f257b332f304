package edge

import (
	"context"

	"github.com/switchboard-io/switchboard/protocol"
	"github.com/switchboard-io/switchboard/subjects"
)

// The server API (package api) answers on an edge's own listener and sends
// what it is asked through the same paths as a client's requests: these are
// its hooks. The caller has checked the app, the names and the sizes.

// CallWorkers sends c to the workers, with the trace context of ctx, and
// waits for their reply up to MembershipTimeout: the API's caller waits as
// a user would, and a busy machine makes a late answer, not a failure.
func (s *Server) CallWorkers(ctx context.Context, c *protocol.Call) (*protocol.Reply, error) {
	return callWorker(ctx, s.nc, c, s.cfg.MembershipTimeout)
}

// SendPeer sends msg to account to as account from, as a client's
// messageInstantSend does, and waits for the outcome: nil once the
// receiving client acknowledged it; an error of KindNotFound when to is
// offline; protocol.ErrTimeout when no acknowledgement came within
// MessageTimeout; KindUnavailable when NATS could not take it.
func (s *Server) SendPeer(ctx context.Context, app, from, to, msg string) error {
	done := make(chan error, 1)
	s.peers.start(&pendingSend{
		app:     app,
		notify:  func(err error) { done <- err },
		to:      to,
		msgID:   randomID(12),
		subject: subjects.User(app, to),
		from:    from,
		msg:     msg,
	})
	return wait(ctx, done)
}

// SendChannel sends msg to channel as account from, as a client's
// messageChannelSendForce does (no membership needed, within the channel's
// rate), and waits until NATS has passed it on: nil then; an error of
// KindRateLimited over the channel's rate; protocol.ErrTimeout when it did
// not come back within MessageTimeout.
func (s *Server) SendChannel(ctx context.Context, app, from, channel, msg string) error {
	if isSpecial(channel) {
		return protocol.Errorf(protocol.KindConflict, "special channels carry only the system's events")
	}
	ch, err := s.observe(app, channel)
	if err != nil {
		return protocol.Errorf(protocol.KindUnavailable, "the service is unreachable")
	}
	done := make(chan error, 1)
	s.sendToChannel(ch, from, &chanSend{
		notify: func(err error) { done <- err },
		req:    protocol.Request{Op: protocol.OpMessageChannelSendForce, ChannelID: channel, Msg: msg, MsgID: randomID(12)},
	})
	return wait(ctx, done)
}

// wait returns the outcome sent on done, or ctx's error if it ends first
// (the caller went away; the outcome is then dropped).
func wait(ctx context.Context, done <-chan error) error {
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
