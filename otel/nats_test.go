package otel_test

import (
	"context"
	"testing"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/trace"

	sbotel "github.com/switchboard-io/switchboard/otel"
)

func TestRequest_WorkerSpanIsChildOfEdgeSpan(t *testing.T) {
	exp := installRecorder(t)
	nc := startNATS(t)

	handled := make(chan trace.SpanContext, 1)
	_, err := nc.Subscribe("svc.echo", func(m *nats.Msg) {
		ctx, span := sbotel.StartRequestSpan(context.Background(), m, "worker.echo")
		handled <- trace.SpanContextFromContext(ctx)
		span.End()
		_ = m.Respond(m.Data)
	})
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	ctx, span := sbotel.StartClientSpan(ctx, "edge.echo")
	msg := nats.NewMsg("svc.echo")
	msg.Data = []byte("hi")
	sbotel.Inject(ctx, msg)
	if _, ok := msg.Header["traceparent"]; !ok {
		t.Fatalf("want lower-case traceparent header, got %v", msg.Header)
	}
	if _, err := nc.RequestMsgWithContext(ctx, msg); err != nil {
		t.Fatalf("request: %v", err)
	}
	span.End()
	waitFor(t, handled, "worker handler")

	edge := spanNamed(t, exp, "edge.echo")
	worker := spanNamed(t, exp, "worker.echo")
	if got, want := worker.Parent.SpanID(), edge.SpanContext.SpanID(); got != want {
		t.Errorf("worker parent span ID = %s, want edge span ID %s", got, want)
	}
	if got, want := worker.SpanContext.TraceID(), edge.SpanContext.TraceID(); got != want {
		t.Errorf("worker trace ID = %s, want %s", got, want)
	}
	if !worker.Parent.IsRemote() {
		t.Error("worker parent should be marked remote")
	}
	if !hasAttr(worker, "messaging.destination.name", "svc.echo") || !hasAttr(worker, "messaging.system", "nats") {
		t.Errorf("worker span attributes = %v, want messaging.system and destination", worker.Attributes)
	}
	if edge.SpanKind != trace.SpanKindClient || worker.SpanKind != trace.SpanKindServer {
		t.Errorf("kinds = %v/%v, want client/server", edge.SpanKind, worker.SpanKind)
	}
}

// A delivery published while the worker handles a request joins the same
// trace at the receiving edge: edge → worker → receiving edge.
func TestDelivery_ReceivingEdgeJoinsTrace(t *testing.T) {
	exp := installRecorder(t)
	nc := startNATS(t)

	delivered := make(chan struct{}, 1)
	_, err := nc.Subscribe("deliver.bob", func(m *nats.Msg) {
		_, span := sbotel.StartRequestSpan(context.Background(), m, "edge.deliver",
			trace.WithSpanKind(trace.SpanKindConsumer))
		span.End()
		delivered <- struct{}{}
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = nc.Subscribe("svc.send", func(m *nats.Msg) {
		ctx, span := sbotel.StartRequestSpan(context.Background(), m, "worker.send")
		out := nats.NewMsg("deliver.bob")
		sbotel.Inject(ctx, out)
		_ = nc.PublishMsg(out)
		span.End()
		_ = m.Respond(nil)
	})
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	ctx, span := sbotel.StartClientSpan(ctx, "edge.send")
	msg := nats.NewMsg("svc.send")
	sbotel.Inject(ctx, msg)
	if _, err := nc.RequestMsgWithContext(ctx, msg); err != nil {
		t.Fatalf("request: %v", err)
	}
	span.End()
	waitFor(t, delivered, "delivery")

	sender := spanNamed(t, exp, "edge.send")
	worker := spanNamed(t, exp, "worker.send")
	receiver := spanNamed(t, exp, "edge.deliver")
	if worker.Parent.SpanID() != sender.SpanContext.SpanID() {
		t.Error("worker span is not a child of the sending edge's span")
	}
	if receiver.Parent.SpanID() != worker.SpanContext.SpanID() {
		t.Error("receiving edge's span is not a child of the worker's span")
	}
	if receiver.SpanContext.TraceID() != sender.SpanContext.TraceID() {
		t.Error("receiving edge's span is in another trace")
	}
	if receiver.SpanKind != trace.SpanKindConsumer {
		t.Errorf("receiver kind = %v, want consumer", receiver.SpanKind)
	}
}

func TestExtract_FindsCanonicalisedTraceparent(t *testing.T) {
	installRecorder(t)
	ctx, span := sbotel.StartClientSpan(context.Background(), "edge.send")
	defer span.End()

	msg := nats.NewMsg("svc.x")
	sbotel.Inject(ctx, msg)
	// Rewrite the key as an HTTP-style client would send it.
	msg.Header["Traceparent"] = msg.Header["traceparent"]
	delete(msg.Header, "traceparent")

	got := trace.SpanContextFromContext(sbotel.Extract(context.Background(), msg))
	if !got.IsValid() || got.SpanID() != span.SpanContext().SpanID() {
		t.Fatalf("extracted %v, want span %s", got, span.SpanContext().SpanID())
	}
}

func TestInject_NoSpanAllocatesNothing(t *testing.T) {
	installRecorder(t)
	msg := &nats.Msg{Subject: "svc.x"} // NewMsg would make a header itself
	ctx := context.Background()
	if n := testing.AllocsPerRun(100, func() { sbotel.Inject(ctx, msg) }); n != 0 {
		t.Errorf("Inject without a span: %v allocs, want 0", n)
	}
	if msg.Header != nil {
		t.Errorf("Inject without a span made a header: %v", msg.Header)
	}
	if n := testing.AllocsPerRun(100, func() { sbotel.Extract(ctx, msg) }); n != 0 {
		t.Errorf("Extract without headers: %v allocs, want 0", n)
	}
}

func TestTraceID(t *testing.T) {
	installRecorder(t)
	if got := sbotel.TraceID(context.Background()); got != "" {
		t.Errorf("TraceID without a span = %q, want empty", got)
	}
	ctx, span := sbotel.StartClientSpan(context.Background(), "x")
	defer span.End()
	if got, want := sbotel.TraceID(ctx), span.SpanContext().TraceID().String(); got != want {
		t.Errorf("TraceID = %q, want %q", got, want)
	}
}

func BenchmarkInject_NoSpan(b *testing.B) {
	msg := &nats.Msg{Subject: "svc.x"}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		sbotel.Inject(ctx, msg)
	}
}

func BenchmarkInject_Span(b *testing.B) {
	installRecorder(b)
	ctx, span := sbotel.StartClientSpan(context.Background(), "bench")
	defer span.End()
	b.ReportAllocs()
	for b.Loop() {
		msg := &nats.Msg{Subject: "svc.x"}
		sbotel.Inject(ctx, msg)
	}
}
