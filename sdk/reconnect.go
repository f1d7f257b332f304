package sdk

import (
	"context"
	"time"

	"github.com/switchboard-io/switchboard/protocol"
)

// run is the session goroutine: it connects, serves the connection, and
// reconnects when it is lost, until the session ends.
func (c *Client) run(s *session) {
	defer close(s.done)
	moveTo := ""
	for {
		cn := c.connect(s, moveTo)
		if cn == nil {
			return
		}
		var ended bool
		ended, moveTo = c.serve(s, cn)
		if ended {
			return
		}
	}
}

// connect dials edges until one answers, within the session's retry budget.
// It returns nil when the session ended or the budget ran out (and then ends
// the session itself). moveTo, if set, is the first URL to try.
func (c *Client) connect(s *session, moveTo string) *conn {
	for {
		c.mu.Lock()
		if s.ended {
			c.mu.Unlock()
			return nil
		}
		// A reconnection's every dial is a retry; a first login's first
		// dial is not.
		retry := s.epDials
		if s.loggedIn {
			retry++
		}
		wait := time.Duration(0)
		if s.epDials > 0 {
			wait = c.backoff(s.epDials)
		}
		if retry > 0 && c.exhaustedLocked(s, retry, wait) {
			c.mu.Unlock()
			return nil
		}
		url := moveTo
		if url == "" {
			url = c.opts.urls[c.urlNext]
			c.urlNext = (c.urlNext + 1) % len(c.opts.urls)
		}
		moveTo = ""
		s.epDials++
		reconnecting := s.loggedIn
		c.mu.Unlock()

		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-s.ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
		}
		if reconnecting {
			n := uint32(retry)
			c.post(func(cb Callback) { cb.OnReconnecting(n) })
		}
		c.logf("connecting to %s", url)
		ctx, cancel := context.WithTimeout(s.ctx, handshakeTimeout)
		cn, err := dial(ctx, &c.opts.dialer, url)
		cancel()
		if err != nil {
			c.logf("connecting to %s: %v", url, err)
			continue
		}
		c.spawn(cn.writeLoop)
		return cn
	}
}

// exhaustedLocked reports whether retry number retry, made after wait, is
// past the budget; if so it ends the session with the API's callback.
func (c *Client) exhaustedLocked(s *session, retry int, wait time.Duration) bool {
	over := s.retryCount > 0 && retry > s.retryCount
	if time.Since(s.epStart)+wait >= s.retryTime {
		over = true
	}
	if !over {
		return false
	}
	if s.loggedIn {
		c.logf("reconnection budget spent after %d attempts", retry-1)
		c.endLocked(s, false, func(cb Callback) { cb.OnLogout(protocol.LogoutNet) })
	} else {
		c.logf("no edge reachable after %d attempts", retry)
		c.endLocked(s, false, func(cb Callback) { cb.OnLoginFailed(protocol.LoginNet) })
	}
	return true
}

// backoff is the wait before the dial that follows dials failed ones: min,
// doubling, capped at max, with jitter so that the clients of a restarted
// edge do not all come back at the same instant.
func (c *Client) backoff(dials int) time.Duration {
	d := c.opts.backoffMin
	for i := 1; i < dials && d < c.opts.backoffMax; i++ {
		d *= 2
	}
	d = min(d, c.opts.backoffMax)
	return d/2 + time.Duration(jitter(int64(d/2)+1))
}

// serve runs one connection: it logs in or resumes, then reads frames until
// the connection is lost or the session ends. It reports whether the session
// ended, and where a move event asked to reconnect.
func (c *Client) serve(s *session, cn *conn) (ended bool, moveTo string) {
	c.mu.Lock()
	if s.ended {
		c.mu.Unlock()
		cn.close()
		return true, ""
	}
	s.conn = cn
	if s.token != "" {
		s.acked = s.count // a resume acknowledges what it counts
		cn.sendJSON(&protocol.Request{Op: protocol.OpResume, AppID: s.login.AppID, Account: s.login.Account, Session: s.token, N: s.count})
	} else {
		cn.sendJSON(&s.login)
	}
	c.mu.Unlock()

	for {
		data, err := cn.read()
		if err != nil {
			return c.lost(s, cn, err), ""
		}
		ended, moveTo, moved := c.handle(s, cn, data)
		if ended {
			return true, ""
		}
		if moved {
			c.logf("edge asks to move to %q", moveTo)
			return c.lost(s, cn, nil), moveTo
		}
	}
}

// lost handles the end of connection cn: it reports whether the session
// ended with it; otherwise the session is now reconnecting.
func (c *Client) lost(s *session, cn *conn, err error) (ended bool) {
	cn.close()
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.ended {
		return true
	}
	s.conn = nil
	if err != nil {
		c.logf("connection to %s lost: %v", cn.url, err)
	}
	// The edge closes with these codes after onLogout(103/105), which
	// normally arrives first; the close alone must also stop a resume.
	switch closeCode(err) {
	case protocol.CloseKicked:
		c.endLocked(s, false, func(cb Callback) { cb.OnLogout(protocol.LogoutKicked) })
		return true
	case protocol.CloseTokenExpired:
		c.endLocked(s, false, func(cb Callback) { cb.OnLogout(protocol.LogoutTokenExpired) })
		return true
	}
	if s.loggingOut {
		c.endLocked(s, false, func(cb Callback) { cb.OnLogout(protocol.LogoutUser) })
		return true
	}
	if c.status == StatusLoggedIn {
		// A new round of attempts, with its own budget.
		c.status = StatusReconnecting
		s.epStart = time.Now()
		s.epDials = 0
	}
	return false
}
