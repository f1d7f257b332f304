package otel_test

import (
	"slices"
	"testing"

	"github.com/nats-io/nats.go"

	sbotel "github.com/switchboard-io/switchboard/otel"
)

func TestHeaderCarrier_Get(t *testing.T) {
	tests := []struct {
		name   string
		header nats.Header
		key    string
		want   string
	}{
		{"exact key", nats.Header{"traceparent": {"a"}}, "traceparent", "a"},
		{"canonicalised key still found", nats.Header{"Traceparent": {"b"}}, "traceparent", "b"},
		{"upper-case key still found", nats.Header{"TRACEPARENT": {"c"}}, "traceparent", "c"},
		{"exact key wins over other case", nats.Header{"Traceparent": {"x"}, "traceparent": {"d"}}, "traceparent", "d"},
		{"first of several values", nats.Header{"baggage": {"e", "f"}}, "baggage", "e"},
		{"missing key", nats.Header{"other": {"g"}}, "traceparent", ""},
		{"nil header", nil, "traceparent", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sbotel.HeaderCarrier(tt.header).Get(tt.key); got != tt.want {
				t.Errorf("Get(%q) = %q, want %q", tt.key, got, tt.want)
			}
		})
	}
}

func TestHeaderCarrier_SetKeepsExactKey(t *testing.T) {
	h := nats.Header{}
	c := sbotel.HeaderCarrier(h)
	c.Set("traceparent", "v1")
	c.Set("traceparent", "v2")
	if got := h["traceparent"]; !slices.Equal(got, []string{"v2"}) {
		t.Errorf(`h["traceparent"] = %v, want [v2]`, got)
	}
	if _, ok := h["Traceparent"]; ok {
		t.Error("Set canonicalised the key")
	}
	// nats.Header's own accessor must see what the carrier wrote.
	if got := h.Get("traceparent"); got != "v2" {
		t.Errorf(`nats.Header.Get("traceparent") = %q, want v2`, got)
	}
}

func TestHeaderCarrier_Keys(t *testing.T) {
	c := sbotel.HeaderCarrier(nats.Header{"traceparent": {"a"}, "Baggage": {"b"}})
	got := c.Keys()
	slices.Sort(got)
	if want := []string{"Baggage", "traceparent"}; !slices.Equal(got, want) {
		t.Errorf("Keys() = %v, want %v", got, want)
	}
	if got := sbotel.HeaderCarrier(nil).Keys(); len(got) != 0 {
		t.Errorf("Keys() on nil header = %v, want none", got)
	}
}
