package node

import "fmt"

// Alone reports whether cfg starts the embedded default with no way in for
// other processes (no NATS URL, no shared in-process server, no NATS
// listener): then no other edge can exist. Its edge stops at once rather
// than wait for clients to move to other edges, and its worker ends, at
// start, the sessions its previous run left behind. A production edge must
// do neither: other edges may hold live sessions.
func Alone(cfg Config) bool {
	return cfg.NATSURL == "" && cfg.NATSServer == nil && cfg.NATSListen == ""
}

// sayWhatStopWaitsFor logs, before the edge stops, what the stop is about to
// do with its clients, so that a stop that takes a while says why.
func (n *Node) sayWhatStopWaitsFor() {
	clients := n.Edge.Stats().Connections
	switch {
	case clients == 0:
	case n.alone:
		n.log.Info(fmt.Sprintf("stopping: closing %s (no other edge to move to)", plural(clients, "client")))
	default:
		n.log.Info(fmt.Sprintf("draining: waiting for %s to move to other edges (up to %v)", plural(clients, "client"), n.drain),
			"clients", clients, "timeout", n.drain)
	}
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
