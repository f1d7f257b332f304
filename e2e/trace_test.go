package e2e_test

import (
	"fmt"
	"testing"

	otelapi "go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/switchboard-io/switchboard/internal/testenv"
	sbotel "github.com/switchboard-io/switchboard/otel"
	"github.com/switchboard-io/switchboard/protocol"
)

// One client request is one trace: the edge's span for the request is the
// parent of the worker's span that handled it.
func TestTracing_WorkerSpanIsChildOfEdgeSpan(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	prev := otelapi.GetTracerProvider()
	sbotel.Install(tp)
	t.Cleanup(func() { sbotel.Install(prev); _ = tp.Shutdown(t.Context()) })

	env := testenv.Start(t, testenv.Options{})
	u := env.LoginUser(t, 0, "traced")
	u.QueryUserStatus("traced")
	u.Wait(t, protocol.EvQueryUserStatusResult)

	// The worker's span ends after its reply is sent, so it may be
	// exported after the client has the answer: wait for both.
	var edgeSpan, workerSpan tracetest.SpanStub
	eventually(t, func() (bool, string) {
		for _, s := range exp.GetSpans() {
			switch s.Name {
			case "edge " + protocol.OpQueryUserStatus:
				edgeSpan = s
			case "worker " + protocol.OpQueryUserStatus:
				workerSpan = s
			}
		}
		ok := edgeSpan.SpanContext.IsValid() && workerSpan.SpanContext.IsValid()
		return ok, fmt.Sprintf("missing spans; recorded: %v", names(exp.GetSpans()))
	})
	if workerSpan.SpanContext.TraceID() != edgeSpan.SpanContext.TraceID() {
		t.Fatalf("worker span in trace %s, edge span in %s", workerSpan.SpanContext.TraceID(), edgeSpan.SpanContext.TraceID())
	}
	if workerSpan.Parent.SpanID() != edgeSpan.SpanContext.SpanID() || !workerSpan.Parent.IsRemote() {
		t.Fatalf("worker span's parent = %s, want the edge span %s", workerSpan.Parent.SpanID(), edgeSpan.SpanContext.SpanID())
	}
}

func names(spans tracetest.SpanStubs) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}
