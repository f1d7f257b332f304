package edge

import (
	"math"
	"time"

	"github.com/switchboard-io/switchboard/metrics"
	"github.com/switchboard-io/switchboard/protocol"
)

// A connection without a session holds a socket, buffers and a place in its
// address's count while serving no one: one that has not logged in (or
// resumed) within LoginTimeout is closed with protocol.CloseLoginTimeout.
// The time runs from the handshake, and again from a logout, after which
// the connection stays open for another login.
//
// The timer is one stopped time.Timer while the connection has a session: an
// idle logged-in connection costs no goroutine and no wake-up for it.

// idleState is a connection's login deadline. graced is guarded by conn.mu.
type idleState struct {
	t      *time.Timer
	graced bool // a login under way at the deadline got RequestTimeout more
}

// startLoginTimer starts the login deadline of a new connection. It is
// called before the connection reads its first frame.
func (c *conn) startLoginTimer() {
	// Armed only once the field is set: loginDeadline uses it.
	c.idle.t = time.AfterFunc(math.MaxInt64, c.loginDeadline)
	c.idle.t.Reset(c.srv.cfg.LoginTimeout)
}

// stopLoginTimer stops the deadline for good, when the connection ends.
func (c *conn) stopLoginTimer() {
	c.idle.t.Stop()
}

// sessionAttached says that the connection got a session (a login or a
// resume succeeded): the deadline stops.
func (c *conn) sessionAttached() {
	c.idle.t.Stop()
}

// sessionEnded says that the connection's session ended while the
// connection may stay open (a logout): it has LoginTimeout again to log in.
// On a connection that closes anyway it does no harm.
func (c *conn) sessionEnded() {
	select {
	case <-c.done:
		return
	default:
	}
	c.mu.Lock()
	c.idle.graced = false
	c.mu.Unlock()
	c.idle.t.Reset(c.srv.cfg.LoginTimeout)
}

// loginDeadline runs when the time to log in is up. What it finds decides,
// not what the hooks said: a connection with a session is left alone even
// if a hook was missed. A login that a worker is still answering gets one
// RequestTimeout more, so that a slow worker does not turn a login just in
// time into a refusal.
func (c *conn) loginDeadline() {
	select {
	case <-c.done:
		return
	default:
	}
	c.mu.Lock()
	sess, loggingIn, graced := c.sess, c.loggingIn, c.idle.graced
	if loggingIn && !graced {
		c.idle.graced = true
	}
	c.mu.Unlock()
	switch {
	case sess != nil:
		return
	case loggingIn && !graced:
		c.idle.t.Reset(c.srv.cfg.RequestTimeout)
		return
	}
	c.refused(metrics.RefusedLoginTimeout, "connection closed: no login in time", "after", c.srv.cfg.LoginTimeout)
	c.closeWith(protocol.CloseLoginTimeout, "no login in time")
}
