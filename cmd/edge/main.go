// Command edge runs a Switchboard edge. With NATS_URL set it is one edge
// against that NATS; without, it is the whole of Switchboard in one process:
// an embedded nats-server with JetStream, a worker and an edge.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/switchboard-io/switchboard/apps"
	"github.com/switchboard-io/switchboard/node"
	sbotel "github.com/switchboard-io/switchboard/otel"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(log); err != nil {
		log.Error("edge stopped", "err", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	shutdownTracing, err := sbotel.Setup(ctx, "switchboard-edge")
	if err != nil {
		return err
	}
	defer func() { _ = shutdownTracing(context.Background()) }()

	cfg, err := node.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	cfg.Log = log
	cfg.Edge = true
	embedded := cfg.NATSURL == ""
	if embedded {
		cfg.Worker = true
		if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
			return err
		}
	}
	n, err := node.Start(ctx, cfg)
	if err != nil {
		return err
	}
	if embedded {
		fmt.Printf("Switchboard is running (embedded NATS, data in %s)\n", cfg.DataDir)
		if _, ok := cfg.Apps.Lookup(apps.DevAppID); ok {
			fmt.Printf("  development app ID: %s (accepts _no_need_token)\n", apps.DevAppID)
		}
		if u := n.NATSClientURL(); u != "" && cfg.NATSListen != "" {
			fmt.Printf("  NATS for other processes: %s\n", u)
		}
	} else {
		fmt.Printf("Switchboard edge %s is running against %s\n", n.Edge.ID(), cfg.NATSURL)
	}
	fmt.Printf("  WebSocket URL: %s\n", n.WebSocketURL())
	<-ctx.Done()
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return n.Close(sctx)
}
