// Package metrics holds the Prometheus metrics of one Switchboard process
// (an edge, a worker, or both) and serves them. Every method is safe on a nil
// *Metrics, so that parts started without metrics (tests, tools) need no
// special case.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Results of a request, as the "result" label says them.
const (
	ResultOK    = "ok"
	ResultError = "error" // a failure the client is told about with its code
	ResultFault = "fault" // an internal error, a timeout or an unreachable worker
)

// Metrics are one process's metrics, in their own registry.
type Metrics struct {
	reg *prometheus.Registry

	connections    prometheus.Gauge
	sessions       prometheus.Gauge
	requests       *prometheus.CounterVec
	latency        *prometheus.HistogramVec
	deliveries     *prometheus.CounterVec
	natsReconnects prometheus.Counter
	kvErrors       prometheus.Counter
	slowConsumers  prometheus.Counter
	chanOverload   *prometheus.CounterVec
	refused        *prometheus.CounterVec
	loginFailures  *prometheus.CounterVec

	webhookMetrics

	// The delivery counters, resolved once: they count on the hot path.
	delPeer, delChannel, delEvent prometheus.Counter
}

// New returns metrics registered in a fresh registry, with the Go runtime and
// process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		connections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "switchboard_edge_connections", Help: "Open client WebSocket connections.",
		}),
		sessions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "switchboard_edge_sessions", Help: "Logged-in sessions on this edge, attached or waiting for a resume.",
		}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_requests_total", Help: "Requests handled, by part (edge, worker), operation and result.",
		}, []string{"part", "op", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "switchboard_request_duration_seconds",
			Help:    "Time to answer a request, by part and operation.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"part", "op"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_deliveries_total", Help: "Frames queued for client sockets, by kind (peer, channel, event).",
		}, []string{"kind"}),
		natsReconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchboard_nats_reconnects_total", Help: "Reconnections of this process's NATS connection.",
		}),
		kvErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchboard_kv_errors_total", Help: "JetStream KV operations that failed for a reason other than a conflict or a missing key.",
		}),
		slowConsumers: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchboard_edge_slow_consumers_total", Help: "Connections closed because their outgoing queue overflowed.",
		}),
		chanOverload: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_edge_channel_overload_total",
			Help: "Channel messages an edge that fell behind on a channel refused before publishing (shed) or lost from its subscription buffer (dropped).",
		}, []string{"kind"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_edge_refused_total",
			Help: "Connections, frames and requests an edge refused as hostile or abusive, by kind (docs/security.md).",
		}, []string{"kind"}),
		loginFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_login_failures_total",
			Help: "Failed logins, by reason (unknown_app, bad_token, expired, no_token_refused, bad_account, unavailable).",
		}, []string{"reason"}),
	}
	m.delPeer = m.deliveries.WithLabelValues(DeliveryPeer)
	m.delChannel = m.deliveries.WithLabelValues(DeliveryChannel)
	m.delEvent = m.deliveries.WithLabelValues(DeliveryEvent)
	m.webhookMetrics = newWebhookMetrics(m.reg)
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.connections, m.sessions, m.requests, m.latency, m.deliveries,
		m.natsReconnects, m.kvErrors, m.slowConsumers, m.chanOverload, m.refused, m.loginFailures,
	)
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Request records one request of op handled by part.
func (m *Metrics) Request(part, op, result string, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(part, op, result).Inc()
	m.latency.WithLabelValues(part, op).Observe(d.Seconds())
}

// Connection counts a connection opening (+1) or closing (-1).
func (m *Metrics) Connection(delta int) {
	if m != nil {
		m.connections.Add(float64(delta))
	}
}

// Session counts a session starting (+1) or ending (-1) on an edge.
func (m *Metrics) Session(delta int) {
	if m != nil {
		m.sessions.Add(float64(delta))
	}
}

// Kinds of delivery.
const (
	DeliveryPeer    = "peer"
	DeliveryChannel = "channel"
	DeliveryEvent   = "event"
)

// Deliveries counts n frames of kind queued for sockets.
func (m *Metrics) Deliveries(kind string, n int) {
	if m == nil {
		return
	}
	switch kind {
	case DeliveryPeer:
		m.delPeer.Add(float64(n))
	case DeliveryChannel:
		m.delChannel.Add(float64(n))
	default:
		m.delEvent.Add(float64(n))
	}
}

// EdgeRequest counts a request an edge received, by operation and whether
// the edge refused it at once (ResultError) or took it (ResultOK).
func (m *Metrics) EdgeRequest(op, result string) {
	if m != nil {
		m.requests.WithLabelValues("edge", op, result).Inc()
	}
}

// NATSReconnect counts a reconnection to NATS.
func (m *Metrics) NATSReconnect() {
	if m != nil {
		m.natsReconnects.Inc()
	}
}

// KVError counts a failed KV operation.
func (m *Metrics) KVError() {
	if m != nil {
		m.kvErrors.Inc()
	}
}

// SlowConsumer counts a connection closed for overflowing its queue.
func (m *Metrics) SlowConsumer() {
	if m != nil {
		m.slowConsumers.Inc()
	}
}

// Kinds of refusal, as the "kind" label of switchboard_edge_refused_total
// says them (docs/security.md).
const (
	RefusedResume       = "resume"        // a resume with a wrong or unknown session secret
	RefusedResumeFlood  = "resume_flood"  // a connection closed after repeated failed resumes
	RefusedOrigin       = "origin"        // a WebSocket handshake from an origin not allowed
	RefusedAddrLimit    = "addr_limit"    // a connection over the per-address cap
	RefusedLoginTimeout = "login_timeout" // a connection closed for not logging in in time
	RefusedFlood        = "flood"         // a connection closed for holding too much (queue, replay)
	RefusedBadFrame     = "bad_frame"     // a malformed, oversize or unknown frame
)

// Refused counts one refusal of kind.
func (m *Metrics) Refused(kind string) {
	if m != nil {
		m.refused.WithLabelValues(kind).Inc()
	}
}

// LoginFailed counts one failed login, by reason.
func (m *Metrics) LoginFailed(reason string) {
	if m != nil {
		m.loginFailures.WithLabelValues(reason).Inc()
	}
}

// ChannelShed counts a channel message refused before publishing because
// the edge was behind on its channel.
func (m *Metrics) ChannelShed() {
	if m != nil {
		m.chanOverload.WithLabelValues("shed").Inc()
	}
}

// ChannelDropped counts n channel messages lost from a channel
// subscription's full buffer.
func (m *Metrics) ChannelDropped(n int) {
	if m != nil {
		m.chanOverload.WithLabelValues("dropped").Add(float64(n))
	}
}
