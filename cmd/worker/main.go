// Command worker runs a Switchboard worker against the NATS cluster named by
// NATS_URL. Workers keep no state of their own; run as many as the load needs.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/switchboard-io/switchboard/node"
	sbotel "github.com/switchboard-io/switchboard/otel"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(log); err != nil {
		log.Error("worker stopped", "err", err)
		os.Exit(1)
	}
}

func run(log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	shutdownTracing, err := sbotel.Setup(ctx, "switchboard-worker")
	if err != nil {
		return err
	}
	defer func() { _ = shutdownTracing(context.Background()) }()

	cfg, err := node.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	if cfg.NATSURL == "" {
		return errors.New("NATS_URL is not set: a worker runs against an external NATS (for everything in one process, run cmd/edge without NATS_URL)")
	}
	if cfg.Apps.Len() == 0 {
		return errors.New("no apps configured: set SB_APPS_FILE or SB_APP_ID and SB_APP_CERTIFICATE")
	}
	cfg.Log = log
	cfg.Worker = true
	n, err := node.Start(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Println("Switchboard worker running")
	log.Info("worker running", "nats", cfg.NATSURL)
	<-ctx.Done()
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return n.Close(sctx)
}
