package webhooks

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard-io/switchboard/apps"
	sbjs "github.com/switchboard-io/switchboard/jetstream"
	"github.com/switchboard-io/switchboard/metrics"
)

// Config holds the delivery's tunables (docs/webhooks.md).
type Config struct {
	// Timeout bounds one POST: connecting, sending and the answer's status
	// line. A slower answer is a failed attempt.
	Timeout time.Duration
	// BackoffBase and BackoffMax shape the waits between attempts (Backoff).
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// AckWait is how long the stream waits for a worker that took an event
	// before it gives the event to another (the worker died). A worker
	// still delivering tells the stream so every AckWait/3.
	AckWait time.Duration
}

// DefaultConfig is the production configuration.
func DefaultConfig() Config {
	return Config{Timeout: 10 * time.Second, BackoffBase: time.Second, BackoffMax: time.Minute, AckWait: 30 * time.Second}
}

// WithDefaults returns c with DefaultConfig's value for every zero field.
func (c Config) WithDefaults() Config {
	def := DefaultConfig()
	for _, f := range []struct{ v, def *time.Duration }{
		{&c.Timeout, &def.Timeout}, {&c.BackoffBase, &def.BackoffBase},
		{&c.BackoffMax, &def.BackoffMax}, {&c.AckWait, &def.AckWait},
	} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	return c
}

// Deliverer delivers the events of every app with a webhook. Any number of
// workers run one; each app's events go out one at a time, in the order
// they were written, whichever worker sends them.
type Deliverer struct {
	JS      njs.JetStream
	Apps    Registry
	Cfg     Config
	Log     *slog.Logger
	Metrics *metrics.Metrics
	// Client sends the POSTs; nil is a client that follows no redirects.
	Client *http.Client

	wg sync.WaitGroup
}

// Registry lists the configured apps.
type Registry interface {
	Apps
	IDs() []string
}

// ConsumerName is the durable consumer of an app's events: every worker
// pulls from the same one, so each event goes to one worker at a time.
func ConsumerName(app string) string {
	sum := sha256.Sum256([]byte(app))
	return "webhook-" + hex.EncodeToString(sum[:12])
}

