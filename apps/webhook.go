package apps

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Webhook event types (docs/webhooks.md), as the "type" of an event's body
// and in Webhook.Events.
const (
	EventLogin          = "login"
	EventLogout         = "logout"
	EventChannelJoin    = "channel.join"
	EventChannelLeave   = "channel.leave"
	EventChannelMessage = "channel.message"
)

// allEvents are the event types a webhook may select, in EventSet's bit
// order.
var allEvents = []string{EventLogin, EventLogout, EventChannelJoin, EventChannelLeave, EventChannelMessage}

// EventSet is a selection of event types. Its zero value selects
// DefaultEvents; it reads and writes as a JSON list of type names. It is a
// bit set rather than a slice so that an App stays comparable.
type EventSet uint8

// DefaultEvents are the events an app hears of when it selects none: every
// one but channel messages, which may be many.
const DefaultEvents EventSet = 1<<4 - 1

// eventsError is a bad event selection; the apps file's errors show it.
type eventsError struct{ msg string }

func (e *eventsError) Error() string { return e.msg }

// ParseEvents reads a list of event type names.
func ParseEvents(names []string) (EventSet, error) {
	var s EventSet
	for _, n := range names {
		i := slices.Index(allEvents, n)
		if i < 0 {
			if len(n) > 32 {
				n = n[:32] + "…"
			}
			return 0, &eventsError{fmt.Sprintf("unknown webhook event %q (known: %s)", n, strings.Join(allEvents, ", "))}
		}
		s |= 1 << i
	}
	return s, nil
}

// Has reports whether the set selects typ; the empty set is DefaultEvents.
func (s EventSet) Has(typ string) bool {
	if s == 0 {
		s = DefaultEvents
	}
	i := slices.Index(allEvents, typ)
	return i >= 0 && s&(1<<i) != 0
}

// Names lists the selected types (DefaultEvents' for the empty set).
func (s EventSet) Names() []string {
	var out []string
	for _, n := range allEvents {
		if s.Has(n) {
			out = append(out, n)
		}
	}
	return out
}

// UnmarshalJSON reads a list of type names.
func (s *EventSet) UnmarshalJSON(b []byte) error {
	var names []string
	if err := json.Unmarshal(b, &names); err != nil {
		return &eventsError{"webhook events must be a list of event type names"}
	}
	v, err := ParseEvents(names)
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// MarshalJSON writes the list of type names.
func (s EventSet) MarshalJSON() ([]byte, error) { return json.Marshal(s.Names()) }

// MinWebhookSecretLen is the shortest signing secret accepted, in bytes.
const MinWebhookSecretLen = 16

// Webhook is where an app's events are delivered (package webhooks). URL
// empty means the app has no webhook. Secret signs every delivery; like a
// certificate, it is redacted in every printed form.
type Webhook struct {
	URL    string   `json:"url"`
	Secret string   `json:"secret"`
	Events EventSet `json:"events,omitempty"`
}

// Enabled reports whether the app has a webhook.
func (w Webhook) Enabled() bool { return w.URL != "" }

// Wants reports whether the webhook is enabled and selects events of type typ.
func (w Webhook) Wants(typ string) bool {
	if !w.Enabled() {
		return false
	}
	return w.Events.Has(typ)
}

// validateWebhook checks a webhook; its messages show neither the secret nor
// the URL (which may hold credentials of its own).
func validateWebhook(w Webhook) error {
	if !w.Enabled() {
		if w.Secret != "" || w.Events != 0 {
			return errors.New("webhook secret or events set without a webhook URL")
		}
		return nil
	}
	u, err := url.Parse(w.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("webhook URL must be an absolute http or https URL")
	}
	if len(w.Secret) < MinWebhookSecretLen {
		return fmt.Errorf("webhook secret must be at least %d bytes", MinWebhookSecretLen)
	}
	if strings.TrimSpace(w.Secret) != w.Secret {
		return errors.New("webhook secret has leading or trailing white space")
	}
	return nil
}

func (w Webhook) shown() Webhook {
	if w.Secret != "" {
		w.Secret = redacted
	}
	return w
}

// String returns the webhook with its secret redacted.
func (w Webhook) String() string {
	s := w.shown()
	return "{URL:" + s.URL + " Secret:" + s.Secret + " Events:" + strings.Join(s.Events.Names(), ",") + "}"
}

// Format makes every fmt verb redact, as App.Format does.
func (w Webhook) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprint(f, strconv.Quote(w.String()))
		return
	}
	fmt.Fprint(f, w.String())
}

// LogValue makes log/slog print the webhook with the secret redacted.
func (w Webhook) LogValue() slog.Value {
	s := w.shown()
	return slog.GroupValue(slog.String("url", s.URL), slog.String("secret", s.Secret),
		slog.String("events", strings.Join(s.Events.Names(), ",")))
}

// MarshalJSON redacts the secret.
func (w Webhook) MarshalJSON() ([]byte, error) {
	type plain Webhook // no methods, so no recursion
	return json.Marshal(plain(w.shown()))
}

// webhookFromEnv reads SB_APP_WEBHOOK_URL, SB_APP_WEBHOOK_SECRET and
// SB_APP_WEBHOOK_EVENTS (comma-separated) for the app of SB_APP_ID.
func webhookFromEnv(getenv func(string) string) (Webhook, error) {
	w := Webhook{URL: getenv(EnvAppWebhookURL), Secret: getenv(EnvAppWebhookSecret)}
	var names []string
	for _, e := range strings.Split(getenv(EnvAppWebhookEvents), ",") {
		if e = strings.TrimSpace(e); e != "" {
			names = append(names, e)
		}
	}
	var err error
	if w.Events, err = ParseEvents(names); err != nil {
		return w, fmt.Errorf("apps: %s: %w", EnvAppWebhookEvents, err)
	}
	return w, nil
}

// The environment variables of the SB_APP_ID app's webhook.
const (
	EnvAppWebhookURL    = "SB_APP_WEBHOOK_URL"
	EnvAppWebhookSecret = "SB_APP_WEBHOOK_SECRET"
	EnvAppWebhookEvents = "SB_APP_WEBHOOK_EVENTS"
)
