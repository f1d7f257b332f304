// Command edge runs a Switchboard edge. With NATS_URL set it is one edge
// against that NATS; without, it is the whole of Switchboard in one process:
// an embedded nats-server with JetStream, a worker and an edge.
package main

import (
	"fmt"
	"log/slog"
	"net"
	"os"

	"github.com/switchboard-io/switchboard/apps"
	"github.com/switchboard-io/switchboard/node"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	err := node.Run("switchboard-edge", log, func(cfg *node.Config) error {
		cfg.Edge = true
		if cfg.NATSURL == "" {
			cfg.Worker = true
			return os.MkdirAll(cfg.DataDir, 0o755)
		}
		return nil
	}, func(n *node.Node, cfg node.Config) {
		if cfg.NATSURL == "" {
			fmt.Printf("Switchboard is running (embedded NATS, data in %s)\n", cfg.DataDir)
			if _, ok := cfg.Apps.Lookup(apps.DevAppID); ok {
				fmt.Printf("  development app ID: %s (accepts _no_need_token)\n", apps.DevAppID)
				if tcp, ok := n.Addr.(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
					fmt.Printf("  warning: listening on %s, reachable from other hosts, where anyone can log in as anyone\n", n.Addr)
				}
			}
			if u := n.NATSClientURL(); u != "" && cfg.NATSListen != "" {
				fmt.Printf("  NATS for other processes: %s\n", u)
			}
		} else {
			fmt.Printf("Switchboard edge %s is running against %s\n", n.Edge.ID(), cfg.NATSURL)
		}
		fmt.Printf("  WebSocket URL: %s\n", n.WebSocketURL())
		if n.DemoURL != "" {
			fmt.Printf("  demo page: %s (open it in two windows; SB_DEMO=false turns it off)\n", n.DemoURL)
		}
		if u := n.APIURL(); u != "" {
			fmt.Printf("  server API: %s/api/v1/apps/<app ID>/… (docs/server-api.md)\n", u)
			if dev, ok := cfg.Apps.Lookup(apps.DevAppID); ok && dev.APISecret == apps.DevAPISecret {
				fmt.Printf("    try: curl -H 'Authorization: Bearer %s' -d '{\"accounts\":[\"alice\"]}' %s/api/v1/apps/%s/online\n", apps.DevAPISecret, u, apps.DevAppID)
				if tcp, ok := n.APIAddr.(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
					fmt.Printf("  warning: the server API listens on %s, reachable from other hosts, with the development app's public secret\n", n.APIAddr)
				}
			}
		}
	})
	if err != nil {
		log.Error("edge failed", "err", err)
		os.Exit(1)
	}
}
