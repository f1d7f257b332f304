package jetstream_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	sbjs "github.com/switchboard-io/switchboard/jetstream"
)

// TestEnsureBuckets_OutlastsUnansweredRequests: a JetStream that does not
// answer yet (a cluster still electing its leader, a busy server) costs
// EnsureBuckets a retry, not the start. Here JetStream is off at first and
// a subscriber swallows every API request, so that each goes unanswered; once
// two have, JetStream comes up, and EnsureBuckets must go on to create every
// bucket within its context. It once waited for the first answer until its
// context ended.
func TestEnsureBuckets_OutlastsUnansweredRequests(t *testing.T) {
	ns, err := server.NewServer(&server.Options{DontListen: true, NoSigs: true, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })

	swallow, err := nats.Connect("", nats.InProcessServer(ns))
	if err != nil {
		t.Fatal(err)
	}
	defer swallow.Close()
	asked, err := swallow.SubscribeSync("$JS.API.>")
	if err != nil {
		t.Fatal(err)
	}
	if err := swallow.Flush(); err != nil {
		t.Fatal(err)
	}

	nc, err := nats.Connect("", nats.InProcessServer(ns))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := njs.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- sbjs.EnsureBuckets(ctx, js, sbjs.Config{Memory: true}) }()

	for i := 0; i < 2; i++ {
		if _, err := asked.NextMsg(30 * time.Second); err != nil {
			t.Fatalf("request %d of EnsureBuckets never came (%v): it does not ask again after an unanswered request", i+1, err)
		}
	}
	if err := asked.Unsubscribe(); err != nil {
		t.Fatal(err)
	}
	if err := ns.EnableJetStream(&server.JetStreamConfig{StoreDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("EnsureBuckets: %v", err)
	}
	for _, name := range sbjs.All {
		if _, err := js.KeyValue(ctx, name); err != nil {
			t.Errorf("bucket %s: %v", name, err)
		}
	}
}
