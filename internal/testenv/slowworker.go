package testenv

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/switchboard-io/switchboard/handlers"
	"github.com/switchboard-io/switchboard/kv"
	"github.com/switchboard-io/switchboard/protocol"
	"github.com/switchboard-io/switchboard/subjects"
)

// Hook decides what a HookedWorker does with one call: handle runs the real
// handlers and returns their reply; the hook returns the reply to send, or
// nil to send none (a reply lost on its way).
type Hook func(c *protocol.Call, handle func() *protocol.Reply) *protocol.Reply

// HookedWorker replaces env's workers with one that runs the same handlers
// through hook: one call at a time in the order they come, or each on a
// goroutine of its own when concurrent. It serves requests only (no expiry
// or invitation watchers).
func HookedWorker(t testing.TB, env *Env, concurrent bool, hook Hook) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), WaitTimeout)
	defer cancel()
	for _, w := range env.Workers {
		if err := w.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	nc, js := JetStream(t, env.NATS)
	store, err := kv.Open(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	cfg := WorkerConfig()
	svc := handlers.New(store, nc, env.Apps, cfg, Logger(t))
	serve := func(m *nats.Msg) {
		var c protocol.Call
		var reply *protocol.Reply
		if err := json.Unmarshal(m.Data, &c); err != nil {
			reply = &protocol.Reply{Err: protocol.AsError(err)}
		} else {
			reply = hook(&c, func() *protocol.Reply {
				hctx, cancel := context.WithTimeout(context.Background(), cfg.RequestTimeout)
				defer cancel()
				r, err := svc.Handle(hctx, &c)
				if err != nil {
					r = &protocol.Reply{Err: protocol.AsError(err)}
				}
				return r
			})
		}
		if reply == nil {
			return
		}
		data, _ := json.Marshal(reply)
		_ = m.Respond(data)
	}
	_, err = nc.QueueSubscribe(subjects.ReqAll, subjects.Queue, func(m *nats.Msg) {
		if concurrent {
			go serve(m)
		} else {
			serve(m)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
}

// SlowWorker replaces env's workers with one that runs the same handlers
// but takes every request of the operations ops up only after delay, as a
// worker on a busy machine does: the request waits, then is handled within
// the worker's own RequestTimeout as usual. Other requests are handled at
// once.
func SlowWorker(t testing.TB, env *Env, delay time.Duration, ops ...string) {
	t.Helper()
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	HookedWorker(t, env, true, func(c *protocol.Call, handle func() *protocol.Reply) *protocol.Reply {
		if slices.Contains(ops, c.Req.Op) {
			// The delay is what this worker is for, not a wait for
			// something to happen.
			select {
			case <-time.After(delay):
			case <-stop:
				return nil
			}
		}
		return handle()
	})
}
