package edge

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/switchboard-io/switchboard/kv"
	"github.com/switchboard-io/switchboard/protocol"
)

// session is a logged-in account on this edge. It outlives its connection by
// the account's _conn_timeout so that the client can resume it: meanwhile it
// keeps every frame meant for the client, and its peers see no change.
type session struct {
	srv     *Server
	sid     string
	app     string
	account string
	uid     uint32
	calls   serial // worker calls, in request order

	mu          sync.Mutex
	c           *conn // nil while detached
	rec         kv.Session
	rev         uint64
	connTimeout time.Duration
	sent        uint64   // counted frames so far
	base        uint64   // frames up to base are acknowledged or dropped
	buf         [][]byte // frames base+1 … sent
	acks        []pendingAck
	grace       *time.Timer
	expiry      *time.Timer
	ended       bool
	channels    map[string]struct{}
	rate        rateWindow
}

// pendingAck is a peer message whose sender waits until the client has
// acknowledged frame seq.
type pendingAck struct {
	seq   uint64
	reply string
}

func newSession(s *Server, app, account string, uid uint32) *session {
	return &session{
		srv:      s,
		sid:      randomID(18),
		app:      app,
		account:  account,
		uid:      uid,
		channels: map[string]struct{}{},
	}
}

// deliverEvent encodes ev and delivers it as a counted frame.
func (s *session) deliverEvent(ev protocol.Event) {
	data, err := json.Marshal(ev)
	if err == nil {
		s.deliver(data, "")
	}
}

// deliver appends a counted frame, sends it if a connection is attached, and
// records reply as waiting for the client's acknowledgement of it. It reports
// false when the session has ended.
func (s *session) deliver(frame []byte, reply string) bool {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return false
	}
	s.sent++
	s.buf = append(s.buf, frame)
	if reply != "" {
		s.acks = append(s.acks, pendingAck{seq: s.sent, reply: reply})
	}
	if over := len(s.buf) - s.srv.cfg.ReplayFrames; over > 0 {
		// The client does not acknowledge: drop the oldest frames. A later
		// resume from before them fails and the client logs in afresh.
		s.buf = s.buf[over:]
		s.base += uint64(over)
	}
	c := s.c
	if c != nil {
		c.send(frame)
	}
	s.mu.Unlock()
	return true
}

// ack records that the client received frames up to n, and answers the
// senders that waited for them.
func (s *session) ack(n uint64) {
	s.mu.Lock()
	if n > s.sent {
		n = s.sent
	}
	if n > s.base {
		drop := n - s.base
		clear(s.buf[:drop])
		s.buf = s.buf[drop:]
		s.base = n
	}
	var done []pendingAck
	i := 0
	for i < len(s.acks) && s.acks[i].seq <= n {
		i++
	}
	if i > 0 {
		done = append(done, s.acks[:i]...)
		s.acks = s.acks[i:]
	}
	s.mu.Unlock()
	for _, a := range done {
		_ = s.srv.nc.Publish(a.reply, nil)
	}
}

// attach binds the session to c and sends c every frame after n. It fails
// when frames after n are no longer kept.
func (s *session) attach(c *conn, n uint64, resume bool) bool {
	s.mu.Lock()
	if s.ended || n > s.sent || n < s.base {
		s.mu.Unlock()
		return false
	}
	old := s.c
	s.c = c
	if s.grace != nil {
		s.grace.Stop()
		s.grace = nil
	}
	if resume {
		c.sendEvent(protocol.Event{Ev: protocol.EvReconnected})
	}
	for _, f := range s.buf[n-s.base:] {
		c.send(f)
	}
	s.mu.Unlock()
	if old != nil && old != c {
		old.mu.Lock()
		if old.sess == s {
			old.sess = nil
		}
		old.mu.Unlock()
		old.closeWith(CloseSessionLost, "session resumed elsewhere")
	}
	s.ack(n)
	return true
}

// detach unbinds the session from its dropped connection and starts the
// _conn_timeout wait, after which the session ends (604).
func (s *session) detach(c *conn) {
	s.mu.Lock()
	if s.c != c || s.ended {
		s.mu.Unlock()
		return
	}
	s.c = nil
	s.grace = time.AfterFunc(s.connTimeout, func() {
		s.end(protocol.LeaveChannelDisconn, nil, 0, "")
	})
	s.mu.Unlock()
}

