package edge

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/switchboard-io/switchboard/protocol"
)

// registerChannels adds the edge's own handlers of channel operations. Joins
// and leaves go to the workers, with the edge's subscription around them;
// messages go straight to the channel's subject. Each runs in the session's
// request order, after the worker calls before it. The queries and attribute
// writes need nothing of the edge and are forwarded.
func (s *Server) registerChannels() {
	s.handlers[protocol.OpChannelJoin] = func(_ *conn, sess *session, r *protocol.Request) {
		req := *r
		sess.calls.do(func() { sess.join(&req) })
	}
	s.handlers[protocol.OpChannelLeave] = func(_ *conn, sess *session, r *protocol.Request) {
		req := *r
		sess.calls.do(func() { sess.leave(&req) })
	}
	s.handlers[protocol.OpMessageChannelSend] = s.channelSend
	s.handlers[protocol.OpMessageChannelSendForce] = s.channelSend
}

// join subscribes to the channel (if this edge does not follow it yet)
// before it asks the workers, so that nothing published after the join's
// write is missed; events that arrive before the reply are held and
// delivered after it, those the reply's snapshot already holds dropped. A
// join of a channel the session is in answers again from a fresh snapshot.
func (s *session) join(r *protocol.Request) {
	srv := s.srv
	ch := srv.lookupChannel(s.app, r.ChannelID)
	fresh := true
	if ch != nil {
		ch.mu.Lock()
		if m := ch.members[s]; m != nil {
			m.resync, fresh = true, false
		}
		ch.mu.Unlock()
	}
	if fresh {
		var err error
		if ch, err = srv.acquireChannel(s.app, r.ChannelID); err != nil {
			s.deliverEvent(protocol.FailureEvent(r, protocol.Errorf(protocol.KindUnavailable, "the service is unreachable")))
			return
		}
		ch.mu.Lock()
		ch.members[s] = &member{}
		ch.mu.Unlock()
	}

	reply, err := s.callWorkerWithin(r, srv.cfg.MembershipTimeout)

	ch.mu.Lock()
	m := ch.members[s]
	if m == nil {
		// The session ended meanwhile and left the channel here.
		ch.mu.Unlock()
		return
	}
	s.mu.Lock()
	ended := s.ended
	if !ended && err == nil && fresh {
		s.channels = append(s.channels, r.ChannelID)
	}
	s.mu.Unlock()
	if ended || (err != nil && fresh) {
		delete(ch.members, s)
		ch.mu.Unlock()
		srv.releaseChannel(ch)
		if err != nil {
			if reply == nil && !ended {
				s.undoJoin(r.ChannelID)
			}
			s.deliverEvent(protocol.FailureEvent(r, err))
		}
		return
	}
	if err != nil {
		// A failed second join leaves the membership as it was.
		m.resync = false
		m.flushHeld(s)
		ch.mu.Unlock()
		s.deliverEvent(protocol.FailureEvent(r, err))
		return
	}
	attrs := map[string]string{}
	for _, ev := range reply.Events {
		s.deliverEvent(ev)
		if ev.Ev == protocol.EvChannelAttrUpdated {
			attrs[ev.Name] = ev.Value
		}
	}
	m.joined, m.resync = true, false
	m.since = max(m.since, reply.Rev)
	m.sinceAttr = max(m.sinceAttr, reply.AttrRev)
	m.flushHeld(s)
	if !ch.special {
		ch.applySnapshot(attrs, reply.AttrRev)
		ch.applyMemberNum(attrs[attrMemberNum], reply.Rev)
	}
	ch.mu.Unlock()
}

// undoJoin takes back a first join whose reply never came (lost, late, or
// too large for NATS): a worker may have made the session a member all the
// same, and the client, told that the join failed, would never leave. The
// leave runs in the session's order (join calls it there), so the client's
// next request comes after it, and onChannelJoinFailed comes only once it is
// done; the client is not told of the leave itself. The others may see the
// joiner come and go (onChannelUserLeaved, reason 600 in
// _agora_channel_event).
func (s *session) undoJoin(channel string) {
	timeout := s.srv.cfg.MembershipTimeout
	ctx, cancel := context.WithTimeout(s.srv.ctx, timeout)
	defer cancel()
	_, err := callWorker(ctx, s.srv.nc, &protocol.Call{
		App: s.app, Account: s.account, Session: s.sid, Edge: s.srv.cfg.ID,
		Reason: protocol.LeaveChannelOther,
		Req:    protocol.Request{Op: protocol.OpChannelLeave, ChannelID: channel},
	}, timeout)
	if err != nil {
		// The session stays listed until it leaves or ends; logout and
		// expiry still find the channel in its record.
		s.srv.log.Warn("undoing a failed join failed", "app", s.app, "err", err)
	}
}

