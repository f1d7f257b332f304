package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Results of a webhook delivery attempt, as the "result" label says them
// (docs/webhooks.md).
const (
	WebhookDelivered = "delivered" // the receiver answered 2xx
	WebhookRefused   = "refused"   // a 4xx other than 429: given up, not retried
	WebhookFailed    = "failed"    // anything else: retried after a back-off
)

// webhookMetrics are the webhook delivery's metrics (package webhooks).
type webhookMetrics struct {
	whEvents     *prometheus.CounterVec
	whDeliveries *prometheus.CounterVec
	whRetries    prometheus.Counter
	whLag        prometheus.Histogram
	whPending    *prometheus.GaugeVec
}

func newWebhookMetrics(reg *prometheus.Registry) webhookMetrics {
	w := webhookMetrics{
		whEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_webhook_events_total",
			Help: "Webhook events written to the event stream, by result (ok, error: lost).",
		}, []string{"result"}),
		whDeliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_webhook_deliveries_total",
			Help: "Webhook delivery attempts, by result (delivered, refused, failed).",
		}, []string{"result"}),
		whRetries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchboard_webhook_retries_total",
			Help: "Webhook deliveries scheduled again after a failed attempt.",
		}),
		whLag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "switchboard_webhook_lag_seconds",
			Help:    "Time from an event to the receiver's 2xx answer.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600},
		}),
		whPending: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "switchboard_webhook_pending",
			Help: "Events of an app not yet delivered, as of the last delivery attempt, by app.",
		}, []string{"app"}),
	}
	reg.MustRegister(w.whEvents, w.whDeliveries, w.whRetries, w.whLag, w.whPending)
	return w
}

// WebhookEvent counts an event written to the event stream (ok) or lost
// because the stream refused it (ResultError).
func (m *Metrics) WebhookEvent(result string) {
	if m != nil {
		m.whEvents.WithLabelValues(result).Inc()
	}
}

// WebhookDelivery counts one delivery attempt; lag, for a delivered one, is
// the time since the event happened.
func (m *Metrics) WebhookDelivery(result string, lag time.Duration) {
	if m == nil {
		return
	}
	m.whDeliveries.WithLabelValues(result).Inc()
	switch result {
	case WebhookDelivered:
		m.whLag.Observe(lag.Seconds())
	case WebhookFailed:
		m.whRetries.Inc()
	}
}

// WebhookPending sets how many events of app wait for delivery.
func (m *Metrics) WebhookPending(app string, n uint64) {
	if m != nil {
		m.whPending.WithLabelValues(app).Set(float64(n))
	}
}
