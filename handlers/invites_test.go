package handlers

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	sbjs "github.com/switchboard-io/switchboard/jetstream"
	"github.com/switchboard-io/switchboard/kv"
	"github.com/switchboard-io/switchboard/protocol"
	"github.com/switchboard-io/switchboard/subjects"
)

// newTestService runs a Service on a fresh embedded JetStream, without
// Serve: no worker watches the timers, so tests drive them by hand. It
// returns a connection on which to watch what the service publishes.
func newTestService(t *testing.T, cfg Config) (*Service, *nats.Conn) {
	t.Helper()
	ns, err := server.NewServer(&server.Options{JetStream: true, StoreDir: t.TempDir(), DontListen: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	nc, err := nats.Connect("", nats.InProcessServer(ns))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := njs.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := sbjs.EnsureBuckets(ctx, js, sbjs.Config{Memory: true}); err != nil {
		t.Fatal(err)
	}
	store, err := kv.Open(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	return New(store, nc, nil, cfg, nil), nc
}

// events collects what is published to subject. The service publishes on
// nc too, so after a flush everything it published before is queued on the
// subscription: the returned function reads exactly that.
func events(t *testing.T, nc *nats.Conn, subject string) func() []protocol.Event {
	t.Helper()
	sub, err := nc.SubscribeSync(subject)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	var got []protocol.Event
	return func() []protocol.Event {
		t.Helper()
		if err := nc.Flush(); err != nil {
			t.Fatal(err)
		}
		for {
			if n, _, _ := sub.Pending(); n == 0 {
				return got
			}
			m, err := sub.NextMsg(time.Second)
			if err != nil {
				t.Fatal(err)
			}
			var ev protocol.Event
			if err := json.Unmarshal(m.Data, &ev); err != nil {
				t.Fatal(err)
			}
			got = append(got, ev)
		}
	}
}

func inviteCall(caller, callee, channel string) *protocol.Call {
	return &protocol.Call{App: "app", Account: caller, Session: "sid-" + caller, Edge: "e",
		Req: protocol.Request{Op: protocol.OpChannelInviteUser2, ChannelID: channel, Account: callee}}
}

func TestInviteTimerFired_OneOfManyWorkersActs(t *testing.T) {
	s, nc := newTestService(t, DefaultConfig())
	seen := events(t, nc, subjects.User("app", "alice"))
	ctx := context.Background()
	if _, err := s.Handle(ctx, inviteCall("alice", "bob", "c")); err != nil {
		t.Fatal(err)
	}
	k := kv.InviteKey{App: "app", Caller: "alice", Callee: "bob", Channel: "c"}
	inv, err := s.Store.Invite(ctx, k)
	if err != nil || inv.State != kv.InviteWaiting {
		t.Fatalf("invitation = %+v, %v; want waiting", inv, err)
	}
	// A stale timer (of a phase that is over) does nothing.
	s.inviteTimerFired(k, "0000000000000000")
	if len(seen()) != 0 {
		t.Fatal("a stale timer told the caller")
	}
	// Every worker sees the expiry at once; one of them acts.
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() { defer wg.Done(); s.inviteTimerFired(k, inv.Timer) }()
	}
	wg.Wait()
	got := seen()
	if len(got) != 1 || got[0].Ev != protocol.EvInviteFailed || got[0].Ecode != protocol.InvitePeerOffline {
		t.Fatalf("the caller was told %+v; want one onInviteFailed(703)", got)
	}
	if _, err := s.Store.Invite(ctx, k); err != kv.ErrNotFound {
		t.Fatalf("the expired invitation is still there: %v", err)
	}
	if refs, _ := s.Store.PendingInvites(ctx, "app", "bob"); len(refs) != 0 {
		t.Fatalf("the callee's index still holds %+v", refs)
	}
}

func TestInvite_ReplacesOneWhoseTimerWasMissed(t *testing.T) {
	s, nc := newTestService(t, DefaultConfig())
	seen := events(t, nc, subjects.User("app", "alice"))
	ctx := context.Background()
	if _, err := s.Handle(ctx, inviteCall("alice", "bob", "c")); err != nil {
		t.Fatal(err)
	}
	_, err := s.Handle(ctx, inviteCall("alice", "bob", "c"))
	if e := protocol.AsError(err); e.Code != protocol.InviteReinvite {
		t.Fatalf("inviting again at once: %v, want 701", err)
	}
	// Long past the first invitation's deadline, with its timer never
	// handled (every worker was down): the new invitation takes its place,
	// and the first one's caller hears of its end first.
	s.Now = func() time.Time { return time.Now().Add(DefaultInviteOfflineWait + time.Minute) }
	if _, err := s.Handle(ctx, inviteCall("alice", "bob", "c")); err != nil {
		t.Fatalf("inviting after a missed timer: %v", err)
	}
	got := seen()
	if len(got) != 1 || got[0].Ev != protocol.EvInviteFailed || got[0].Ecode != protocol.InvitePeerOffline {
		t.Fatalf("the caller was told %+v; want one onInviteFailed(703) for the missed invitation", got)
	}
	refs, err := s.Store.PendingInvites(ctx, "app", "bob")
	if err != nil || len(refs) != 1 {
		t.Fatalf("the callee's index = %+v, %v; want the new invitation", refs, err)
	}
}

func TestInviteExtra(t *testing.T) {
	tests := []struct {
		extra         string
		requireOnline bool
		ok            bool
	}{
		{"", false, true},
		{"{}", false, true},
		{`{"_require_peer_online":1}`, true, true},
		{`{"_require_peer_online": "1" }`, true, true},
		{`{"_require_peer_online":true}`, true, true},
		{`{"_require_peer_online":0}`, false, true},
		{`{"_require_peer_online":"yes"}`, false, true},
		{`[1,2]`, false, true},
		{`"just a string"`, false, true},
		{`42`, false, true},
		{`{"a":`, false, false},
		{`not json`, false, false},
	}
	for _, tt := range tests {
		got, err := inviteExtra(tt.extra)
		if (err == nil) != tt.ok || got != tt.requireOnline {
			t.Errorf("inviteExtra(%q) = %v, %v; want %v, ok=%v", tt.extra, got, err, tt.requireOnline, tt.ok)
		}
	}
}
