package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
)

// An API request is one trace with the caller's: the API's span continues
// the traceparent it was sent, the edge's call to the workers is its child,
// and the worker's span is the call's, as for a client's request.
func TestTracing_APIRequestIsOneTraceWithTheWorkers(t *testing.T) {
	spans := testenv.RecordSpans(t)

	env := startAPI(t, testenv.Options{})
	c := apiClient(env, 1)
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	req, err := http.NewRequest("POST", c.url("/online"), strings.NewReader(`{"accounts":["alice"]}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.secret)
	req.Header.Set("traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}

	got := spans.Wait(t, "api POST /online", "edge "+protocol.APIOnline, "worker "+protocol.APIOnline)
	apiSpan, edgeSpan, workerSpan := got["api POST /online"], got["edge "+protocol.APIOnline], got["worker "+protocol.APIOnline]
	for _, s := range []tracetest.SpanStub{apiSpan, edgeSpan, workerSpan} {
		if got := s.SpanContext.TraceID().String(); got != traceID {
			t.Errorf("%s in trace %s, want the caller's %s", s.Name, got, traceID)
		}
	}
	if edgeSpan.Parent.SpanID() != apiSpan.SpanContext.SpanID() {
		t.Errorf("edge span's parent %s, want the API span %s", edgeSpan.Parent.SpanID(), apiSpan.SpanContext.SpanID())
	}
	if workerSpan.Parent.SpanID() != edgeSpan.SpanContext.SpanID() {
		t.Errorf("worker span's parent %s, want the edge span %s", workerSpan.Parent.SpanID(), edgeSpan.SpanContext.SpanID())
	}
	if fmt.Sprint(apiSpan.Parent.SpanID()) != "00f067aa0ba902b7" {
		t.Errorf("API span's parent %s, want the caller's", apiSpan.Parent.SpanID())
	}
}
