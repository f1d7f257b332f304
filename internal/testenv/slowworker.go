package testenv

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard-io/switchboard/handlers"
	"github.com/switchboard-io/switchboard/kv"
	"github.com/switchboard-io/switchboard/protocol"
	"github.com/switchboard-io/switchboard/subjects"
)

// SlowWorker replaces env's workers with one that runs the same handlers
// but takes every request of the operations ops up only after delay, as a
// worker on a busy machine does: the request waits, then is handled within
// the worker's own RequestTimeout as usual. Other requests are handled at
// once. It serves requests only (no expiry or invitation watchers).
func SlowWorker(t testing.TB, env *Env, delay time.Duration, ops ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), WaitTimeout)
	defer cancel()
	for _, w := range env.Workers {
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	nc, err := nats.Connect("", nats.InProcessServer(env.NATS))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := njs.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	store, err := kv.Open(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	cfg := WorkerConfig()
	svc := handlers.New(store, nc, env.Apps, cfg, Logger(t))
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	_, err = nc.QueueSubscribe(subjects.ReqAll, subjects.Queue, func(m *nats.Msg) {
		go func() {
			var c protocol.Call
			if err := json.Unmarshal(m.Data, &c); err != nil {
				return
			}
			if slices.Contains(ops, c.Req.Op) {
				// The delay is what this worker is for, not a wait
				// for something to happen.
				select {
				case <-time.After(delay):
				case <-stop:
					return
				}
			}
			hctx, cancel := context.WithTimeout(context.Background(), cfg.RequestTimeout)
			reply, err := svc.Handle(hctx, &c)
			cancel()
			if err != nil {
				reply = &protocol.Reply{Err: protocol.AsError(err)}
			}
			data, _ := json.Marshal(reply)
			_ = m.Respond(data)
		}()
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
}
