package edge

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// startNATS runs a nats-server on port (-1: any free port).
func startNATS(t *testing.T, port int) *server.Server {
	t.Helper()
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(ns.Shutdown)
	return ns
}

// probeUntil polls url until it answers want, failing after 20 s.
func probeUntil(t *testing.T, url string, want int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	got := 0
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			got = resp.StatusCode
			resp.Body.Close()
			if got == want {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s answered %d, want %d within 20 s", url, got, want)
}

func TestHealth_FailsWhenNATSIsDownTooLongAndRecovers(t *testing.T) {
	ns := startNATS(t, -1)
	port := ns.Addr().(*net.TCPAddr).Port
	nc, err := nats.Connect(ns.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	h := NewHealth(nc)
	h.MaxDisconnected = 200 * time.Millisecond
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	probeUntil(t, srv.URL, http.StatusOK)
	ns.Shutdown()
	ns.WaitForShutdown()
	// The client keeps reconnecting: the connection is not closed, only
	// down, and the probe fails once it has been down for long enough.
	probeUntil(t, srv.URL, http.StatusServiceUnavailable)
	if nc.IsClosed() {
		t.Fatal("the connection closed; this test is about one that is only down")
	}
	startNATS(t, port)
	probeUntil(t, srv.URL, http.StatusOK)
}

func TestHealth_AShortOutageIsHealthy(t *testing.T) {
	ns := startNATS(t, -1)
	nc, err := nats.Connect(ns.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	h := NewHealth(nc) // 30 s
	ns.Shutdown()
	ns.WaitForShutdown()
	deadline := time.Now().Add(20 * time.Second)
	for nc.Status() == nats.CONNECTED && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if nc.Status() == nats.CONNECTED {
		t.Fatal("the client did not notice the server stopped")
	}
	for i := 0; i < 3; i++ {
		if err := h.Check(); err != nil {
			t.Fatalf("probe %d of a fresh outage: %v", i, err)
		}
	}
}

func TestHealth_FailsAtOnceWhenTheConnectionIsClosed(t *testing.T) {
	ns := startNATS(t, -1)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	h := NewHealth(nc)
	if err := h.Check(); err != nil {
		t.Fatalf("connected: %v", err)
	}
	nc.Close()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("closed connection: /healthz = %d, want 503", rec.Code)
	}
}