// end finishes the session: it stops its timers, tells the workers (unless
// reason is -1: the workers already know, as after a kick), sends ev to the
// client if one is attached, and forgets the session. Pending peer messages
// fail at their senders.
func (s *session) end(reason int, ev *protocol.Event, closeCode int, closeReason string) {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	s.ended = true
	if s.grace != nil {
		s.grace.Stop()
	}
	if s.expiry != nil {
		s.expiry.Stop()
	}
	c := s.c
	acks := s.acks
	s.acks = nil
	s.buf = nil
	s.mu.Unlock()

	s.srv.removeSession(s)
	for _, a := range acks {
		s.srv.peers.refuse(a.reply)
	}
	if c != nil {
		c.mu.Lock()
		if c.sess == s {
			c.sess = nil
		}
		c.mu.Unlock()
		if ev != nil {
			c.sendEvent(*ev)
		}
		if closeCode != 0 {
			c.closeWith(closeCode, closeReason)
		}
	}
	if reason >= 0 {
		s.calls.do(func() {
			ctx, cancel := context.WithTimeout(s.srv.ctx, s.srv.cfg.RequestTimeout)
			defer cancel()
			_, err := s.srv.call(ctx, &protocol.Call{
				App: s.app, Account: s.account, Session: s.sid, Edge: s.srv.cfg.ID,
				Reason: reason, Req: protocol.Request{Op: protocol.OpLogout},
			})
			if err != nil && !errors.Is(err, context.Canceled) {
				s.srv.log.Warn("session end not recorded; its record expires by TTL", "err", err)
			}
		})
	}
}

// refresh renews the session record's TTL. A record that another login took
// or that expired ends the session here.
func (s *session) refresh(ctx context.Context) {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	rec, rev := s.rec, s.rev
	s.mu.Unlock()
	newRev, err := s.srv.store.RefreshSession(ctx, s.app, s.account, rec, rev, s.srv.cfg.SessionTTL)
	switch {
	case err == nil:
		s.mu.Lock()
		s.rev = newRev
		s.mu.Unlock()
	case errors.Is(err, kv.ErrConflict):
		// Another login took the account; its kick is on the way.
	case errors.Is(err, kv.ErrNotFound):
		ev := protocol.Event{Ev: protocol.EvLogout, Ecode: protocol.LogoutNet}
		s.end(-1, &ev, CloseSessionLost, "session expired")
	default:
		s.srv.log.Warn("session refresh failed", "err", err)
	}
}

func (s *Server) refreshLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.SessionTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		s.mu.Lock()
		all := make([]*session, 0, len(s.sessions))
		for _, sess := range s.sessions {
			all = append(all, sess)
		}
		s.mu.Unlock()
		for _, sess := range all {
			ctx, cancel := context.WithTimeout(s.ctx, s.cfg.RequestTimeout)
			sess.refresh(ctx)
			cancel()
		}
	}
}

// onUserMsg handles a delivery on an account's subject: a peer message, an
// event from a worker, or a kick.
func (s *Server) onUserMsg(k userKey, m *nats.Msg) {
	sess := s.target(k, m.Header.Get(protocol.HdrSession))
	if sess == nil {
		if m.Reply != "" {
			s.peers.refuse(m.Reply)
		}
		return
	}
	switch m.Header.Get(protocol.HdrKind) {
	case protocol.DeliverKick:
		sess.end(-1, nil, 0, "")
		sess.sendFinal(m.Data, CloseKicked, "logged in elsewhere")
	case protocol.DeliverEnd:
		sess.end(-1, nil, 0, "")
		sess.sendFinal(m.Data, CloseSessionLost, "session ended")
	default:
		if !sess.deliver(m.Data, m.Reply) && m.Reply != "" {
			s.peers.refuse(m.Reply)
		}
	}
}

// sendFinal sends the last frame of an ended session to the connection it
// had, then closes that connection.
func (s *session) sendFinal(frame []byte, code int, reason string) {
	s.mu.Lock()
	c := s.c
	s.mu.Unlock()
	if c != nil {
		c.send(frame)
		c.closeWith(code, reason)
	}
}

// rateWindow counts events in the current one-second window.
type rateWindow struct {
	start time.Time
	n     int
}

// allow reports whether one more event fits under limit per second.
func (w *rateWindow) allow(now time.Time, limit int) bool {
	if now.Sub(w.start) >= time.Second {
		w.start = now
		w.n = 0
	}
	if w.n >= limit {
		return false
	}
	w.n++
	return true
}
