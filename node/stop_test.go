package node_test

import (
	"context"
	"testing"
	"time"

	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/node"
	"github.com/switchboard-io/switchboard/protocol"
)

// TestStop_SaysWhatItWaitsFor: an edge among others (here, on a shared
// NATS) that stops with a client on it asks the client to move and waits
// for it, and says so while it waits: how many clients, and for how long
// at most.
func TestStop_SaysWhatItWaitsFor(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	logs := newLogLines()
	n, err := node.Start(context.Background(), node.Config{
		NATSServer: env.NATS, Memory: true, Edge: true, Listen: "127.0.0.1:0",
		EdgeConfig: testenv.EdgeConfig(), Log: logs.logger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	alice := testenv.Dial(t, n.WebSocketURL())
	alice.Login("alice")

	closed := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		closed <- n.Close(ctx)
	}()
	logs.wait(t, "draining: waiting for 1 client to move to other edges (up to 20s)", testenv.WaitTimeout)
	alice.Expect(protocol.EvMove)
	// The client goes (to move elsewhere): the stop need not wait longer.
	_ = alice.WS.Close()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("stop: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("the edge did not stop")
	}
}
