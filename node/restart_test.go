package node_test

import (
	"context"
	"net"
	"slices"
	"strings"
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

// TestStart_ATakenAuxiliaryAddressFailsTheStartCleanly: a debug or metrics
// address another process holds is a failed start that names it, after the
// edge already serves its own address. The process lives on to say so (the
// edge's serving goroutine once read the node Start had just set to nil,
// and the whole process died of a nil pointer), and the edge's address is
// free again.
func TestStart_ATakenAuxiliaryAddressFailsTheStartCleanly(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	reg, err := apps.NewRegistry(testenv.App)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		set  func(*node.Config)
		says string
	}{
		{"debug", func(c *node.Config) { c.DebugListen = taken.Addr().String() }, "debug listener"},
		{"metrics", func(c *node.Config) { c.MetricsListen = taken.Addr().String() }, taken.Addr().String()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			free, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := free.Addr().String()
			free.Close()
			cfg := node.Config{
				DataDir: t.TempDir(), Memory: true, Worker: true, Edge: true, Listen: addr, Apps: reg,
				EdgeConfig: testenv.EdgeConfig(), WorkerConfig: handlers.DefaultConfig(),
				Log: testenv.Logger(t),
			}
			tc.set(&cfg)
			n, err := node.Start(context.Background(), cfg)
			if err == nil {
				stop(t, n)
				t.Fatal("started on a taken address")
			}
			if !strings.Contains(err.Error(), tc.says) {
				t.Errorf("error %q, want one naming %s", err, tc.says)
			}
			// The edge's own address is let go of with the failed start.
			again, err := net.Listen("tcp", addr)
			if err != nil {
				t.Fatalf("the edge's address %s is still held: %v", addr, err)
			}
			again.Close()
		})
	}
}
