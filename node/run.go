package node

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	sbotel "github.com/switchboard-io/switchboard/otel"
)

// ShutdownTimeout bounds a clean stop (an edge's drain included).
const ShutdownTimeout = 30 * time.Second

// Run is a binary's life: it sets tracing up as service, reads the
// configuration from the environment, lets prepare choose the parts, starts
// them, calls started, and stops cleanly on SIGINT or SIGTERM.
func Run(service string, log *slog.Logger, prepare func(*Config) error, started func(*Node, Config)) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	shutdownTracing, err := sbotel.Setup(ctx, service)
	if err != nil {
		return err
	}
	defer func() { _ = shutdownTracing(context.Background()) }()

	cfg, err := FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	cfg.Log = log
	if err := prepare(&cfg); err != nil {
		return err
	}
	n, err := Start(ctx, cfg)
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	started(n, cfg)
	<-ctx.Done()
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	return n.Close(sctx)
}
