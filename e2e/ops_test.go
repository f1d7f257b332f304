package e2e_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/node"
	"github.com/switchboard-io/switchboard/protocol"
)

func scrape(t *testing.T, n *node.Node) string {
	t.Helper()
	rec := httptest.NewRecorder()
	n.Metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestMetrics_CountWhatUsersDo(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 0, "bob")
	alice.MessageInstantSend("bob", 0, "counted", "m1")
	bob.Wait(t, protocol.EvMessageInstantReceive)
	alice.Wait(t, protocol.EvMessageSendSuccess)

	edge := scrape(t, env.Edges[0])
	for _, want := range []string{
		"switchboard_edge_connections 2",
		"switchboard_edge_sessions 2",
		`switchboard_deliveries_total{kind="peer"} 1`,
		`switchboard_requests_total{op="messageInstantSend",part="edge",result="ok"} 1`,
	} {
		if !strings.Contains(edge, want) {
			t.Errorf("edge metrics lack %q", want)
		}
	}
	worker := scrape(t, env.Workers[0])
	if !strings.Contains(worker, `switchboard_requests_total{op="login",part="worker",result="ok"} 2`) {
		t.Errorf("worker metrics lack the two logins:\n%s", grep(worker, "switchboard_requests_total"))
	}
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestHealth_EdgeAndWorkerEndpoints(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	base := strings.TrimSuffix(strings.Replace(env.URL(0), "ws://", "http://", 1), "/ws")
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(base + path)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("edge %s: %v %v", path, err, resp)
		}
		resp.Body.Close()
	}

	health, metricsPort := testenv.FreePort(t), testenv.FreePort(t)
	w, err := node.Start(context.Background(), node.Config{
		NATSServer: env.NATS, Memory: true, Worker: true, Apps: env.Apps,
		WorkerConfig: testenv.WorkerConfig(), Log: testenv.Logger(t),
		HealthListen:  fmt.Sprintf("127.0.0.1:%d", health),
		MetricsListen: fmt.Sprintf("127.0.0.1:%d", metricsPort),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = w.Close(ctx)
	})
	for _, url := range []string{
		fmt.Sprintf("http://127.0.0.1:%d/healthz", health),
		fmt.Sprintf("http://127.0.0.1:%d/readyz", health),
		fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort),
	} {
		resp, err := http.Get(url)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("worker %s: %v %v", url, err, resp)
		}
		resp.Body.Close()
	}
}
