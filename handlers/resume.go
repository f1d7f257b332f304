package handlers

import (
	"context"
	"errors"

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
			s.Log.Warn("dead edge claim failed", "edge", edge, "err", err)
		}
		return
	}
	n, err := s.Store.OrphanSessions(ctx, edge)
	if err != nil {
		s.Log.Warn("dead edge cleanup incomplete", "edge", edge, "err", err)
	}
	s.Log.Info("edge gone; its sessions wait for their clients", "edge", edge, "sessions", n)
}
