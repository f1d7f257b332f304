package otel_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	otelapi "go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace/noop"

	sbotel "github.com/switchboard-io/switchboard/otel"
)

// waitTimeout bounds every wait in these tests; none should come near it.
const waitTimeout = 5 * time.Second

// startNATS starts an embedded server with no listener and returns a
// connection to it over an in-process pipe.
func startNATS(t *testing.T) *nats.Conn {
	t.Helper()
	s, err := server.NewServer(&server.Options{DontListen: true, NoSigs: true})
	if err != nil {
		t.Fatalf("nats server: %v", err)
	}
	go s.Start()
	t.Cleanup(s.Shutdown)
	if !s.ReadyForConnections(waitTimeout) {
		t.Fatal("nats server not ready")
	}
	nc, err := nats.Connect("", nats.InProcessServer(s))
	if err != nil {
		t.Fatalf("nats connect: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// installRecorder puts an SDK provider that exports synchronously into an
// in-memory exporter in place, so a span is readable as soon as End returns.
func installRecorder(t testing.TB) *tracetest.InMemoryExporter {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	sbotel.Install(tp)
	t.Cleanup(func() {
		restoreNoop()
		_ = tp.Shutdown(context.Background())
	})
	return exp
}

// restoreNoop puts a no-op provider back so one test's SDK provider does
// not leak into the next.
func restoreNoop() { otelapi.SetTracerProvider(noop.NewTracerProvider()) }

// clearOTELEnv unsets every OTEL_* variable for the test; t.Setenv restores
// them afterwards.
func clearOTELEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "OTEL_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
}

// waitFor returns the next value from ch, failing the test after waitTimeout.
func waitFor[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTimeout):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

// spanNamed returns the one recorded span called name.
func spanNamed(t *testing.T, exp *tracetest.InMemoryExporter, name string) tracetest.SpanStub {
	t.Helper()
	var found []tracetest.SpanStub
	for _, s := range exp.GetSpans() {
		if s.Name == name {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want 1 span %q, got %d (all: %v)", name, len(found), spanNames(exp))
	}
	return found[0]
}

func spanNames(exp *tracetest.InMemoryExporter) []string {
	var names []string
	for _, s := range exp.GetSpans() {
		names = append(names, s.Name)
	}
	return names
}

func hasAttr(s tracetest.SpanStub, key, want string) bool {
	for _, kv := range s.Attributes {
		if string(kv.Key) == key {
			return kv.Value.AsString() == want
		}
	}
	return false
}
