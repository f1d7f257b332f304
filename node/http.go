package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/switchboard-io/switchboard/api"
	"github.com/switchboard-io/switchboard/edge"
	"github.com/switchboard-io/switchboard/metrics"
	"github.com/switchboard-io/switchboard/webhooks"
)

// serveAux starts the side listeners: Prometheus metrics, and health for a
// process without an edge (whose health is on its own port).
func (n *Node) serveAux(cfg Config) error {
	if cfg.MetricsListen != "" {
		mux := http.NewServeMux()
		mux.Handle("/metrics", n.Metrics.Handler())
		addr, err := n.listen(cfg.MetricsListen, mux)
		if err != nil {
			return err
		}
		n.MetricsAddr = addr
	}
	if cfg.HealthListen != "" {
		mux := http.NewServeMux()
		mux.Handle("/healthz", edge.NewHealth(n.Conn)) // fails when NATS is lost for good
		mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
			if n.Conn == nil || n.Conn.Status() != nats.CONNECTED {
				http.Error(w, "not connected to NATS", http.StatusServiceUnavailable)
				return
			}
			w.WriteHeader(http.StatusOK)
		})
		if _, err := n.listen(cfg.HealthListen, mux); err != nil {
			return err
		}
	}
	return nil
}

// serveAPI starts the server API's listener, beside the edge it sends
// through.
func (n *Node) serveAPI(cfg Config, log *slog.Logger) error {
	if cfg.APIListen == "" {
		return nil
	}
	if n.Edge == nil || cfg.Apps == nil {
		return errors.New("the server API (SB_API_LISTEN) needs an edge and configured apps")
	}
	ac := cfg.API
	ac.Edge, ac.Apps, ac.Log = n.Edge, cfg.Apps, log.With("part", "api")
	ac.UserRate = cfg.EdgeConfig.UserRate
	if ac.Webhooks == nil && n.Events != nil {
		ac.Webhooks = webhookTester{n.Events}
	}
	addr, err := n.listen(cfg.APIListen, api.New(ac).Handler())
	if err != nil {
		return fmt.Errorf("server API address %s (SB_API_LISTEN): %w", cfg.APIListen, err)
	}
	n.APIAddr = addr
	return nil
}

// webhookTester publishes the server API's webhook tests through the
// process's event writer, telling the API which apps have no webhook.
type webhookTester struct{ events *webhooks.Emitter }

func (w webhookTester) Test(ctx context.Context, appID string) (string, error) {
	id, err := w.events.Test(ctx, appID)
	if errors.Is(err, webhooks.ErrNoWebhook) || errors.Is(err, webhooks.ErrUnknownApp) {
		return "", api.ErrNoWebhooks
	}
	return id, err
}

// APIURL is the server API's base URL, or "" when it is off.
func (n *Node) APIURL() string {
	if n.APIAddr == nil {
		return ""
	}
	return "http://" + dialable(n.APIAddr)
}

// dialable is a listening address as a client on this host dials it:
// loopback for an unspecified IP.
func dialable(a net.Addr) string {
	if tcp, ok := a.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		return fmt.Sprintf("127.0.0.1:%d", tcp.Port)
	}
	return a.String()
}

// listen serves h on addr until Close, and says where.
func (n *Node) listen(addr string, h http.Handler) (net.Addr, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	n.aux = append(n.aux, hs)
	go func() {
		if err := hs.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Warn("side listener stopped", "addr", addr, "err", err)
		}
	}()
	return l.Addr(), nil
}

// natsMetrics counts reconnections of the NATS connection.
func natsMetrics(m *metrics.Metrics) nats.Option {
	return nats.ReconnectHandler(func(*nats.Conn) { m.NATSReconnect() })
}
