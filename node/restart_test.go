package node_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/switchboard-io/switchboard/apps"
	"github.com/switchboard-io/switchboard/handlers"
	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/node"
	"github.com/switchboard-io/switchboard/protocol"
)

// startEmbedded starts the embedded default (NATS, worker and edge in one
// process, nothing else can reach its NATS) with its store in dir, and
// production session settings.
func startEmbedded(t *testing.T, dir string) *node.Node {
	t.Helper()
	reg, err := apps.NewRegistry(testenv.App)
	if err != nil {
		t.Fatal(err)
	}
	cfg := node.Config{
		DataDir: dir, Worker: true, Edge: true, Listen: "127.0.0.1:0", Apps: reg,
		EdgeConfig: testenv.EdgeConfig(), WorkerConfig: handlers.DefaultConfig(),
		Log: testenv.Logger(t),
	}
	if !node.Alone(cfg) {
		t.Fatal("the embedded default is not alone")
	}
	n, err := node.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(t, n) })
	return n
}

func stop(t *testing.T, n *node.Node) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := n.Close(ctx); err != nil {
		t.Errorf("stop: %v", err)
	}
}

// TestEmbeddedDefault_RestartEndsTheLastRunsSessions: the embedded default
// stops with alice and bob online, alice in a channel with bob watching it,
// and starts again on the same (file-backed) store. At once, both are
// offline and the channel is empty: the sessions its last run left were
// ended at start, as expired sessions are, not left to expire a session TTL
// and a _conn_timeout later.
func TestEmbeddedDefault_RestartEndsTheLastRunsSessions(t *testing.T) {
	dir := t.TempDir()
	n := startEmbedded(t, dir)
	alice := testenv.Dial(t, n.WebSocketURL())
	alice.Login("alice")
	alice.Send(protocol.Request{Op: protocol.OpChannelJoin, ChannelID: "room"})
	alice.Expect(protocol.EvChannelJoined)
	bob := testenv.Dial(t, n.WebSocketURL())
	bob.Login("bob")
	stop(t, n)

	n = startEmbedded(t, dir)
	carol := testenv.Dial(t, n.WebSocketURL())
	carol.Login("carol")
	for _, who := range []string{"alice", "bob"} {
		carol.Send(protocol.Request{Op: protocol.OpQueryUserStatus, Account: who})
		if ev := carol.Expect(protocol.EvQueryUserStatusResult); ev.Status != "0" {
			t.Errorf("%s after the restart: status %q, want 0 (offline)", who, ev.Status)
		}
	}
	carol.Send(protocol.Request{Op: protocol.OpChannelQueryUserNum, ChannelID: "room"})
	if ev := carol.Expect(protocol.EvChannelQueryUserNumResult); ev.Num != 0 {
		t.Errorf("room after the restart: %d members, want 0", ev.Num)
	}
	carol.Send(protocol.Request{Op: protocol.OpChannelJoin, ChannelID: "room"})
	if list := carol.Expect(protocol.EvChannelUserList); !slices.Equal(list.Accounts, []string{"carol"}) {
		t.Errorf("room after the restart: members %v, want [carol]", list.Accounts)
	}
}
