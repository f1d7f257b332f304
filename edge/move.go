package edge

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/switchboard-io/switchboard/protocol"
	"github.com/switchboard-io/switchboard/subjects"
)

// Sessions move between edges. A client whose edge died or is draining
// reconnects to another edge and resumes there: the new edge adopts the
// session from KV (a worker moves the record), follows its channels, and the
// client's peers see nothing. A living old edge lets the session go and
// passes on the frames the client had not received.

// adopt resumes, on this edge, a session another edge held. Nothing is
// registered or subscribed before a worker has confirmed that the account's
// session record names sid (which only the secret's holder can present) and
// moved it here. Then the edge subscribes and only then tells the edge that
// held the session to let it go and pass on what it kept: what it passes on
// finds the subscription.
func (c *conn) adopt(r *protocol.Request, sid string) {
	c.mu.Lock()
	c.loggingIn = true
	c.mu.Unlock()
	app, account, n := r.AppID, r.Account, r.N
	c.calls.do(func() {
		ctx, cancel := context.WithTimeout(c.srv.ctx, c.srv.cfg.RequestTimeout)
		defer cancel()
		reply, err := c.srv.call(ctx, &protocol.Call{
			App: app, Account: account, Session: sid, Edge: c.srv.cfg.ID,
			Req: protocol.Request{Op: protocol.OpResume, N: n},
		})
		if err != nil {
			c.loginDone(nil)
			if protocol.AsError(err).Kind == protocol.KindNotFound {
				c.resumeFailed(protocol.NotLoggedIn, "no such session")
			} else {
				c.resumeFailed(protocol.LoginNet, "")
			}
			return
		}
		sess := newSession(c.srv, app, account, 0, sid)
		// The client's count goes on from where it was; frames the old
		// edge passes on count from there.
		sess.sent, sess.base = n, n
		sess.settle(reply)
		if err := c.srv.addSession(sess); err != nil {
			c.loginDone(nil)
			c.resumeFailed(protocol.LoginNet, "")
			return
		}
		if reply.Edge != "" && reply.Edge != c.srv.cfg.ID {
			if err := c.srv.releaseMoved(app, account, sid, reply.Edge, n); err != nil {
				c.srv.log.Warn("the edge a session left was not told", "err", err)
			}
		}
		c.srv.rejoinLocal(sess, reply.Channels)
		c.loginDone(sess)
		if !sess.attach(c, n, true) {
			c.mu.Lock()
			c.sess = nil
			c.mu.Unlock()
			sess.end(-1, nil, 0, "")
			c.resumeFailed(protocol.NotLoggedIn, "the session is gone")
			return
		}
		// A login elsewhere may have taken the account between the move
		// and the subscription, and its kick gone to an edge that no
		// longer held the session: look once.
		if rec, _, err := c.srv.store.Session(ctx, app, account); err == nil && rec.SID != sid {
			ev := protocol.Event{Ev: protocol.EvLogout, Ecode: protocol.LogoutKicked}
			sess.end(-1, &ev, protocol.CloseKicked, "logged in elsewhere")
		}
	})
}

// releaseMoved tells the edge that held a session (and every other edge
// with the account) that it resumed here: the holder lets it go and passes
// on the frames after the client's count n.
func (s *Server) releaseMoved(app, account, sid, from string, n uint64) error {
	return s.nc.PublishMsg(&nats.Msg{
		Subject: subjects.User(app, account),
		Header: nats.Header{
			protocol.HdrSession: []string{sid},
			protocol.HdrKind:    []string{protocol.DeliverMoved},
			protocol.HdrEdge:    []string{s.cfg.ID},
			protocol.HdrResumeN: []string{strconv.FormatUint(n, 10)},
		},
	})
}

// rejoinLocal follows the channels of an adopted session and makes it a
// member of each here, as of now: it gets every event from here on.
func (s *Server) rejoinLocal(sess *session, names []string) {
	for _, name := range names {
		ch, err := s.acquireChannel(sess.app, name)
		if err != nil {
			s.log.Warn("channel not followed after a resume", "err", err)
			continue
		}
		ch.mu.Lock()
		if ch.members[sess] == nil {
			ch.members[sess] = &member{joined: true}
		} else {
			ch.mu.Unlock()
			s.releaseChannel(ch)
			continue
		}
		ch.mu.Unlock()
		sess.mu.Lock()
		sess.channels = append(sess.channels, name)
		sess.mu.Unlock()
	}
}

