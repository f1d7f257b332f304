package sdk

import (
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-io/switchboard/protocol"
)

// DefaultURL is the edge a client dials when neither WithURL nor the
// SWITCHBOARD_URL environment variable names one.
const DefaultURL = "ws://127.0.0.1:7400/ws"

// EnvURL names the environment variable that overrides DefaultURL. It may
// hold several URLs separated by commas, like WithURL.
const EnvURL = "SWITCHBOARD_URL"

// Defaults of the reconnection backoff: the first retry after a failed one
// waits about 100 ms, each later one twice as long, up to 2 s.
const (
	DefaultBackoffMin = 100 * time.Millisecond
	DefaultBackoffMax = 2 * time.Second
)

// handshakeTimeout bounds one dial, including the wait for the hello frame,
// so that one unresponsive edge does not eat the whole retry budget.
const handshakeTimeout = 10 * time.Second

// An Option configures a Client at creation.
type Option func(*options)

type options struct {
	urls       []string
	dialer     websocket.Dialer
	backoffMin time.Duration
	backoffMax time.Duration
	sendWait   time.Duration
}

// WithMessageTimeout sets how long a message waits for its answer before
// the SDK reports it failed (401) itself: a message sent just before a
// connection dropped may never reach an edge. The default, 15 s, is longer
// than an edge's own wait for the receiver (10 s); keep it so.
func WithMessageTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.sendWait = d
		}
	}
}

// WithURL sets the edge URLs. The first login tries them in order; each
// reconnection moves on to the next one, round-robin, so that a client whose
// edge went away lands on another.
func WithURL(urls ...string) Option {
	return func(o *options) {
		var keep []string
		for _, u := range urls {
			if u = strings.TrimSpace(u); u != "" {
				keep = append(keep, u)
			}
		}
		if len(keep) > 0 {
			o.urls = keep
		}
	}
}

// WithDialer sets the WebSocket dialer, for TLS settings, proxies or
// timeouts. The SDK works on a copy and offers the switchboard.v1
// subprotocol when the dialer offers none.
func WithDialer(d *websocket.Dialer) Option {
	return func(o *options) {
		if d != nil {
			o.dialer = *d
		}
	}
}

// WithReconnectBackoff sets the wait between two connection attempts: min
// after the first failure, doubling up to max. The first attempt after a lost
// connection is made at once.
func WithReconnectBackoff(min, max time.Duration) Option {
	return func(o *options) {
		if min > 0 {
			o.backoffMin = min
		}
		if max >= o.backoffMin {
			o.backoffMax = max
		} else {
			o.backoffMax = o.backoffMin
		}
	}
}

func newOptions(opts []Option) options {
	o := options{
		urls: []string{DefaultURL},
		dialer: websocket.Dialer{
			Proxy:            http.ProxyFromEnvironment,
			HandshakeTimeout: handshakeTimeout,
		},
		backoffMin: DefaultBackoffMin,
		backoffMax: DefaultBackoffMax,
	}
	if env := os.Getenv(EnvURL); env != "" {
		WithURL(strings.Split(env, ",")...)(&o)
	}
	for _, opt := range opts {
		opt(&o)
	}
	if len(o.dialer.Subprotocols) == 0 {
		o.dialer.Subprotocols = []string{protocol.Subprotocol}
	}
	return o
}
