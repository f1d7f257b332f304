// Package webhooks tells an app's own backend what happened in the app: each
// login, logout, channel join and leave of an app with a webhook is written,
// when it happens, to the JetStream event stream (jetstream.EventStream) by
// an Emitter, and delivered from there by the workers' Deliverer as a signed
// HTTP POST, in order, with retries, at least once (docs/webhooks.md).
//
// It owns the event bodies, the signature, the back-off and the delivery. It
// imports apps, protocol (to read a captured channel message), subjects,
// jetstream and metrics, and nothing of the edge or the handlers; the
// handlers call an Emitter.
package webhooks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard-io/switchboard/apps"
	"github.com/switchboard-io/switchboard/metrics"
	"github.com/switchboard-io/switchboard/subjects"
)

// TypeTest is the type of the event Emitter.Test writes; it is sent whatever
// the app's event selection.
const TypeTest = "webhook.test"

// Logout reasons, in an event's "reason" beside its onLogout "code".
const (
	ReasonLogout         = "logout"          // 101: the user logged out
	ReasonConnectionLost = "connection_lost" // 102: the connection dropped and did not come back
	ReasonKicked         = "kicked"          // 103: the account logged in elsewhere
	ReasonTokenExpired   = "token_expired"   // 105: the token expired while online
	ReasonOther          = "other"           // 100
)

// Event is one event, as its JSON body is delivered. ID, Timestamp and App
// are filled in by Emit.
type Event struct {
	ID string `json:"id"`
	// Timestamp is when the event happened, in Unix milliseconds.
	Timestamp int64  `json:"timestamp"`
	App       string `json:"app"`
	Type      string `json:"type"`
	Account   string `json:"account,omitempty"`
	Channel   string `json:"channel,omitempty"`
	// Code is a logout's onLogout code or a leave's onChannelLeaved code.
	Code   int    `json:"code,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Message is a channel message's text.
	Message string `json:"message,omitempty"`
}

// LogoutReason names an onLogout code.
func LogoutReason(code int) string {
	switch code {
	case 101:
		return ReasonLogout
	case 102:
		return ReasonConnectionLost
	case 103:
		return ReasonKicked
	case 105:
		return ReasonTokenExpired
	}
	return ReasonOther
}

// Apps finds a configured app and its webhook.
type Apps interface {
	Lookup(id string) (apps.App, bool)
}

// Emitter writes events to the event stream. A nil *Emitter writes nothing.
type Emitter struct {
	JS      njs.JetStream
	Apps    Apps
	Log     *slog.Logger
	Metrics *metrics.Metrics
	// Now is the clock of event timestamps (time.Now when nil).
	Now func() time.Time
}

// ErrNoWebhook is returned by Test for an app that has no webhook.
var ErrNoWebhook = errors.New("webhooks: the app has no webhook configured")

// ErrUnknownApp is returned by Test for an app that is not configured.
var ErrUnknownApp = errors.New("webhooks: unknown app")

// Emit writes ev for app if the app's webhook selects ev.Type, and returns
// the event's ID ("" when nothing was written). The write is retried with
// the same ID (JetStream drops the duplicate of one that did arrive) for up
// to 5 s or until ctx ends; an event that could not be written is logged,
// counted and lost, since what happened has happened: callers go on either
// way.
func (e *Emitter) Emit(ctx context.Context, app string, ev Event) string {
	if e == nil {
		return ""
	}
	a, ok := e.Apps.Lookup(app)
	if !ok || !a.Webhook.Enabled() || (ev.Type != TypeTest && !a.Webhook.Wants(ev.Type)) {
		return ""
	}
	id, err := e.write(ctx, app, ev)
	if err != nil {
		e.Metrics.WebhookEvent(metrics.ResultError)
		e.log().Warn("webhook event not written", "app", app, "type", ev.Type, "err", err)
		return ""
	}
	e.Metrics.WebhookEvent(metrics.ResultOK)
	return id
}

// Test writes a test event for appID and returns its ID: `sbctl webhook
// test` and the server API call it to check a receiver.
func (e *Emitter) Test(ctx context.Context, appID string) (eventID string, err error) {
	if e == nil {
		return "", ErrNoWebhook
	}
	a, ok := e.Apps.Lookup(appID)
	if !ok {
		return "", ErrUnknownApp
	}
	if !a.Webhook.Enabled() {
		return "", ErrNoWebhook
	}
	return e.write(ctx, appID, Event{Type: TypeTest})
}

// writeTimeout bounds the writing of one event, retries included: a stream
// that cannot take it must not hold up the login or join it is about.
const writeTimeout = 5 * time.Second

// writeRetry is the pause between attempts to write one event.
const writeRetry = 250 * time.Millisecond

func (e *Emitter) write(ctx context.Context, app string, ev Event) (string, error) {
	now := time.Now
	if e.Now != nil {
		now = e.Now
	}
	ev.ID, ev.App, ev.Timestamp = newID(), app, now().UnixMilli()
	body, err := json.Marshal(ev)
	if err != nil {
		return "", err
	}
	subject := subjects.Events(app, ev.Type)
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	for {
		_, err = e.JS.Publish(ctx, subject, body, njs.WithMsgID(ev.ID))
		if err == nil {
			return ev.ID, nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("%w (%v)", err, ctx.Err())
		case <-time.After(writeRetry):
		}
	}
}

func (e *Emitter) log() *slog.Logger {
	if e.Log == nil {
		return slog.Default()
	}
	return e.Log
}

// newID is a random event ID: 128 bits, hex.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "evt_" + hex.EncodeToString(b[:])
}
