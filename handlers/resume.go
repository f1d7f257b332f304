package handlers

import (
	"context"
	"errors"
	"strconv"

	"github.com/switchboard-io/switchboard/kv"
	"github.com/switchboard-io/switchboard/protocol"
	"github.com/switchboard-io/switchboard/subjects"
)

// HdrResumeN, on a DeliverMoved delivery, is the count of frames the client
// said it received: the edge that held the session passes on every frame
// after it.
const HdrResumeN = "Sb-N"

// resume moves a session to the edge its client reconnected to, when that
// is not the edge that held it (which died, or is draining). The client's
// resume token is the session ID; the record must still name it. The old
// edge, if it lives, is told to let the session go and pass on what it kept.
func (s *Service) resume(ctx context.Context, c *protocol.Call) (*protocol.Reply, error) {
	before, rev, err := s.Store.MoveSession(ctx, c.App, c.Account, c.Session, c.Edge, s.Cfg.SessionTTL)
	if errors.Is(err, kv.ErrNotFound) {
		return nil, protocol.Errorf(protocol.KindNotFound, "no such session")
	}
	if err != nil {
		return nil, err
	}
	if before.Edge != c.Edge {
		err := s.publish(ctx, subjects.User(c.App, c.Account),
			protocol.Event{Ev: protocol.EvMove},
			protocol.HdrSession, c.Session, protocol.HdrKind, protocol.DeliverMoved,
			protocol.HdrEdge, c.Edge,
			HdrResumeN, strconv.FormatUint(c.Req.N, 10))
		if err != nil {
			return nil, err
		}
	}
	reply := &protocol.Reply{ConnTimeout: before.ConnTimeout, Expires: before.Expires, Rev: rev}
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
