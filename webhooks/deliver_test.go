package webhooks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard-io/switchboard/apps"
	"github.com/switchboard-io/switchboard/internal/testenv"
	sbjs "github.com/switchboard-io/switchboard/jetstream"
	"github.com/switchboard-io/switchboard/metrics"
	"github.com/switchboard-io/switchboard/webhooks"
)

const (
	secret = "whsec-test-0123456789abcdef"
	// wait is how long a test waits for a delivery: generous, for a busy
	// machine.
	wait = 30 * time.Second
)

// delivery is one POST a receiver got.
type delivery struct {
	ev     webhooks.Event
	body   []byte
	sig    string
	idHdr  string
	status int // what the receiver answered; 0 for no answer
	at     time.Time
}

// receiver is a webhook receiver: answer decides each answer from the
// event and how many POSTs of it came before (0 for the first).
type receiver struct {
	*httptest.Server
	mu     sync.Mutex
	got    []delivery
	tries  map[string]int
	notify chan struct{}
	answer func(w http.ResponseWriter, r *http.Request, ev webhooks.Event, try int) int
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{tries: map[string]int{}, notify: make(chan struct{}, 1)}
	rc.answer = func(http.ResponseWriter, *http.Request, webhooks.Event, int) int { return http.StatusOK }
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ev webhooks.Event
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Errorf("receiver: body is not an event: %q", body)
		}
		rc.mu.Lock()
		try := rc.tries[ev.ID]
		rc.tries[ev.ID]++
		answer := rc.answer
		rc.mu.Unlock()
		status := answer(w, r, ev, try)
		if status != 0 {
			w.WriteHeader(status)
		}
		rc.mu.Lock()
		rc.got = append(rc.got, delivery{ev: ev, body: body, sig: r.Header.Get(webhooks.SignatureHeader),
			idHdr: r.Header.Get(webhooks.IDHeader), status: status, at: time.Now()})
		rc.mu.Unlock()
		select {
		case rc.notify <- struct{}{}:
		default:
		}
	}))
	t.Cleanup(rc.Close)
	return rc
}

// waitFor waits until cond holds of what the receiver got.
func (rc *receiver) waitFor(t *testing.T, what string, cond func([]delivery) bool) []delivery {
	t.Helper()
	deadline := time.After(wait)
	for {
		rc.mu.Lock()
		got := append([]delivery(nil), rc.got...)
		rc.mu.Unlock()
		if cond(got) {
			return got
		}
		select {
		case <-rc.notify:
		case <-deadline:
			var seen []string
			for _, d := range got {
				seen = append(seen, fmt.Sprintf("%s/%s/%s/%d→%d", d.ev.Type, d.ev.Account, d.ev.Channel, d.ev.Code, d.status))
			}
			t.Fatalf("receiver: no %s within %v; got %d deliveries: %s", what, wait, len(got), strings.Join(seen, " "))
		}
	}
}

// delivered reports whether an event with this ID was answered 2xx.
func delivered(got []delivery, id string) bool {
	for _, d := range got {
		if d.ev.ID == id && d.status/100 == 2 {
			return true
		}
	}
	return false
}

// env is JetStream with the event stream, one app whose webhook goes to a
// receiver, an Emitter and a running Deliverer.
type env struct {
	js   njs.JetStream
	emit *webhooks.Emitter
	m    *metrics.Metrics
	rc   *receiver
	app  string
}

func start(t *testing.T, cfg webhooks.Config, events ...string) *env {
	t.Helper()
	_, js := testenv.JetStream(t, testenv.StartNATS(t))
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := sbjs.EnsureEventStream(ctx, js, sbjs.Config{Memory: true}); err != nil {
		t.Fatal(err)
	}
	rc := newReceiver(t)
	sel, err := apps.ParseEvents(events)
	if err != nil {
		t.Fatal(err)
	}
	app := apps.App{ID: "hookapp", AllowNoToken: true, Webhook: apps.Webhook{URL: rc.URL + "/hook", Secret: secret, Events: sel}}
	reg, err := apps.NewRegistry(app)
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	d := &webhooks.Deliverer{JS: js, Apps: reg, Cfg: cfg, Metrics: m, Log: quiet()}
	runCtx, stop := context.WithCancel(context.Background())
	if err := d.Start(runCtx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(); d.Wait() })
	return &env{js: js, emit: &webhooks.Emitter{JS: js, Apps: reg, Metrics: m, Log: quiet()}, m: m, rc: rc, app: app.ID}
}

