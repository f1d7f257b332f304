// Package node wires Switchboard's parts into a running process: an embedded
// nats-server with JetStream when no NATS URL is configured, the KV buckets,
// a worker, an edge, or any of these. cmd/edge, cmd/worker and the tests
// start Switchboard through it; it decides nothing about requests.
package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard-io/switchboard/api"
	"github.com/switchboard-io/switchboard/apps"
	"github.com/switchboard-io/switchboard/edge"
	"github.com/switchboard-io/switchboard/handlers"
	sbjs "github.com/switchboard-io/switchboard/jetstream"
	"github.com/switchboard-io/switchboard/kv"
	"github.com/switchboard-io/switchboard/metrics"
	"github.com/switchboard-io/switchboard/webhooks"
)

// Config says what to start.
type Config struct {
	// NATSURL is the NATS server or cluster to use; empty starts an embedded
	// nats-server with JetStream.
	NATSURL string
	// NATSServer, when set, is an in-process nats-server to connect to
	// (tests that run several edges on one server).
	NATSServer *server.Server
	// NATSOptions are extra client options (credentials, TLS).
	NATSOptions []nats.Option
	// DataDir is the embedded server's JetStream store.
	DataDir string
	// NATSListen, when set, makes the embedded server listen for other
	// processes on this host:port ("127.0.0.1:-1" picks a free port).
	NATSListen string
	// Memory keeps KV buckets in memory (tests, benchmarks).
	Memory bool
	// Replicas is the number of copies of each bucket.
	Replicas int

	// Worker and Edge say which parts run here.
	Worker bool
	Edge   bool
	// Listen is the edge's HTTP address; empty is DevListen for the
	// embedded default (no NATSURL) and DefaultListen otherwise.
	Listen string

	// MetricsListen serves Prometheus metrics at /metrics on this address
	// ("127.0.0.1:0" picks a free port; Node.MetricsAddr says which).
	MetricsListen string
	// HealthListen serves /healthz and /readyz on this address (workers;
	// an edge serves them on Listen).
	HealthListen string
	// DebugListen serves /debug/stats and /debug/pprof/ on this address
	// (benchmarks, profiling); off when empty. Keep it on loopback.
	DebugListen string
	// APIListen serves the server API (docs/server-api.md) on this
	// address; off when empty. It needs an edge and the apps.
	APIListen string
	// API adjusts the server API: its rate per app, its webhook tester.
	// Edge, Apps, UserRate and Log are filled in by Start.
	API api.Config

	// Demo serves the demo page at /demo/ on the edge (package demo,
	// docs/demo.md); FromEnv turns it on for the embedded default only.
	Demo bool
	// DemoApp is the app the demo page logs in to with _no_need_token;
	// empty is the development app.
	DemoApp string

	EdgeConfig   edge.Config
	WorkerConfig handlers.Config
	// Webhooks tunes the workers' webhook deliveries; zero is
	// webhooks.DefaultConfig.
	Webhooks webhooks.Config
	Apps     *apps.Registry
	Log      *slog.Logger
}

// Node is a running process's parts.
type Node struct {
	NATS   *server.Server // nil unless embedded
	Conn   *nats.Conn
	Store  *kv.Store
	Edge   *edge.Server
	Worker *handlers.Service
	// Addr is the edge's listening address.
	Addr net.Addr
	// Metrics are this process's Prometheus metrics.
	Metrics *metrics.Metrics
	// MetricsAddr is where /metrics is served (MetricsListen), or nil.
	MetricsAddr net.Addr
	// Events writes webhook events (and webhook tests, Events.Test) for
	// the configured apps; nil without apps.
	Events *webhooks.Emitter
	// deliverer delivers them, in a worker.
	deliverer *webhooks.Deliverer
	// DemoURL is the demo page's address, or empty when it is off.
	DemoURL string
	// APIAddr is where the server API is served (APIListen), or nil.
	APIAddr net.Addr

	cancel   context.CancelFunc
	serveErr chan error
	aux      []*http.Server
	// listener is the edge's, bound first so that a taken address fails
	// the start at once; serving says whether Serve took it over.
	listener net.Listener
	serving  bool
	// alone is the embedded default with no way in for other processes:
	// no other edge can exist (Alone).
	alone bool
	drain time.Duration

	closeOnce sync.Once
	closeErr  error
	log       *slog.Logger
}

