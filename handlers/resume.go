package handlers

import (
	"context"
	"errors"

	"github.com/nats-io/nats.go"

	"github.com/switchboard-io/switchboard/kv"
	"github.com/switchboard-io/switchboard/protocol"
)

// resume moves a session to the edge its client reconnected to, when that
// is not the edge that held it (which died, or is draining). The edge sends
// the session ID it derived from the client's secret; the record must name
// it, or nothing changes. The reply names the edge that held the session:
// the new edge subscribes for the session first and then tells that edge to
// let it go (edge/move.go), so that nothing it passes on is missed.
func (s *Service) resume(ctx context.Context, c *protocol.Call) (*protocol.Reply, error) {
	if c.Session == "" || c.Edge == "" {
		return nil, protocol.Errorf(protocol.KindInvalid, "resume without a session ID")
	}
	before, rev, err := s.Store.MoveSession(ctx, c.App, c.Account, c.Session, c.Edge, s.Cfg.SessionTTL)
	if errors.Is(err, kv.ErrNotFound) {
		return nil, protocol.Errorf(protocol.KindNotFound, "no such session")
	}
	if err != nil {
		return nil, err
	}
	reply := &protocol.Reply{ConnTimeout: before.ConnTimeout, Expires: before.Expires, Rev: rev, Edge: before.Edge}
	if uc, err := s.Store.UserChannels(ctx, c.App, c.Account); err == nil && uc.SID == c.Session {
		reply.Channels = uc.Channels
	} else if err != nil && !errors.Is(err, kv.ErrNotFound) {
		return nil, err
	}
	return reply, nil
}

// edgeDied gives the sessions of an edge whose lease ended their
// _conn_timeout to come back elsewhere; the sessions that do not are then
// cleaned up as expired sessions are. One worker does it per dead edge.
func (s *Service) edgeDied(edge string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*s.Cfg.RequestTimeout)
	defer cancel()
	mine, err := s.Store.ClaimDeadEdge(ctx, edge)
	if err != nil || !mine {
		if err != nil {
			s.logCleanupErr("dead edge claim failed", edge, err)
		}
		return
	}
	n, err := s.Store.OrphanSessions(ctx, edge)
	if err != nil {
		s.logCleanupErr("dead edge cleanup incomplete", edge, err)
		return
	}
	if n == 0 {
		// Every edge that stops cleanly with no one left on it.
		s.Log.Debug("edge gone, holding no sessions", "edge", edge)
		return
	}
	s.Log.Info("edge gone; its sessions wait for their clients", "edge", edge, "sessions", n)
}

// logCleanupErr logs a failed dead-edge cleanup: a warning, unless this
// process is stopping. An edge that stops cleanly drops its lease as its
// last act, and a worker in the same process (the embedded default) sees
// that while its own NATS connection closes: nothing is wrong then, and the
// sessions expire by themselves (or are ended at the next start of the
// embedded default, EndStaleSessions).
func (s *Service) logCleanupErr(msg, edge string, err error) {
	if errors.Is(err, nats.ErrConnectionClosed) || errors.Is(err, nats.ErrConnectionDraining) {
		s.Log.Debug(msg+" (stopping)", "edge", edge, "err", err)
		return
	}
	s.Log.Warn(msg, "edge", edge, "err", err)
}
