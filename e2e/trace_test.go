package e2e_test

import (
	"testing"

	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
)

// One client request is one trace: the edge's span for the request is the
// parent of the worker's span that handled it.
func TestTracing_WorkerSpanIsChildOfEdgeSpan(t *testing.T) {
	spans := testenv.RecordSpans(t)

	env := testenv.Start(t, testenv.Options{})
	u := env.LoginUser(t, 0, "traced")
	u.QueryUserStatus("traced")
	u.Wait(t, protocol.EvQueryUserStatusResult)

	got := spans.Wait(t, "edge "+protocol.OpQueryUserStatus, "worker "+protocol.OpQueryUserStatus)
	edgeSpan, workerSpan := got["edge "+protocol.OpQueryUserStatus], got["worker "+protocol.OpQueryUserStatus]
	if workerSpan.SpanContext.TraceID() != edgeSpan.SpanContext.TraceID() {
		t.Fatalf("worker span in trace %s, edge span in %s", workerSpan.SpanContext.TraceID(), edgeSpan.SpanContext.TraceID())
	}
	if workerSpan.Parent.SpanID() != edgeSpan.SpanContext.SpanID() || !workerSpan.Parent.IsRemote() {
		t.Fatalf("worker span's parent = %s, want the edge span %s", workerSpan.Parent.SpanID(), edgeSpan.SpanContext.SpanID())
	}
}