// WebSocketURL is the URL clients connect to.
func (n *Node) WebSocketURL() string {
	if n.Addr == nil {
		return ""
	}
	addr := dialable(n.Addr)
	return "ws://" + addr + "/ws"
}

// NATSClientURL is the embedded server's client URL, for other processes.
func (n *Node) NATSClientURL() string {
	if n.NATS == nil {
		return ""
	}
	return n.NATS.ClientURL()
}

// Start starts what cfg asks for. Close stops it.
func Start(ctx context.Context, cfg Config) (n *Node, err error) {
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	n = &Node{log: log, serveErr: make(chan error, 1), Metrics: metrics.New()}
	cfg.NATSOptions = append([]nats.Option{natsMetrics(n.Metrics)}, cfg.NATSOptions...)
	started := n
	defer func() {
		if err != nil {
			_ = started.Close(context.Background())
		}
	}()
	n.alone = Alone(cfg)
	if cfg.Edge {
		// Bind before anything else: a taken address is the commonest
		// failure of a start, and it must show at once, not after NATS and
		// the buckets are up.
		if cfg.Listen == "" {
			cfg.Listen = defaultListen(cfg.NATSURL)
		}
		if n.listener, err = net.Listen("tcp", cfg.Listen); err != nil {
			return nil, fmt.Errorf("edge address %s (SB_LISTEN): %w", cfg.Listen, err)
		}
		n.Addr = n.listener.Addr()
		cfg.EdgeConfig.Alone = n.alone
		n.drain = cfg.EdgeConfig.DrainTimeout
		if n.drain <= 0 {
			n.drain = edge.DefaultConfig().DrainTimeout
		}
		if cfg.Demo {
			if err := n.mountDemo(&cfg); err != nil { // demo.go
				return nil, err
			}
		}
	}
	switch {
	case cfg.NATSServer != nil:
		opts := append([]nats.Option{nats.InProcessServer(cfg.NATSServer)}, cfg.NATSOptions...)
		n.Conn, err = nats.Connect("", opts...)
	case cfg.NATSURL == "":
		if n.NATS, err = embedded(cfg); err != nil {
			return nil, err
		}
		opts := append([]nats.Option{nats.InProcessServer(n.NATS)}, cfg.NATSOptions...)
		n.Conn, err = nats.Connect("", opts...)
	default:
		opts := append([]nats.Option{
			nats.Name("switchboard"),
			nats.MaxReconnects(-1),
			// On Kubernetes, NATS may come up after us: wait for it rather
			// than crash-loop.
			nats.RetryOnFailedConnect(true),
			nats.ReconnectWait(250 * time.Millisecond),
		}, cfg.NATSOptions...)
		n.Conn, err = nats.Connect(cfg.NATSURL, opts...)
	}
	if err != nil {
		return nil, fmt.Errorf("connect to NATS: %w", err)
	}
	js, err := njs.New(n.Conn)
	if err != nil {
		return nil, err
	}
	bctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := sbjs.EnsureBuckets(bctx, js, sbjs.Config{Replicas: cfg.Replicas, Memory: cfg.Memory}); err != nil {
		return nil, err
	}
	if err := sbjs.EnsureEventStream(bctx, js, sbjs.Config{Replicas: cfg.Replicas, Memory: cfg.Memory}, webhooks.Captured(cfg.Apps)...); err != nil {
		return nil, err
	}
	if n.Store, err = kv.Open(bctx, js); err != nil {
		return nil, err
	}
	if cfg.Apps != nil {
		n.Events = &webhooks.Emitter{JS: js, Apps: cfg.Apps, Log: log.With("part", "webhooks"), Metrics: n.Metrics}
	}
	runCtx, runCancel := context.WithCancel(context.Background())
	n.cancel = runCancel
	if cfg.Worker {
		registry := cfg.Apps
		if registry == nil {
			return nil, errors.New("a worker needs configured apps")
		}
		n.Worker = handlers.New(n.Store, n.Conn, registry, cfg.WorkerConfig, log.With("part", "worker"))
		n.Worker.Metrics = n.Metrics
		n.Worker.Events = n.Events
		if err := n.Worker.Serve(runCtx, n.Conn); err != nil {
			return nil, err
		}
		if err := n.startDeliveries(runCtx, js, cfg, registry, log); err != nil {
			return nil, err
		}
		if n.alone {
			// Whoever was online when this process last stopped (or died)
			// was on its edge, which is gone: end them now, before the new
			// edge takes logins, rather than let them show as online until
			// their records expire.
			// A failure costs only stale presence, not the start.
			cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			ended, err := n.Worker.EndStaleSessions(cctx)
			cancel()
			if err != nil {
				log.Warn("sessions of the last run not all ended; the rest expire by themselves", "err", err)
			} else if ended > 0 {
				log.Info("ended the sessions of the last run", "accounts", ended)
			}
		}
	}
	if cfg.Edge {
		if n.Edge, err = edge.New(n.Conn, n.Store, cfg.EdgeConfig, log.With("part", "edge")); err != nil {
			return nil, err
		}
		n.Edge.Metrics = n.Metrics
		n.serving = true
		// Not n: a failed start returns nil for it, while this still runs.
		e, l, errc := n.Edge, n.listener, n.serveErr
		go func() { errc <- e.Serve(l) }()
	}
	if err := n.serveAux(cfg); err != nil {
		return nil, err
	}
	if err := n.serveAPI(cfg, log); err != nil {
		return nil, err
	}
	if cfg.DebugListen != "" {
		h := edge.DebugHandler()
		if n.Edge != nil {
			h = n.Edge.DebugHandler()
		}
		if _, err := n.listen(cfg.DebugListen, h); err != nil {
			return nil, fmt.Errorf("debug listener: %w", err)
		}
	}
	// Make sure the server has every subscription before anyone calls.
	if err := n.Conn.FlushTimeout(5 * time.Second); err != nil {
		return nil, err
	}
	return n, nil
}

