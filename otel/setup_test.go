package otel_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/nats-io/nats.go"
	otelapi "go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	sbotel "github.com/switchboard-io/switchboard/otel"
)

func TestSetup_WithoutExporterVariablesIsNoop(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
	}{
		{"no variables", nil},
		{"exporter none", map[string]string{"OTEL_TRACES_EXPORTER": "none"}},
		// The endpoint must not be dialled: "none" wins over it.
		{"exporter none with endpoint", map[string]string{
			"OTEL_TRACES_EXPORTER":        "none",
			"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1",
		}},
		{"sdk disabled", map[string]string{
			"OTEL_SDK_DISABLED":           "true",
			"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1",
		}},
		{"service name alone", map[string]string{"OTEL_SERVICE_NAME": "edge-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearOTELEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			restoreNoop()
			before := otelapi.GetTracerProvider()

			shutdown, err := sbotel.Setup(context.Background(), "edge")
			if err != nil {
				t.Fatalf("Setup: %v", err)
			}
			if after := otelapi.GetTracerProvider(); after != before {
				t.Fatalf("Setup replaced the no-op provider with %T", after)
			}

			ctx, span := sbotel.StartClientSpan(context.Background(), "edge.send")
			defer span.End()
			if span.IsRecording() || span.SpanContext().IsValid() {
				t.Error("span should be a non-recording span with no context")
			}
			msg := &nats.Msg{Subject: "svc.x"}
			sbotel.Inject(ctx, msg)
			if msg.Header != nil {
				t.Errorf("Inject added a header: %v", msg.Header)
			}

			// The propagator is installed even with tracing off, so a worker
			// without an exporter still passes upstream context through.
			fields := otelapi.GetTextMapPropagator().Fields()
			for _, f := range []string{"traceparent", "tracestate", "baggage"} {
				if !slices.Contains(fields, f) {
					t.Errorf("propagator fields %v lack %q", fields, f)
				}
			}
			if err := shutdown(context.Background()); err != nil {
				t.Errorf("shutdown: %v", err)
			}
		})
	}
}

// The console exporter writes to the process's stdout and dials nothing.
func TestSetup_ConsoleExporterInstallsSDK(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"service argument", nil, "edge"},
		{"OTEL_SERVICE_NAME wins", map[string]string{"OTEL_SERVICE_NAME": "edge-eu"}, "edge-eu"},
		{"OTEL_RESOURCE_ATTRIBUTES wins", map[string]string{"OTEL_RESOURCE_ATTRIBUTES": "service.name=edge-us"}, "edge-us"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearOTELEnv(t)
			t.Setenv("OTEL_TRACES_EXPORTER", "console")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			shutdown, err := sbotel.Setup(context.Background(), "edge")
			if err != nil {
				t.Fatalf("Setup: %v", err)
			}
			t.Cleanup(func() {
				restoreNoop()
				_ = shutdown(context.Background())
			})
			if _, ok := otelapi.GetTracerProvider().(*sdktrace.TracerProvider); !ok {
				t.Fatalf("global provider is %T, want the SDK's", otelapi.GetTracerProvider())
			}

			// Not ended: an ended span would be printed to the test's stdout.
			ctx, span := sbotel.StartClientSpan(context.Background(), "edge.send")
			if !span.IsRecording() {
				t.Fatal("span is not recording")
			}
			ro, ok := span.(sdktrace.ReadOnlySpan)
			if !ok {
				t.Fatalf("span is %T, not an SDK span", span)
			}
			if got, _ := ro.Resource().Set().Value(semconv.ServiceNameKey); got.AsString() != tt.want {
				t.Errorf("service.name = %q, want %q", got.AsString(), tt.want)
			}
			msg := nats.NewMsg("svc.x")
			sbotel.Inject(ctx, msg)
			if msg.Header.Get("traceparent") == "" {
				t.Errorf("Inject wrote no traceparent: %v", msg.Header)
			}
		})
	}
}

// With only OTEL_EXPORTER_OTLP_ENDPOINT set, spans go out as OTLP over HTTP.
// The collector is an httptest server on loopback.
func TestSetup_OTLPEndpointExportsSpans(t *testing.T) {
	got := make(chan *coltracepb.ExportTraceServiceRequest, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req := &coltracepb.ExportTraceServiceRequest{}
		if r.URL.Path != "/v1/traces" || proto.Unmarshal(body, req) != nil {
			http.Error(w, "bad export", http.StatusBadRequest)
			return
		}
		select {
		case got <- req:
		default:
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	t.Cleanup(srv.Close)

	clearOTELEnv(t)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", srv.URL)
	shutdown, err := sbotel.Setup(context.Background(), "worker")
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	t.Cleanup(restoreNoop)

	_, span := sbotel.StartClientSpan(context.Background(), "worker.publish")
	span.End()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	// Shutdown flushes the batch.
	if err := shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}

	req := waitFor(t, got, "OTLP export")
	rs := req.GetResourceSpans()
	if len(rs) != 1 || len(rs[0].GetScopeSpans()) != 1 {
		t.Fatalf("unexpected export shape: %v", req)
	}
	var service string
	for _, kv := range rs[0].GetResource().GetAttributes() {
		if kv.GetKey() == "service.name" {
			service = kv.GetValue().GetStringValue()
		}
	}
	if service != "worker" {
		t.Errorf("service.name = %q, want worker", service)
	}
	ss := rs[0].GetScopeSpans()[0]
	if ss.GetScope().GetName() != sbotel.InstrumentationName {
		t.Errorf("scope = %q, want %q", ss.GetScope().GetName(), sbotel.InstrumentationName)
	}
	if len(ss.GetSpans()) != 1 || ss.GetSpans()[0].GetName() != "worker.publish" {
		t.Errorf("spans = %v, want one worker.publish", ss.GetSpans())
	}
}

func TestSetup_BadExporterIsAnError(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
	}{
		{"unknown exporter", map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}},
		{"unknown protocol", map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1",
			"OTEL_EXPORTER_OTLP_PROTOCOL": "carrier-pigeon",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearOTELEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			restoreNoop()
			before := otelapi.GetTracerProvider()
			shutdown, err := sbotel.Setup(context.Background(), "edge")
			if err == nil {
				t.Fatal("Setup succeeded, want an error")
			}
			if shutdown == nil || shutdown(context.Background()) != nil {
				t.Error("shutdown should be a usable no-op on error")
			}
			if otelapi.GetTracerProvider() != before {
				t.Error("a failed Setup replaced the provider")
			}
		})
	}
}

// With tracing off, a hop still passes the upstream trace context on
// unchanged, so an untraced worker does not break an edge-to-edge trace.
func TestSetup_NoopHopForwardsUpstreamContext(t *testing.T) {
	clearOTELEnv(t)
	restoreNoop()
	shutdown, err := sbotel.Setup(context.Background(), "worker")
	if err != nil {
		t.Fatalf("Setup: %v", err)
	}
	defer shutdown(context.Background())

	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	in := &nats.Msg{Subject: "svc.x", Header: nats.Header{"traceparent": {parent}}}
	ctx, span := sbotel.StartRequestSpan(context.Background(), in, "worker.x")
	defer span.End()
	if span.IsRecording() {
		t.Error("span is recording with tracing off")
	}
	if got := sbotel.TraceID(ctx); got != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("TraceID = %q, want the upstream trace", got)
	}
	out := &nats.Msg{Subject: "deliver.x"}
	sbotel.Inject(ctx, out)
	if got := out.Header.Get("traceparent"); got != parent {
		t.Errorf("forwarded traceparent = %q, want %q", got, parent)
	}
}