// flushHeld delivers the events held during a join that the member's
// snapshot does not hold. ch.mu is held.
func (m *member) flushHeld(sess *session) {
	for _, d := range m.held {
		if m.wants(sess, d) {
			sess.deliverFrame(d.f, "")
		}
	}
	m.held = nil
}

// leave asks the workers to take the session out of the channel, then stops
// delivering the channel to it (and follows the channel no more if it was the
// last local member): onChannelLeaved is the last frame of the channel it
// gets.
func (s *session) leave(r *protocol.Request) {
	reply, err := s.callWorkerWithin(r, s.srv.cfg.MembershipTimeout)
	if err != nil {
		s.deliverEvent(protocol.FailureEvent(r, err))
		return
	}
	ch := s.srv.lookupChannel(s.app, r.ChannelID)
	if ch == nil {
		s.answer(r, reply, nil)
		return
	}
	ch.mu.Lock()
	_, was := ch.members[s]
	delete(ch.members, s)
	ch.mu.Unlock()
	if was {
		s.mu.Lock()
		s.channels = slices.DeleteFunc(s.channels, func(c string) bool { return c == r.ChannelID })
		s.mu.Unlock()
		s.srv.releaseChannel(ch)
	}
	s.answer(r, reply, nil)
}

// leaveLocal stops delivering chans to an ended session.
func (s *Server) leaveLocal(sess *session, chans []string) {
	for _, name := range chans {
		ch := s.lookupChannel(sess.app, name)
		if ch == nil {
			continue
		}
		ch.mu.Lock()
		_, was := ch.members[sess]
		delete(ch.members, sess)
		ch.mu.Unlock()
		if was {
			s.releaseChannel(ch)
		}
	}
}

// channelSend handles messageChannelSend and messageChannelSendForce: within
// the user's rate (checked as the request arrives) and the channel's, the
// edge publishes the message frame to the channel's subject itself, and
// every edge with members there delivers it. The sender gets
// onMessageSendSuccess when the message comes back to this edge.
func (s *Server) channelSend(_ *conn, sess *session, r *protocol.Request) {
	if r.MsgID == "" {
		r.MsgID = randomID(12)
	}
	if isSpecial(r.ChannelID) {
		sess.deliverEvent(protocol.FailureEvent(r, protocol.Errorf(protocol.KindConflict, "special channels carry only the system's events")))
		return
	}
	sess.mu.Lock()
	ok := sess.rate.Allow(time.Now(), s.cfg.UserRate)
	sess.mu.Unlock()
	if !ok {
		sess.deliverEvent(protocol.FailureEvent(r, protocol.Errorf(protocol.KindRateLimited, "over %d messages per second", s.cfg.UserRate)))
		return
	}
	req := *r
	sess.calls.do(func() { s.publishChannelMsg(sess, &req) })
}

func (s *Server) publishChannelMsg(sess *session, r *protocol.Request) {
	ch := s.lookupChannel(sess.app, r.ChannelID)
	joined := false
	if ch != nil {
		ch.mu.Lock()
		m := ch.members[sess]
		joined = m != nil && m.joined
		ch.mu.Unlock()
	}
	if !joined {
		if r.Op != protocol.OpMessageChannelSendForce {
			sess.deliverEvent(protocol.FailureEvent(r, protocol.Errorf(protocol.KindConflict, "not in the channel; use messageChannelSendForce")))
			return
		}
		var err error
		if ch, err = s.observe(sess.app, r.ChannelID); err != nil {
			sess.deliverEvent(protocol.FailureEvent(r, protocol.Errorf(protocol.KindUnavailable, "the service is unreachable")))
			return
		}
	}
	s.sendToChannel(ch, sess.account, &chanSend{sess: sess, req: *r})
}

