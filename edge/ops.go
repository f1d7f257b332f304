package edge

import (
	"context"
	"time"

	"github.com/switchboard-io/switchboard/metrics"
	"github.com/switchboard-io/switchboard/protocol"
)

// dispatch routes one request: the few the edge answers itself, and the rest
// to the workers in the session's order.
func (c *conn) dispatch(r *protocol.Request) {
	if !protocol.Known(r.Op) {
		c.fail(r, protocol.Errorf(protocol.KindInvalid, "unknown operation"))
		return
	}
	switch r.Op {
	case protocol.OpLogin, protocol.OpLogin2:
		c.login(r)
		return
	case protocol.OpResume:
		c.resume(r)
		return
	}
	sess := c.session()
	if sess == nil {
		if r.Op != protocol.OpAck {
			c.fail(r, protocol.ErrNotLoggedIn)
		}
		return
	}
	if err := protocol.Validate(r); err != nil {
		c.srv.Metrics.EdgeRequest(r.Op, metrics.ResultError)
		c.fail(r, err)
		return
	}
	c.srv.Metrics.EdgeRequest(r.Op, metrics.ResultOK)
	switch r.Op {
	case protocol.OpAck:
		sess.ack(r.N)
	case protocol.OpLogout:
		c.logout(sess)
	case protocol.OpMessageInstantSend:
		c.srv.peers.send(sess, r)
	default:
		if h := c.srv.local(r.Op); h != nil {
			h(c, sess, r)
			return
		}
		sess.forward(r)
	}
}

// localHandler answers an operation on the edge instead of the workers.
type localHandler func(c *conn, sess *session, r *protocol.Request)

// local returns the edge's own handler of op, if it has one.
func (s *Server) local(op string) localHandler {
	return s.handlers[op]
}

// forward hands a request to the workers in the session's order and delivers
// their answer.
func (s *session) forward(r *protocol.Request) {
	s.calls.do(func() {
		reply, err := s.callWorker(r)
		s.answer(r, reply, err)
	})
}

// callWorker calls the workers on behalf of the session, waiting for their
// answer up to RequestTimeout.
func (s *session) callWorker(r *protocol.Request) (*protocol.Reply, error) {
	return s.callWorkerWithin(r, s.srv.cfg.RequestTimeout)
}

// callWorkerWithin is callWorker waiting up to d: MembershipTimeout for
// what changes where the session is (join, leave, logout), which a busy
// worker must not turn into a false failure.
func (s *session) callWorkerWithin(r *protocol.Request, d time.Duration) (*protocol.Reply, error) {
	ctx, cancel := context.WithTimeout(s.srv.ctx, d)
	defer cancel()
	return callWorker(ctx, s.srv.nc, &protocol.Call{
		App: s.app, Account: s.account, Session: s.sid, Edge: s.srv.cfg.ID, Req: *r,
	}, d)
}

// answer delivers a worker's reply, or the failure callback of r.
func (s *session) answer(r *protocol.Request, reply *protocol.Reply, err error) {
	if err != nil {
		s.deliverEvent(protocol.FailureEvent(r, err))
		return
	}
	// A reply that names a conn timeout (setAttr or invoke of _conn_timeout)
	// makes it this session's from now on, and the record's at its next
	// refresh.
	if reply.ConnTimeout > 0 {
		s.mu.Lock()
		s.connTimeout = time.Duration(reply.ConnTimeout) * time.Second
		s.rec.ConnTimeout = reply.ConnTimeout
		s.mu.Unlock()
	}
	for _, ev := range reply.Events {
		s.deliverEvent(ev)
	}
}