// embedded starts an in-process nats-server with JetStream.
func embedded(cfg Config) (*server.Server, error) {
	opts := &server.Options{
		ServerName: "switchboard-embedded",
		JetStream:  true,
		StoreDir:   cfg.DataDir,
		NoSigs:     true,
		DontListen: cfg.NATSListen == "",
	}
	if cfg.NATSListen != "" {
		host, port, err := net.SplitHostPort(cfg.NATSListen)
		if err != nil {
			return nil, fmt.Errorf("NATS listen address: %w", err)
		}
		opts.Host = host
		if _, err := fmt.Sscan(port, &opts.Port); err != nil {
			return nil, fmt.Errorf("NATS listen port: %w", err)
		}
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, err
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, errors.New("embedded nats-server did not start")
	}
	return ns, nil
}

// Close stops the edge, the worker and the embedded server. Later calls
// return the first call's result.
func (n *Node) Close(ctx context.Context) error {
	n.closeOnce.Do(func() { n.closeErr = n.close(ctx) })
	return n.closeErr
}

func (n *Node) close(ctx context.Context) error {
	var errs []error
	if n.Edge != nil {
		n.sayWhatStopWaitsFor()
		errs = append(errs, n.Edge.Shutdown(ctx))
		if n.serving {
			select {
			case err := <-n.serveErr:
				errs = append(errs, err)
			case <-ctx.Done():
			}
		}
	}
	if n.listener != nil && !n.serving {
		_ = n.listener.Close()
	}
	for _, hs := range n.aux {
		_ = hs.Close()
	}
	if n.cancel != nil {
		n.cancel()
	}
	if n.deliverer != nil {
		n.deliverer.Wait()
	}
	if n.Conn != nil {
		_ = n.Conn.Drain()
		n.Conn.Close()
	}
	if n.NATS != nil {
		n.NATS.Shutdown()
		n.NATS.WaitForShutdown()
	}
	return errors.Join(errs...)
}

// startDeliveries starts the webhook deliveries of a worker
// (docs/webhooks.md).
func (n *Node) startDeliveries(ctx context.Context, js njs.JetStream, cfg Config, registry *apps.Registry, log *slog.Logger) error {
	n.deliverer = &webhooks.Deliverer{JS: js, Apps: registry, Cfg: cfg.Webhooks, Log: log.With("part", "webhooks"), Metrics: n.Metrics}
	return n.deliverer.Start(ctx)
}
