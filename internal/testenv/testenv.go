// Package testenv starts Switchboard for tests: one embedded nats-server with
// JetStream (in memory), and any number of workers and edges on it, each on
// its own NATS connection as separate processes would be. Everything stops
// when the test ends.
package testenv

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard-io/switchboard/apps"
	"github.com/switchboard-io/switchboard/edge"
	"github.com/switchboard-io/switchboard/handlers"
	"github.com/switchboard-io/switchboard/node"
)

// App is the app every test environment configures: it has a certificate,
// and accepts _no_need_token too.
var App = apps.App{ID: "testapp", Certificate: "0123456789abcdef0123456789abcdef", AllowNoToken: true, APISecret: "testapp-api-secret"}

// StrictApp refuses _no_need_token.
var StrictApp = apps.App{ID: "strictapp", Certificate: "fedcba9876543210fedcba9876543210"}

// Options shape an environment.
type Options struct {
	Edges   int // default 1
	Workers int // default 1
	// Edge and Worker adjust the default test configuration of each part.
	Edge   func(*edge.Config)
	Worker func(*handlers.Config)
	// Metrics serves each edge's Prometheus metrics on a loopback port of
	// its own (Env.MetricsURL).
	Metrics bool
	// API serves each edge's server API on a loopback port of its own
	// (Env.APIURL); APIConfig adjusts it.
	API       bool
	APIConfig func(*node.Config)
	// Apps are configured beside App, StrictApp and the development app.
	Apps []apps.App
}

// StartNATS runs an in-process nats-server with JetStream (no listener),
// shut down when the test ends.
func StartNATS(t testing.TB) *server.Server {
	t.Helper()
	ns, err := server.NewServer(&server.Options{JetStream: true, StoreDir: t.TempDir(), DontListen: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	return ns
}

// JetStream connects to ns in process, for a test that reads or writes
// JetStream itself; the connection closes when the test ends.
func JetStream(t testing.TB, ns *server.Server) (*nats.Conn, njs.JetStream) {
	t.Helper()
	nc, err := nats.Connect("", nats.InProcessServer(ns))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := njs.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

// Env is a running Switchboard.
type Env struct {
	NATS    *server.Server
	Edges   []*node.Node
	Workers []*node.Node
	Apps    *apps.Registry
}

// APIURL is the server API's base URL on edge i (Options.API).
func (e *Env) APIURL(i int) string { return e.Edges[i].APIURL() }

// URL is the WebSocket URL of edge i.
func (e *Env) URL(i int) string { return e.Edges[i].WebSocketURL() }

// EdgeConfig is the edge configuration tests start from: short timeouts so
// that expiry and reconnection tests run in seconds. MembershipTimeout keeps
// its production value: a join or login on a busy test machine takes as long
// as it takes, as it may in production.
func EdgeConfig() edge.Config {
	c := edge.DefaultConfig()
	c.Ping = 2 * time.Second
	c.RequestTimeout = 3 * time.Second
	c.MessageTimeout = 3 * time.Second
	c.SessionTTL = 15 * time.Second
	return c
}

// WorkerConfig is the worker configuration tests start from.
func WorkerConfig() handlers.Config {
	c := handlers.DefaultConfig()
	c.SessionTTL = 15 * time.Second
	// RequestTimeout keeps its production value, no shorter than the
	// edges' MembershipTimeout: a worker that took a join must not give it
	// up while its edge still waits for it.
	// Invitations: short enough that timeout tests run in seconds, long
	// enough that a call answered at once never races its timer.
	c.InviteOfflineWait = 3 * time.Second
	c.InviteRingTimeout = 10 * time.Second
	return c
}

// Start runs an environment for the rest of the test.
func Start(t testing.TB, o Options) *Env {
	t.Helper()
	if o.Edges == 0 {
		o.Edges = 1
	}
	if o.Workers == 0 {
		o.Workers = 1
	}
	ns := StartNATS(t)

	// The embedded default's switchboard-dev too, so that tests can replay
	// what the docs show a `make run` session doing (e2e/protocol_doc_test.go).
	reg, err := apps.NewRegistry(append([]apps.App{App, StrictApp, apps.DevApp()}, o.Apps...)...)
	if err != nil {
		t.Fatal(err)
	}
	env := &Env{NATS: ns, Apps: reg}
	log := Logger(t)
	for i := 0; i < o.Workers; i++ {
		wc := WorkerConfig()
		if o.Worker != nil {
			o.Worker(&wc)
		}
		env.Workers = append(env.Workers, start(t, node.Config{
			NATSServer: ns, Memory: true, Worker: true, WorkerConfig: wc, Apps: reg, Log: log,
		}))
	}
	for i := 0; i < o.Edges; i++ {
		ec := EdgeConfig()
		if o.Edge != nil {
			o.Edge(&ec)
		}
		nc := node.Config{
			NATSServer: ns, Memory: true, Edge: true, Listen: "127.0.0.1:0", EdgeConfig: ec, Log: log,
		}
		if o.Metrics {
			nc.MetricsListen = "127.0.0.1:0"
		}
		if o.API {
			nc.APIListen, nc.Apps = "127.0.0.1:0", reg
			if o.APIConfig != nil {
				o.APIConfig(&nc)
			}
		}
		env.Edges = append(env.Edges, start(t, nc))
	}
	return env
}

func start(t testing.TB, cfg node.Config) *node.Node {
	t.Helper()
	n, err := node.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = n.Close(ctx)
	})
	return n
}

// Logger logs to the test output when SB_TEST_LOG is set, and nowhere
// otherwise.
func Logger(t testing.TB) *slog.Logger {
	if os.Getenv("SB_TEST_LOG") == "" {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
