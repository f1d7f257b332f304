package sdk

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/switchboard-io/switchboard/protocol"
)

// SdkVersion is what GetSdkVersion returns: version 1.4.0.0 encoded as the
// API encodes it, a leading 1 and then two digits each for major, minor and
// patch and three for the build (1010104019 is 1.1.4.19).
const SdkVersion = 1010400000

// Values of GetStatus, as the API defines them.
const (
	StatusNotLoggedIn  = 0
	StatusLoggingIn    = 1
	StatusLoggedIn     = 2
	StatusReconnecting = 3
)

// Client is one SDK instance: the IAgoraAPI of the Signaling API. Its methods
// are safe for concurrent use and never block on the network; their results
// arrive as callbacks.
type Client struct {
	appID string
	opts  options
	disp  *dispatcher
	cb    atomic.Pointer[callbackBox]
	doLog atomic.Bool

	mu        sync.Mutex
	status    int
	sess      *session // the current login, nil at StatusNotLoggedIn
	urlNext   int      // index in opts.urls of the next edge to dial
	destroyed bool

	wg   sync.WaitGroup // session and writer goroutines, waited for by Destroy
	live atomic.Int32   // goroutines of this client still running, for tests
}

// callbackBox lets a Callback of any dynamic type sit in an atomic.Pointer.
type callbackBox struct{ cb Callback }

var (
	sharedMu sync.Mutex
	shared   *Client
)

// GetAgoraSDKInstance returns the process's shared instance, creating it on
// the first call. Later calls return the same instance and ignore their
// arguments, as the API's singleton does; after the shared instance is
// destroyed, the next call creates a new one.
func GetAgoraSDKInstance(appID string, opts ...Option) *Client {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared == nil {
		shared = CreateAgoraSDKInstance(appID, opts...)
	}
	return shared
}

// CreateAgoraSDKInstance returns a new, independent instance. appID is used
// by Login and Login2 when they are given an empty one.
func CreateAgoraSDKInstance(appID string, opts ...Option) *Client {
	c := &Client{appID: appID, opts: newOptions(opts)}
	c.disp = newDispatcher(c.CallbackGet)
	c.live.Add(1)
	go func() {
		// done is closed last, once the goroutine is counted out: whoever
		// sees it closed (Destroy) finds none of the client's goroutines
		// running, however late the scheduler runs this one.
		defer close(c.disp.done)
		defer c.live.Add(-1)
		c.disp.run()
	}()
	return c
}

// Destroy logs out if logged in, closes the connection and stops the
// instance's goroutines. It waits for them, except for a callback that is
// running (Destroy may be called from a callback); no callback starts after
// Destroy returns. The instance is unusable afterwards.
func (c *Client) Destroy() {
	c.mu.Lock()
	if c.destroyed {
		c.mu.Unlock()
		return
	}
	c.destroyed = true
	if s := c.sess; s != nil {
		// Logging out tells peers at once; a dropped socket would leave the
		// user online for _conn_timeout.
		c.endLocked(s, true, nil)
	}
	c.mu.Unlock()

	busy := c.disp.stop()
	c.wg.Wait()
	if !busy {
		<-c.disp.done
	}

	sharedMu.Lock()
	if shared == c {
		shared = nil
	}
	sharedMu.Unlock()
}

// CallbackSet sets the callback that receives every later callback; nil
// drops them.
func (c *Client) CallbackSet(cb Callback) {
	c.cb.Store(&callbackBox{cb})
}

// CallbackGet returns the callback set by CallbackSet, or nil.
func (c *Client) CallbackGet() Callback {
	if b := c.cb.Load(); b != nil {
		return b.cb
	}
	return nil
}

// GetStatus returns StatusNotLoggedIn, StatusLoggingIn, StatusLoggedIn or
// StatusReconnecting.
func (c *Client) GetStatus() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

// IsOnline reports whether the client is logged in and connected.
func (c *Client) IsOnline() bool {
	return c.GetStatus() == StatusLoggedIn
}

// GetSdkVersion returns SdkVersion.
func (c *Client) GetSdkVersion() int {
	return SdkVersion
}

// SetDoLog turns the SDK's log lines on or off. When on, each line arrives
// through OnLog, in order with the other callbacks.
func (c *Client) SetDoLog(enabled bool) {
	c.doLog.Store(enabled)
}

// post queues a callback.
func (c *Client) post(f func(Callback)) {
	c.disp.post(f)
}

// postEvent queues the callback an event names.
func (c *Client) postEvent(ev protocol.Event) {
	c.disp.post(func(cb Callback) { deliver(cb, &ev) })
}

// logf sends a log line to OnLog when logging is on.
func (c *Client) logf(format string, args ...any) {
	if !c.doLog.Load() {
		return
	}
	txt := fmt.Sprintf(format, args...)
	c.post(func(cb Callback) { cb.OnLog(txt) })
}

// spawn runs f on a goroutine that Destroy waits for.
func (c *Client) spawn(f func()) {
	c.wg.Add(1)
	c.live.Add(1)
	go func() {
		defer c.wg.Done()
		defer c.live.Add(-1)
		f()
	}()
}
