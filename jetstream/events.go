package jetstream

import (
	"context"
	"fmt"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard-io/switchboard/subjects"
)

// EventStream is the stream of webhook events (package webhooks): every
// login, logout, join and leave of an app with a webhook, written when it
// happens and delivered from here by the workers.
const EventStream = "SB_EVENTS"

// The event stream's limits (docs/webhooks.md). An event older than
// EventMaxAge, or beyond EventMaxBytes of newer ones, is dropped even if it
// was never delivered: a receiver down for longer than that loses events.
const (
	EventMaxAge   = 72 * time.Hour
	EventMaxBytes = 1 << 30 // 1 GiB on disk
	// eventMaxBytesMemory bounds the stream in memory (tests, benchmarks).
	eventMaxBytesMemory = 64 << 20
	// EventDuplicates is the window in which a second write with the same
	// event ID (the Nats-Msg-Id header) is dropped.
	EventDuplicates = 2 * time.Minute
)

// EnsureEventStream creates the event stream if it does not exist, and
// brings one that exists with other settings in line. capture lists more
// subjects the stream keeps as they are published: the channel subjects of
// apps whose webhooks want channel messages (subjects.ChannelAll). Every
// process must be given the same apps, or they undo each other's settings.
func EnsureEventStream(ctx context.Context, js njs.JetStream, cfg Config, capture ...string) error {
	sc := njs.StreamConfig{
		Name:        EventStream,
		Description: "Switchboard webhook events",
		Subjects:    append([]string{subjects.EventsAll}, capture...),
		Retention:   njs.LimitsPolicy,
		Discard:     njs.DiscardOld,
		MaxAge:      EventMaxAge,
		MaxBytes:    EventMaxBytes,
		Duplicates:  EventDuplicates,
		Replicas:    max(cfg.Replicas, 1),
		Storage:     njs.FileStorage,
	}
	if cfg.Memory {
		sc.Storage = njs.MemoryStorage
		sc.MaxBytes = eventMaxBytesMemory
	}
	err := retry(ctx, func(ctx context.Context) error {
		_, err := js.CreateOrUpdateStream(ctx, sc)
		return err
	})
	if err != nil {
		return fmt.Errorf("stream %s: %w", EventStream, err)
	}
	return nil
}
