package otel

import (
	"strings"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/propagation"
)

// HeaderCarrier adapts a nats.Header to propagation.TextMapCarrier.
//
// nats.Header is case-sensitive. Set writes the key exactly as the
// propagator gives it (the W3C propagators use lower case, "traceparent"),
// and Get tries the exact key before falling back to a case-insensitive
// match, so a header written as "Traceparent" by a client that canonicalises
// HTTP-style is still found.
type HeaderCarrier nats.Header

var (
	_ propagation.TextMapCarrier = HeaderCarrier{}
	_ propagation.ValuesGetter   = HeaderCarrier{}
)

// Get returns the first value for key, or "" if there is none.
func (h HeaderCarrier) Get(key string) string {
	if v := h.Values(key); len(v) > 0 {
		return v[0]
	}
	return ""
}

// Values returns every value for key; the Baggage propagator reads them all.
func (h HeaderCarrier) Values(key string) []string {
	if v, ok := h[key]; ok {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

// Set replaces the values for key, written exactly as given.
func (h HeaderCarrier) Set(key, value string) {
	h[key] = []string{value}
}

// Keys lists the header keys as they are stored.
func (h HeaderCarrier) Keys() []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	return keys
}