// fastRetries is a configuration whose retries come quickly.
func fastRetries() webhooks.Config {
	return webhooks.Config{Timeout: 5 * time.Second, BackoffBase: 20 * time.Millisecond, BackoffMax: 100 * time.Millisecond, AckWait: 10 * time.Second}
}

func (e *env) login(t *testing.T, account string) string {
	t.Helper()
	id := e.emit.Emit(context.Background(), e.app, webhooks.Event{Type: apps.EventLogin, Account: account})
	if id == "" {
		t.Fatal("login event not written")
	}
	return id
}

// metric returns the value of one line of the metrics page, "" if absent.
func (e *env) metric(name string) string {
	rec := httptest.NewRecorder()
	e.m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, l := range strings.Split(rec.Body.String(), "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			return v
		}
	}
	return ""
}

// metricIs waits until the named metric reads want. The deliverer counts a
// delivery after it has read the receiver's answer, so the receiver can see
// the request a moment before the metric moves.
func (e *env) metricIs(t *testing.T, name, want string) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		v := e.metric(name)
		if v == want {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s = %q after %v, want %s", name, v, wait, want)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDelivery_RedirectSlowAnswerAnd5xxAreRetriedWithTheSameID(t *testing.T) {
	t.Parallel()
	cfg := fastRetries()
	cfg.Timeout = 2 * time.Second // the slow answer costs this much
	e := start(t, cfg)
	followed := make(chan struct{}, 1)
	e.rc.answer = func(w http.ResponseWriter, r *http.Request, ev webhooks.Event, try int) int {
		if r.URL.Path == "/elsewhere" {
			followed <- struct{}{}
			return http.StatusOK
		}
		if ev.Account != "first" {
			return http.StatusOK
		}
		switch try {
		case 0:
			return http.StatusServiceUnavailable
		case 1:
			w.Header().Set("Location", "/elsewhere")
			return http.StatusFound
		case 2:
			<-r.Context().Done() // slower than the timeout
			return 0
		case 3:
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	}
	first, second := e.login(t, "first"), e.login(t, "second")
	got := e.rc.waitFor(t, "second event", func(g []delivery) bool { return delivered(g, second) })

	var ids []string
	for _, d := range got {
		ids = append(ids, d.ev.Account)
		if err := webhooks.Verify(secret, d.sig, d.body, time.Now(), 5*time.Minute); err != nil {
			t.Errorf("delivery of %s: %v", d.ev.ID, err)
		}
		if d.idHdr != d.ev.ID {
			t.Errorf("%s header %q, body id %q", webhooks.IDHeader, d.idHdr, d.ev.ID)
		}
	}
	want := "first first first first first second"
	if strings.Join(ids, " ") != want {
		t.Fatalf("deliveries %v, want %s: every retry of the first event before the second", ids, want)
	}
	for _, d := range got[:5] {
		if d.ev.ID != first || string(d.body) != string(got[0].body) {
			t.Fatalf("a retry changed the event: %s vs %s", d.body, got[0].body)
		}
	}
	select {
	case <-followed:
		t.Fatal("the redirect was followed")
	default:
	}
	e.metricIs(t, `switchboard_webhook_deliveries_total{result="failed"}`, "4")
	e.metricIs(t, `switchboard_webhook_retries_total`, "4")
	e.metricIs(t, `switchboard_webhook_lag_seconds_count`, "2")
}

func TestDelivery_4xxIsRefusedNotRetried_429IsRetried(t *testing.T) {
	t.Parallel()
	e := start(t, fastRetries())
	e.rc.answer = func(w http.ResponseWriter, r *http.Request, ev webhooks.Event, try int) int {
		switch {
		case ev.Account == "bad":
			return http.StatusBadRequest
		case ev.Account == "gone":
			return http.StatusGone
		case ev.Account == "busy" && try < 2:
			return http.StatusTooManyRequests
		}
		return http.StatusOK
	}
	e.login(t, "bad")
	e.login(t, "gone")
	e.login(t, "busy")
	last := e.login(t, "ok")
	got := e.rc.waitFor(t, "last event", func(g []delivery) bool { return delivered(g, last) })
	var seq []string
	for _, d := range got {
		seq = append(seq, d.ev.Account)
	}
	if want := "bad gone busy busy busy ok"; strings.Join(seq, " ") != want {
		t.Fatalf("deliveries %v, want %s", seq, want)
	}
	e.metricIs(t, `switchboard_webhook_deliveries_total{result="refused"}`, "2")
	e.metricIs(t, `switchboard_webhook_deliveries_total{result="delivered"}`, "2")
}

func TestEmit_OnlySelectedEventsAreWritten(t *testing.T) {
	t.Parallel()
	e := start(t, fastRetries(), apps.EventLogout)
	if id := e.emit.Emit(context.Background(), e.app, webhooks.Event{Type: apps.EventLogin, Account: "a"}); id != "" {
		t.Fatal("a login was written for an app that selected only logouts")
	}
	if id := e.emit.Emit(context.Background(), "no-such-app", webhooks.Event{Type: apps.EventLogout, Account: "a"}); id != "" {
		t.Fatal("an event was written for an unknown app")
	}
	id := e.emit.Emit(context.Background(), e.app, webhooks.Event{Type: apps.EventLogout, Account: "a", Code: 101, Reason: webhooks.ReasonLogout})
	test, err := e.emit.Test(context.Background(), e.app)
	if err != nil {
		t.Fatal(err)
	}
	got := e.rc.waitFor(t, "test event", func(g []delivery) bool { return delivered(g, test) })
	if len(got) != 2 || got[0].ev.ID != id || got[0].ev.Type != apps.EventLogout || got[0].ev.Code != 101 ||
		got[1].ev.Type != webhooks.TypeTest || got[1].ev.App != e.app {
		t.Fatalf("got %+v", got)
	}
	if _, err := e.emit.Test(context.Background(), "no-such-app"); err != webhooks.ErrUnknownApp {
		t.Fatalf("Test of an unknown app: %v", err)
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestDelivery_GoesOnAfterItsConsumerIsDeleted(t *testing.T) {
	t.Parallel()
	e := start(t, fastRetries())
	first := e.login(t, "before")
	e.rc.waitFor(t, "first event", func(g []delivery) bool { return delivered(g, first) })
	if err := e.js.DeleteConsumer(context.Background(), sbjs.EventStream, webhooks.ConsumerName(e.app)); err != nil {
		t.Fatal(err)
	}
	second := e.login(t, "after")
	got := e.rc.waitFor(t, "event after the deletion", func(g []delivery) bool { return delivered(g, second) })
	// The consumer made again starts from the stream's first event: the
	// first one arrives again, with its ID, before the second.
	var seq []string
	for _, d := range got {
		seq = append(seq, d.ev.Account)
	}
	if strings.Join(seq, " ") != "before before after" {
		t.Fatalf("deliveries %v", seq)
	}
}

func TestEmit_WithoutTheStreamGivesUpInBoundedTime(t *testing.T) {
	t.Parallel()
	e := start(t, fastRetries())
	if err := e.js.DeleteStream(context.Background(), sbjs.EventStream); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	if id := e.emit.Emit(context.Background(), e.app, webhooks.Event{Type: apps.EventLogin, Account: "a"}); id != "" {
		t.Fatalf("an event was written with no stream: %s", id)
	}
	if d := time.Since(began); d > wait {
		t.Fatalf("Emit took %v", d)
	}
	if v := e.metric(`switchboard_webhook_events_total{result="error"}`); v != "1" {
		t.Errorf("lost events metric = %q, want 1", v)
	}
}