// Start creates each app's consumer and delivers its events until ctx ends;
// Wait waits for the deliveries under way to end after that.
//
// Order: the consumer lets one event at a time be unacknowledged
// (MaxAckPending 1), so the next event of an app goes out only after the
// receiver took the one before (or refused it for good), and an event that
// fails blocks the app's later ones until it goes through. An app's events
// are thus delivered in the order they were written, which keeps them in
// order per account and per channel; a failing receiver holds back only
// its own app.
func (d *Deliverer) Start(ctx context.Context) error {
	if d.Client == nil {
		d.Client = &http.Client{
			// A redirect is a failed attempt, retried, never followed:
			// following it would send a signed event somewhere else.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	d.Cfg = d.Cfg.WithDefaults()
	for _, id := range d.Apps.IDs() {
		a, _ := d.Apps.Lookup(id)
		if !a.Webhook.Enabled() {
			continue
		}
		cc := njs.ConsumerConfig{
			Durable:        ConsumerName(id),
			Description:    "webhook deliveries of one app",
			FilterSubjects: filters(id, a.Webhook.Wants(apps.EventChannelMessage)),
			AckPolicy:      njs.AckExplicitPolicy,
			AckWait:        d.Cfg.AckWait,
			MaxAckPending:  1,
			MaxDeliver:     -1,
			DeliverPolicy:  njs.DeliverAllPolicy,
		}
		cons, err := d.JS.CreateOrUpdateConsumer(ctx, sbjs.EventStream, cc)
		if err != nil {
			return fmt.Errorf("webhook consumer of app %q: %w", id, err)
		}
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			d.run(ctx, id, cons, cc)
		}()
	}
	return nil
}

// pullExpiry is how long one pull request waits for an event; heartbeats
// come every half of it, and a consumer deleted under a waiting pull shows
// only as missing heartbeats.
const pullExpiry = 10 * time.Second

// consumerPause is the wait before a consumer that failed is made again.
const consumerPause = time.Second

// run delivers one app's events until ctx ends. A consumer that went away
// (deleted by an operator, lost with a memory stream) is made again.
func (d *Deliverer) run(ctx context.Context, app string, cons njs.Consumer, cc njs.ConsumerConfig) {
	for {
		if cons != nil {
			d.consume(ctx, app, cons)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(consumerPause):
		}
		var err error
		if cons, err = d.JS.CreateOrUpdateConsumer(ctx, sbjs.EventStream, cc); err != nil {
			d.Log.Warn("webhook consumer not available; trying again", "app", app, "err", err)
			cons = nil
		}
	}
}

// consume handles the consumer's events one at a time, until ctx ends or
// the consumer fails.
func (d *Deliverer) consume(ctx context.Context, app string, cons njs.Consumer) {
	it, err := cons.Messages(njs.PullMaxMessages(1), njs.PullExpiry(pullExpiry))
	if err != nil {
		d.Log.Warn("webhook consumer failed", "app", app, "err", err)
		return
	}
	stopped := make(chan struct{})
	defer close(stopped)
	go func() {
		select {
		case <-ctx.Done():
		case <-stopped:
		}
		it.Stop()
	}()
	for {
		m, err := it.Next()
		switch {
		case errors.Is(err, njs.ErrMsgIteratorClosed):
			return
		case errors.Is(err, njs.ErrConsumerDeleted), errors.Is(err, njs.ErrConsumerNotFound):
			d.Log.Warn("webhook consumer gone; making it again", "app", app, "err", err)
			return
		case err != nil:
			// Missed heartbeats (the only sign of a consumer deleted
			// under a waiting pull), a NATS reconnection: the iterator
			// goes on if the consumer is still there. The pause keeps an
			// error that repeats at once from spinning.
			d.Log.Debug("webhook consumer", "app", app, "err", err)
			ictx, cancel := context.WithTimeout(ctx, d.Cfg.Timeout)
			_, ierr := cons.Info(ictx)
			cancel()
			if errors.Is(ierr, njs.ErrConsumerNotFound) {
				d.Log.Warn("webhook consumer gone; making it again", "app", app)
				return
			}
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		d.handle(ctx, app, m)
	}
}

// Wait waits until every delivery loop has ended.
func (d *Deliverer) Wait() { d.wg.Wait() }

// handle makes one attempt at one event and settles it with the stream:
// acknowledged after a 2xx or a refusal, scheduled again after a back-off
// otherwise. A worker that dies before that leaves the event to the stream,
// which gives it to another worker after AckWait.
func (d *Deliverer) handle(ctx context.Context, app string, m njs.Msg) {
	meta, err := m.Metadata()
	if err != nil {
		_ = m.Term()
		return
	}
	d.Metrics.WebhookPending(app, meta.NumPending+1)
	ev, body, ok := eventOf(app, m, meta)
	if !ok {
		// Not an event: a frame on a channel subject other than a
		// message (joins, attributes), captured with the messages.
		_ = m.Ack()
		d.Metrics.WebhookPending(app, meta.NumPending)
		return
	}
	a, ok := d.Apps.Lookup(app)
	if !ok || !a.Webhook.Enabled() {
		_ = m.NakWithDelay(d.Cfg.BackoffMax)
		return
	}
	stop := d.keepAlive(m)
	status, err := d.post(ctx, a.Webhook.URL, a.Webhook.Secret, ev, body)
	stop()
	if ctx.Err() != nil {
		// This worker is stopping, not the receiver failing: hand the
		// event back at once for another worker.
		_ = m.Nak()
		return
	}
	switch {
	case err == nil && status >= 200 && status < 300:
		d.Metrics.WebhookDelivery(metrics.WebhookDelivered, time.Since(time.UnixMilli(ev.Timestamp)))
		// DoubleAck waits for the stream to take the ack: the next event
		// is then the one after this, never this one again.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.Cfg.AckWait)
		_ = m.DoubleAck(actx)
		cancel()
		d.Metrics.WebhookPending(app, meta.NumPending)
	case err == nil && status >= 400 && status < 500 && status != http.StatusTooManyRequests:
		d.Metrics.WebhookDelivery(metrics.WebhookRefused, 0)
		d.Log.Warn("webhook receiver refused an event; not retried", "app", app, "receiver", host(a.Webhook.URL),
			"event", ev.ID, "type", ev.Type, "status", status)
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.Cfg.AckWait)
		_ = m.DoubleAck(actx)
		cancel()
		d.Metrics.WebhookPending(app, meta.NumPending)
	default:
		d.Metrics.WebhookDelivery(metrics.WebhookFailed, 0)
		wait := Backoff(int(meta.NumDelivered), d.Cfg.BackoffBase, d.Cfg.BackoffMax)
		attrs := []any{"app", app, "receiver", host(a.Webhook.URL), "event", ev.ID, "attempt", meta.NumDelivered, "retry_in", wait}
		if err != nil {
			attrs = append(attrs, "err", err)
		} else {
			attrs = append(attrs, "status", status)
		}
		d.Log.Info("webhook delivery failed; will retry", attrs...)
		_ = m.NakWithDelay(wait)
	}
}

// keepAlive tells the stream every AckWait/3 that the event is still being
// delivered, until the returned stop is called.
func (d *Deliverer) keepAlive(m njs.Msg) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(max(d.Cfg.AckWait/3, 10*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_ = m.InProgress()
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// post sends one signed delivery and returns the answer's status.
func (d *Deliverer) post(ctx context.Context, target, secret string, ev Event, body []byte) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, d.Cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, errors.New("invalid webhook URL")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Switchboard-Webhooks/1")
	req.Header.Set(IDHeader, ev.ID)
	req.Header.Set(TypeHeader, ev.Type)
	req.Header.Set(SignatureHeader, Sign(secret, time.Now(), body))
	resp, err := d.Client.Do(req)
	if err != nil {
		// A *url.Error names the URL, which may hold credentials: keep
		// only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no answer within %v", d.Cfg.Timeout)
		}
		return 0, err
	}
	// Read a little of the answer so that the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// host is the part of a receiver's URL that may be logged.
func host(target string) string {
	u, err := url.Parse(target)
	if err != nil {
		return "?"
	}
	return u.Host
}
