package sdk

import (
	"context"
	"time"

	"github.com/switchboard-io/switchboard/protocol"
)

// Retry budgets: Login2's defaults as the API documents them, and Login's,
// which the API leaves open: long enough to outlast an edge restart, and as
// long as the edge keeps a dropped session (_conn_timeout's maximum).
const (
	login2RetryTime  = 30 * time.Second
	login2RetryCount = 3
	loginRetryTime   = 120 * time.Second
)

// maxPending bounds the requests queued while reconnecting; past it they
// fail at once rather than pile up behind a connection that may not return.
const maxPending = 1024

// ackEvery is how many counted frames may go unacknowledged: the edge keeps
// them for a resume until they are.
const ackEvery = protocol.AckEvery

// session is one login, from Login to its end (onLogout, onLoginFailed,
// Logout, Destroy). It outlives connections: a lost connection is resumed or
// replaced within it. Its fields are guarded by the client's mu.
type session struct {
	login      protocol.Request // the login or login2 request, sent again after resumeFailed
	retryTime  time.Duration
	retryCount int // 0: no limit

	ctx    context.Context // cancelled when the session ends: stops dials and waits
	cancel context.CancelFunc
	done   chan struct{} // closed when the session goroutine has returned

	conn       *conn  // the connection being served, if any
	token      string // resume token from onLoginSuccess; "" until then and after resumeFailed
	count      uint64 // counted frames received under token
	acked      uint64 // the count last acknowledged
	loggedIn   bool   // logged in once: connection losses are reconnections
	loggingOut bool   // Logout sent; a lost connection ends the session
	ended      bool

	channels  []string         // joined channels, in join order, to join again after a re-login
	rejoining []string         // channels joined again after a re-login and not yet answered
	pending   []pendingRequest // requests made while reconnecting
	// sends are the messages that have no answer yet, by msgID: each gets
	// one, from the edge or, past sendTimeout, from the SDK itself (401).
	sends   map[string]*time.Timer
	epStart time.Time // when the current connection attempts began
	epDials int       // dials made since then
}

type pendingRequest struct {
	req   protocol.Request
	frame []byte
}

// errSessionEnded fails requests still queued when a session ends.
var errSessionEnded = protocol.Errorf(protocol.KindUnavailable, "not sent: the session ended")

// errQueueFull fails requests made while reconnecting past maxPending.
var errQueueFull = protocol.Coded(protocol.KindUnavailable, protocol.GeneralFailed, "not sent: too many requests while reconnecting")

// Login logs in; see Login2. Login keeps reconnecting for 120 s, with no
// limit on the number of attempts.
func (c *Client) Login(appID, account, token string, uid uint32, deviceID string) {
	c.startLogin(protocol.Request{
		Op: protocol.OpLogin, AppID: appID, Account: account, Token: token, UID: uid, DeviceID: deviceID,
	}, loginRetryTime, 0)
}

// Login2 logs in. The outcome is OnLoginSuccess or OnLoginFailed. A lost
// connection is then resumed for up to retryTimeInS seconds and retryCount
// attempts (30 and 3 when not positive), with OnReconnecting and
// OnReconnected; past that budget the session ends with OnLogout(102). A
// first login that cannot reach any edge within the budget fails with
// OnLoginFailed(201). Login while logged in or logging in is ignored, unless
// Logout was called: the old session then ends at once with OnLogout(101).
func (c *Client) Login2(appID, account, token string, uid uint32, deviceID string, retryTimeInS, retryCount int) {
	t := time.Duration(retryTimeInS) * time.Second
	if t <= 0 {
		t = login2RetryTime
	}
	if retryCount <= 0 {
		retryCount = login2RetryCount
	}
	// retry_time_in_s and retry_count are the SDK's business; the edge is
	// not sent them.
	c.startLogin(protocol.Request{
		Op: protocol.OpLogin2, AppID: appID, Account: account, Token: token, UID: uid, DeviceID: deviceID,
	}, t, retryCount)
}

func (c *Client) startLogin(req protocol.Request, retryTime time.Duration, retryCount int) {
	if req.AppID == "" {
		req.AppID = c.appID
	}
	if tooLarge(&req) {
		c.postEvent(protocol.FailureEvent(&req, errTooLarge))
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.destroyed {
		return
	}
	if old := c.sess; old != nil && old.loggingOut {
		// The API lets a caller log in again right after Logout, without
		// waiting for it: the old session ends here, its logout still goes
		// out on its own connection.
		c.endLocked(old, false, func(cb Callback) { cb.OnLogout(protocol.LogoutUser) })
	}
	if c.status != StatusNotLoggedIn {
		c.logf("login ignored: status is %d", c.status)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &session{
		login: req, retryTime: retryTime, retryCount: retryCount,
		ctx: ctx, cancel: cancel, done: make(chan struct{}),
		epStart: time.Now(),
	}
	c.sess = s
	c.status = StatusLoggingIn
	c.spawn(func() { c.run(s) })
}

// Logout logs out; OnLogout(101) follows. While reconnecting it ends the
// session at once, and while logging in it cancels the login
// (OnLoginFailed(203)).
func (c *Client) Logout() {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.sess
	switch {
	case s == nil:
		c.postEvent(protocol.FailureEvent(&protocol.Request{Op: protocol.OpLogout}, protocol.ErrNotLoggedIn))
	case c.status == StatusLoggingIn:
		c.endLocked(s, true, func(cb Callback) { cb.OnLoginFailed(protocol.LoginCancel) })
	case c.status == StatusReconnecting:
		c.endLocked(s, true, func(cb Callback) { cb.OnLogout(protocol.LogoutUser) })
	case s.loggingOut:
		c.logf("logout ignored: already logging out")
	default:
		// The session ends when the edge answers onLogout(101), or locally
		// if the connection drops first.
		s.loggingOut = true
		s.conn.sendJSON(&protocol.Request{Op: protocol.OpLogout})
	}
}

// endLocked ends session s: status 0, its goroutine told to stop, its
// connection closed (after a logout frame when logout is set and a
// connection is up), its queued requests failed, and then the callback then,
// if any. Ending an ended session does nothing.
func (c *Client) endLocked(s *session, logout bool, then func(Callback)) {
	if s.ended {
		return
	}
	s.ended = true
	s.cancel()
	if c.sess == s {
		c.sess = nil
		c.status = StatusNotLoggedIn
	}
	if s.conn != nil {
		if logout && !s.loggingOut {
			s.conn.sendJSON(&protocol.Request{Op: protocol.OpLogout})
		}
		s.conn.closeGracefully()
		s.conn = nil
	}
	for _, p := range s.pending {
		delete(s.sends, p.req.MsgID)
		c.postEvent(protocol.FailureEvent(&p.req, errSessionEnded))
	}
	s.pending = nil
	// Messages in flight when the session ends get their answer from
	// their timers: an edge may still have delivered them.
	if then != nil {
		c.post(then)
	}
}
