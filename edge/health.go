package edge

import (
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// DefaultMaxDisconnected is how long a process's NATS connection may be
// seen down before /healthz fails.
const DefaultMaxDisconnected = 30 * time.Second

// Health answers the liveness probe (/healthz) of an edge or a worker from
// the state of the process's NATS connection. Everything such a process
// does goes through that connection, so a process that has lost it for good
// can only be fixed by a restart, which is what a failing liveness probe
// asks Kubernetes for. "For good" is:
//
//   - the connection is closed: the client gave up reconnecting (the
//     embedded default and tests reconnect 60 times, 2 s apart; a process
//     with NATS_URL reconnects for ever, so this only happens on Close), or
//     the process closed it;
//   - or it has been seen not connected (disconnected, reconnecting, still
//     connecting) by every probe for longer than MaxDisconnected: the clock
//     starts at the first probe that sees it down and stops at the first
//     that sees it connected, so a short outage never fails the probe.
//
// A draining connection (a clean shutdown) is healthy. /readyz, which takes
// a process out of service while it is not connected, is separate.
type Health struct {
	nc *nats.Conn
	// MaxDisconnected is how long the connection may be seen down before
	// the probe fails; DefaultMaxDisconnected unless set (tests).
	MaxDisconnected time.Duration

	mu        sync.Mutex
	downSince time.Time // the first probe of the current outage, or zero
}

// NewHealth returns the liveness probe of a process whose NATS connection
// is nc.
func NewHealth(nc *nats.Conn) *Health {
	return &Health{nc: nc, MaxDisconnected: DefaultMaxDisconnected}
}

// Errors of Check: what the probe answers, with no detail of the
// connection (its URL may carry credentials).
var (
	ErrNATSClosed = errors.New("NATS connection closed")
	ErrNATSLost   = errors.New("NATS connection lost")
)

// Check reports whether the process is alive: nil, ErrNATSClosed or
// ErrNATSLost. Each call is a probe.
func (h *Health) Check() error {
	if h.nc == nil || h.nc.IsClosed() {
		return ErrNATSClosed
	}
	switch h.nc.Status() {
	case nats.CONNECTED, nats.DRAINING_SUBS, nats.DRAINING_PUBS:
		h.mu.Lock()
		h.downSince = time.Time{}
		h.mu.Unlock()
		return nil
	}
	now := time.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.downSince.IsZero() {
		h.downSince = now
	}
	if now.Sub(h.downSince) > h.maxDisconnected() {
		return ErrNATSLost
	}
	return nil
}

func (h *Health) maxDisconnected() time.Duration {
	if h.MaxDisconnected > 0 {
		return h.MaxDisconnected
	}
	return DefaultMaxDisconnected
}

// ServeHTTP answers 200, or 503 with the reason.
func (h *Health) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	if err := h.Check(); err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}