// movedAway lets a session go that its client resumed on another edge: the
// senders of the peer messages up to the client's count n get their
// answers, as a resume here would give them (attach); the frames after n
// are passed on to the account's subject for that session, with the
// acknowledgements their senders wait for; and the session ends here
// without telling anyone else.
func (s *session) movedAway(n uint64) {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	// From here on, frames for the session follow it (deliverFrame); the
	// kept ones go first, under the lock, so that the order holds.
	s.movedOut = true
	i := 0
	for i < len(s.acks) && s.acks[i].seq <= n {
		i++
	}
	// A copy: an ack that comes meanwhile may reuse the array (compact).
	counted := slices.Clone(s.acks[:i])
	clear(s.acks[:i])
	s.acks = s.acks[i:]
	if n >= s.base && n <= s.sent {
		for i, f := range s.buf[n-s.base:] {
			seq := n + uint64(i) + 1
			var reply replyTo
			for j, a := range s.acks {
				if a.seq == seq {
					reply = a.reply
					s.acks = slices.Delete(s.acks, j, j+1)
					break
				}
			}
			if err := s.passOn(f.data, reply.String()); err != nil {
				s.srv.log.Warn("frames of a moved session not passed on", "err", err)
				break
			}
		}
	}
	s.mu.Unlock()
	for _, a := range counted {
		s.srv.peers.acknowledge(a.reply)
	}
	s.srv.rememberMove(userKey{s.app, s.account}, s.sid)
	s.end(-1, nil, protocol.CloseSessionLost, "session resumed elsewhere")
}

// moveMemory is how long an edge passes on what comes for a session that
// moved away: messages published before the move may still be on their way.
const moveMemory = 10 * time.Second

// rememberMove notes that the account's session sid moved away.
func (s *Server) rememberMove(k userKey, sid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.moved == nil {
		s.moved = map[userKey]movedSession{}
	}
	now := time.Now()
	for k, m := range s.moved {
		if now.After(m.until) {
			delete(s.moved, k)
		}
	}
	s.moved[k] = movedSession{sid: sid, until: now.Add(moveMemory)}
}

// movedTo returns the ID of the account's session that moved away from
// here a moment ago, if any.
func (s *Server) movedTo(k userKey) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m, ok := s.moved[k]; ok && time.Now().Before(m.until) {
		return m.sid
	}
	return ""
}

type movedSession struct {
	sid   string
	until time.Time
}

// passOn sends a frame of this session to the edge it moved to, addressed
// to the session, with the acknowledgement its sender waits for.
func (s *session) passOn(data []byte, reply string) error {
	return s.srv.nc.PublishMsg(&nats.Msg{
		Subject: subjects.User(s.app, s.account), Reply: reply, Data: data,
		Header: nats.Header{protocol.HdrSession: []string{s.sid}},
	})
}

func parseN(v string) uint64 {
	n, _ := strconv.ParseUint(v, 10, 64)
	return n
}

// leaseLoop keeps this edge's lease alive while it runs. When it stops
// (the edge died), the workers give its sessions _conn_timeout to resume
// elsewhere.
func (s *Server) leaseLoop() {
	defer s.wg.Done()
	every := s.cfg.LeaseTTL / 3
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		s.mu.Lock()
		closing := s.closing
		s.mu.Unlock()
		if closing {
			return
		}
		ctx, cancel := context.WithTimeout(s.ctx, s.cfg.RequestTimeout)
		if err := s.store.TouchEdge(ctx, s.cfg.ID, s.cfg.LeaseTTL); err != nil && s.ctx.Err() == nil {
			s.log.Warn("edge lease not renewed", "err", err)
		}
		cancel()
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// drain asks every client to move to another edge and waits, until ctx
// ends, for them to leave; then, for a second more, for their sessions
// to be resumed elsewhere, so that this edge can pass on what it kept.
// Sessions that were already waiting for their clients are not waited for.
// Last, until ctx ends, it waits for the outcomes of the messages this edge
// sent, which it passes on to their senders.
func (s *Server) drain(ctx context.Context) {
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	var movers []*session
	for _, sess := range s.sessions {
		sess.mu.Lock()
		if sess.c != nil {
			movers = append(movers, sess)
		}
		sess.mu.Unlock()
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.sendEvent(protocol.Event{Ev: protocol.EvMove})
	}
	waitSessions(ctx, movers, func(sess *session) bool { return sess.c != nil })
	rctx, cancel := context.WithTimeout(ctx, time.Second)
	waitSessions(rctx, movers, func(*session) bool { return true })
	cancel()
	// Answers to the peer messages this edge sent come to its inbox, and
	// its channel messages come back to it: wait for them, so that their
	// senders, wherever they are now, get them. Each has an outcome
	// within its MessageTimeout (a few, for a channel that is behind;
	// chansend.go), a timeout being one too. An edge that left sooner
	// would leave a delivered message to time out at its sender's SDK,
	// which would report it failed.
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for s.peers.waiting()+s.chanSendsWaiting() > 0 {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// waitSessions waits until none of sessions that has not ended satisfies
// busy (checked under the session's lock), or ctx ends.
func waitSessions(ctx context.Context, sessions []*session, busy func(*session) bool) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		left := 0
		for _, sess := range sessions {
			sess.mu.Lock()
			if !sess.ended && busy(sess) {
				left++
			}
			sess.mu.Unlock()
		}
		if left == 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
