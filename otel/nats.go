package otel

import (
	"context"

	"github.com/nats-io/nats.go"
	otelapi "go.opentelemetry.io/otel"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Inject writes the trace context of ctx into msg's headers with the global
// propagator, creating msg.Header if it is nil.
//
// When ctx carries no valid span context, as always when tracing is off,
// Inject returns at once and allocates nothing: no header map is made and
// nothing is written. Baggage therefore only travels alongside a trace.
func Inject(ctx context.Context, msg *nats.Msg) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return
	}
	if msg.Header == nil {
		msg.Header = nats.Header{}
	}
	otelapi.GetTextMapPropagator().Inject(ctx, HeaderCarrier(msg.Header))
}

// Extract returns ctx with the remote span context and baggage found in
// msg's headers, or ctx itself if msg has no headers.
func Extract(ctx context.Context, msg *nats.Msg) context.Context {
	if len(msg.Header) == 0 {
		return ctx
	}
	return otelapi.GetTextMapPropagator().Extract(ctx, HeaderCarrier(msg.Header))
}

// StartRequestSpan starts the span for handling msg on the consuming side:
// it extracts the sender's trace context from msg and starts a span named
// name as its child. The kind is Server, right for request/reply; pass
// trace.WithSpanKind(trace.SpanKindConsumer) for a one-way delivery. opts
// are applied after the defaults, so they win.
//
// The returned context carries the new span; pass it on, and to [Inject]
// for anything published while handling msg. The caller ends the span.
func StartRequestSpan(ctx context.Context, msg *nats.Msg, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	ctx = Extract(ctx, msg)
	ctx, span := Tracer().Start(ctx, name, withKind(trace.SpanKindServer, opts)...)
	if span.IsRecording() {
		span.SetAttributes(
			semconv.MessagingSystemKey.String("nats"),
			semconv.MessagingDestinationName(msg.Subject),
		)
	}
	return ctx, span
}

// StartClientSpan starts the span for sending a request on the producing
// side, of kind Client; pass trace.WithSpanKind(trace.SpanKindProducer) for
// a one-way publish. Call [Inject] with the returned context on the message
// before sending it. The caller ends the span.
func StartClientSpan(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	return Tracer().Start(ctx, name, withKind(trace.SpanKindClient, opts)...)
}

// TraceID returns the hex trace ID of the span in ctx, or "" if there is
// none. Logs carry it so an internal error can be found in the trace.
func TraceID(ctx context.Context) string {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.HasTraceID() {
		return ""
	}
	return sc.TraceID().String()
}

// withKind puts the default kind before the caller's options, so a kind the
// caller passes overrides it.
func withKind(kind trace.SpanKind, opts []trace.SpanStartOption) []trace.SpanStartOption {
	all := make([]trace.SpanStartOption, 0, len(opts)+1)
	all = append(all, trace.WithSpanKind(kind))
	return append(all, opts...)
}
