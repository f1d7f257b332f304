package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestMetrics_ServesWhatWasRecorded(t *testing.T) {
	m := New()
	m.Request("worker", "login", ResultOK, 2*time.Millisecond)
	m.Request("worker", "login", ResultError, time.Millisecond)
	m.Connection(1)
	m.Deliveries("channel", 3)
	m.NATSReconnect()
	m.KVError()

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`switchboard_requests_total{op="login",part="worker",result="ok"} 1`,
		`switchboard_requests_total{op="login",part="worker",result="error"} 1`,
		`switchboard_request_duration_seconds_count{op="login",part="worker"} 2`,
		`switchboard_edge_connections 1`,
		`switchboard_deliveries_total{kind="channel"} 3`,
		`switchboard_nats_reconnects_total 1`,
		`switchboard_kv_errors_total 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func TestMetrics_NilIsANoOp(t *testing.T) {
	var m *Metrics
	m.Request("edge", "login", ResultOK, time.Millisecond)
	m.Connection(1)
	m.Session(1)
	m.Deliveries("peer", 1)
	m.NATSReconnect()
	m.KVError()
	m.SlowConsumer()
}
