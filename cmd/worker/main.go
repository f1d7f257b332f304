// Command worker runs a Switchboard worker against the NATS cluster named by
// NATS_URL. Workers keep no state of their own; run as many as the load needs.
package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/switchboard-io/switchboard/node"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	err := node.Run("switchboard-worker", log, func(cfg *node.Config) error {
		if cfg.NATSURL == "" {
			return errors.New("NATS_URL is not set: a worker runs against an external NATS (for everything in one process, run cmd/edge without NATS_URL)")
		}
		if cfg.Apps.Len() == 0 {
			return errors.New("no apps configured: set SB_APPS_FILE or SB_APP_ID and SB_APP_CERTIFICATE")
		}
		cfg.Worker = true
		return nil
	}, func(_ *node.Node, cfg node.Config) {
		fmt.Println("Switchboard worker running")
		log.Info("worker running", "nats", cfg.NATSURL)
	})
	if err != nil {
		log.Error("worker failed", "err", err)
		os.Exit(1)
	}
}
