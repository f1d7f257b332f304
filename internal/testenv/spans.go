package testenv

import (
	"testing"
	"time"

	otelapi "go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	sbotel "github.com/switchboard-io/switchboard/otel"
)

// Spans records the OpenTelemetry spans this process ends while a test
// runs; the previous tracer provider comes back when it ends.
type Spans struct{ exp *tracetest.InMemoryExporter }

// RecordSpans installs an in-memory tracer provider for the test.
func RecordSpans(t testing.TB) *Spans {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	prev := otelapi.GetTracerProvider()
	sbotel.Install(tp)
	t.Cleanup(func() { sbotel.Install(prev); _ = tp.Shutdown(t.Context()) })
	return &Spans{exp: exp}
}

// Wait returns the last recorded span of each name, once there is one of
// every name; it fails the test after WaitTimeout. A span ends after the
// answer it belongs to is sent, so it may be recorded after the client has
// that answer.
func (s *Spans) Wait(t testing.TB, names ...string) map[string]tracetest.SpanStub {
	t.Helper()
	deadline := time.Now().Add(WaitTimeout)
	for {
		got := map[string]tracetest.SpanStub{}
		var all []string
		for _, sp := range s.exp.GetSpans() {
			got[sp.Name] = sp
			all = append(all, sp.Name)
		}
		missing := false
		for _, n := range names {
			if !got[n].SpanContext.IsValid() {
				missing = true
			}
		}
		if !missing {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("missing spans of %v; recorded: %v", names, all)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