// login asks the workers to log the account in, with a fresh session that
// subscribes to the account's subject first. A login while logged in (or
// logging in, or resuming) is ignored, as the API says. The session's
// secret goes to the client in onLoginSuccess and nowhere else.
func (c *conn) login(r *protocol.Request) {
	c.mu.Lock()
	if c.sess != nil || c.loggingIn {
		c.mu.Unlock()
		return
	}
	c.loggingIn = true
	c.mu.Unlock()
	r.Op = protocol.OpLogin
	if err := protocol.Validate(r); err != nil {
		c.loginDone(nil)
		c.loginFailed(r, err)
		c.fail(r, err)
		return
	}
	secret := newSecret()
	sess := newSession(c.srv, r.AppID, r.Account, r.UID, sidOf(secret))
	if err := c.srv.addSession(sess); err != nil {
		c.loginDone(nil)
		err := protocol.Errorf(protocol.KindUnavailable, "the service is unreachable")
		c.loginFailed(r, err)
		c.fail(r, err)
		return
	}
	c.calls.do(func() {
		// A login waits up to MembershipTimeout: a slow one is not a
		// failed one (docs/architecture.md, "Sessions").
		timeout := c.srv.cfg.MembershipTimeout
		ctx, cancel := context.WithTimeout(c.srv.ctx, timeout)
		defer cancel()
		reply, err := callWorker(ctx, c.srv.nc, &protocol.Call{
			App: r.AppID, Session: sess.sid, Edge: c.srv.cfg.ID, Req: *r,
		}, timeout)
		if err != nil {
			c.srv.removeSession(sess)
			c.loginDone(nil)
			c.loginFailed(r, err)
			c.fail(r, err)
			return
		}
		sess.settle(reply)
		if h := c.srv.cfg.LoginHook; h != nil {
			h(r.AppID, r.Account)
		}
		// The connection has its session before the client hears of it:
		// a request sent on onLoginSuccess must find it. Frames for the
		// session before attach wait in its buffer and follow the login,
		// which attach sends first.
		c.loginDone(sess)
		evs := reply.Events
		for i := range evs {
			if evs[i].Ev == protocol.EvLoginSuccess {
				evs[i].Session = secret
			}
		}
		if !sess.attach(c, 0, false, evs...) {
			sess.endedBeforeAttach(c, evs)
		}
	})
}

func (c *conn) loginDone(sess *session) {
	c.mu.Lock()
	c.loggingIn = false
	c.sess = sess
	c.mu.Unlock()
}

// tokenExpired ends a session whose token expired while it was online.
func (s *session) tokenExpired() {
	ev := protocol.Event{Ev: protocol.EvLogout, Ecode: protocol.LogoutTokenExpired}
	s.end(protocol.LogoutTokenExpired, &ev, protocol.CloseTokenExpired, "token expired")
}

// logout ends the session at the client's request; the connection stays
// open for another login.
func (c *conn) logout(sess *session) {
	sess.calls.do(func() {
		reply, err := sess.callWorkerWithin(&protocol.Request{Op: protocol.OpLogout}, c.srv.cfg.MembershipTimeout)
		if err != nil {
			c.srv.log.Warn("logout not recorded; the session record expires by TTL", "err", err)
		}
		_ = reply
		ev := protocol.Event{Ev: protocol.EvLogout, Ecode: protocol.LogoutUser}
		sess.end(-1, &ev, 0, "")
	})
}

// resume reattaches a session that lost its connection, on this edge or,
// through the workers, one another edge held. The client proves the session
// is its own with the secret its login handed it (secret.go).
func (c *conn) resume(r *protocol.Request) {
	c.mu.Lock()
	busy := c.sess != nil || c.loggingIn
	c.mu.Unlock()
	if busy {
		c.fail(r, protocol.Errorf(protocol.KindConflict, "already in a session"))
		return
	}
	if !protocol.ValidAppID(r.AppID) || !protocol.ValidName(r.Account) || !validSecret(r.Session) {
		c.resumeFailed(protocol.WrongParam, "malformed resume")
		return
	}
	sid := sidOf(r.Session)
	c.srv.mu.Lock()
	sess := c.srv.sessions[sid]
	c.srv.mu.Unlock()
	if sess == nil {
		// Not here: the session may be another edge's, which died or is
		// draining.
		c.adopt(r, sid)
		return
	}
	if sess.app != r.AppID || sess.account != r.Account || !sess.confirmed.Load() {
		c.resumeFailed(protocol.NotLoggedIn, "no such session")
		return
	}
	c.mu.Lock()
	c.sess = sess
	c.mu.Unlock()
	if !sess.attach(c, r.N, true) {
		c.mu.Lock()
		c.sess = nil
		c.mu.Unlock()
		c.resumeFailed(protocol.NotLoggedIn, "the session is gone or its frames are no longer kept")
	}
}

// resumeFailed tells the client its resume failed, with ecode: 1004 for a
// malformed resume, 1003 for a session that is not there (never was, ended,
// or is not the client's), 201 when the service could not be asked. The
// first two count toward maxFailedResumes, after which the connection is
// closed (protocol.CloseResumeFlood).
func (c *conn) resumeFailed(ecode int, why string) {
	c.sendEvent(protocol.Event{Ev: protocol.EvResumeFailed, Ecode: ecode})
	if ecode == protocol.LoginNet {
		return
	}
	c.refused(metrics.RefusedResume, "resume refused", "why", why)
	c.mu.Lock()
	c.failedResumes++
	flood := c.failedResumes >= maxFailedResumes
	c.mu.Unlock()
	if flood {
		c.refused(metrics.RefusedResumeFlood, "connection closed after repeated failed resumes")
		c.closeWith(protocol.CloseResumeFlood, "too many failed resumes")
	}
}