// sendToChannel publishes p's message to ch, which this edge follows, from
// account from, within the channel's rate and unless the edge is behind on
// the channel. p learns the outcome when the message comes back
// (chansend.go) or fails.
func (s *Server) sendToChannel(ch *channel, from string, p *chanSend) {
	r := &p.req
	ch.mu.Lock()
	limit := ch.msgLimit()
	ok := ch.rate.Allow(time.Now(), limit)
	ch.mu.Unlock()
	if !ok {
		p.settle(protocol.Errorf(protocol.KindRateLimited, "over the channel's %d messages per second", limit))
		return
	}
	if ch.overloaded() {
		// Refused before it is published: a message reported failed is
		// never delivered, and the backlog stops growing.
		s.Metrics.ChannelShed()
		p.settle(protocol.Errorf(protocol.KindRateLimited, "not sent: the server is overloaded; send it again later"))
		return
	}
	data, err := json.Marshal(protocol.Event{
		Ev: protocol.EvMessageChannelReceive, ChannelID: r.ChannelID, Account: from, Msg: r.Msg,
	})
	if err != nil {
		p.settle(err)
		return
	}
	p.ch = ch
	tok := s.trackSend(p)
	m := &nats.Msg{Subject: ch.key.subject(), Data: data, Header: nats.Header{
		protocol.HdrFrom: []string{from},
		protocol.HdrEdge: []string{s.cfg.ID},
		hdrChanMsg:       []string{tok},
	}}
	if err := s.nc.PublishMsg(m); err != nil {
		s.failChannelSend(tok, protocol.Errorf(protocol.KindUnavailable, "the service is unreachable"))
	}
	// The success comes when the message comes back (chansend.go).
}

// observe follows a channel that no local session is in, for ObserveLinger
// after the last force send to it, so that this edge counts the channel's
// messages as the edges of its members do.
func (s *Server) observe(app, name string) (*channel, error) {
	ch, err := s.acquireChannel(app, name)
	if err != nil {
		return nil, err
	}
	ch.mu.Lock()
	if o := ch.observer; o != nil && o.t.Reset(s.cfg.ObserveLinger) {
		ch.mu.Unlock()
		s.releaseChannel(ch) // the observer holds a reference already
		<-o.ready
		return ch, nil
	}
	o := &observer{ready: make(chan struct{})}
	defer close(o.ready)
	o.t = time.AfterFunc(s.cfg.ObserveLinger, func() {
		ch.mu.Lock()
		if ch.observer == o {
			ch.observer = nil
		}
		ch.mu.Unlock()
		s.releaseChannel(ch)
	})
	ch.observer = o
	known := ch.attrsKnown
	ch.mu.Unlock()
	if !known {
		// No member here told this edge the channel's limit: read it.
		ctx, cancel := context.WithTimeout(s.ctx, s.cfg.RequestTimeout)
		attrs, rev, err := s.store.ChannelAttributes(ctx, app, name)
		cancel()
		if err == nil {
			ch.mu.Lock()
			ch.applySnapshot(attrs.Attrs, rev)
			ch.mu.Unlock()
		}
	}
	return ch, nil
}

// Stats is a snapshot of an edge's load, for health checks and tests.
type Stats struct {
	Connections int
	Sessions    int
	// Channels is how many channels the edge follows: one NATS
	// subscription each, however many local members a channel has.
	Channels int
	// SlowConsumers counts the connections closed so far for not reading
	// their frames fast enough (protocol.CloseSlowConsumer).
	SlowConsumers uint64
	// ChannelWaitsExtended counts channel messages whose wait for their
	// return started again because their channel was behind here.
	ChannelWaitsExtended uint64
}

// Stats returns the edge's current load.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	st := Stats{Connections: len(s.conns), Sessions: len(s.sessions)}
	s.mu.Unlock()
	s.chMu.Lock()
	st.Channels = len(s.chans)
	s.chMu.Unlock()
	st.SlowConsumers = s.slowConsumers.Load()
	s.chanSends.mu.Lock()
	st.ChannelWaitsExtended = s.chanSends.extended
	s.chanSends.mu.Unlock()
	return st
}
