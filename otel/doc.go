// Package otel is the one OpenTelemetry setup for both Switchboard binaries,
// the edge and the worker, and the only code that moves trace context in and
// out of NATS messages. Callers import it as sbotel.
//
// Tracing is off unless the standard OTEL_* environment variables turn it on
// (see [Setup] and docs/observability.md). When it is off the global no-op
// tracer provider stays in place and every helper here costs next to nothing,
// so callers use them unconditionally.
//
// Trace context rides in NATS message headers under the W3C names
// "traceparent", "tracestate" and "baggage", written in lower case exactly as
// the W3C spells them. nats.Header is case-sensitive, which is why this
// package has its own [HeaderCarrier] instead of propagation.HeaderCarrier:
// that one canonicalises keys to "Traceparent" and then misses the
// lower-case key. A request from the edge carries the edge span's context to
// the worker; the worker's handler span is its child and, when the worker
// publishes a delivery, the receiving edge's span is a child of the worker's,
// so one trace runs edge → worker → receiving edge.
//
// Spans belong on the per-request path, not the per-delivery path: [Inject]
// with a live span costs a few microseconds per message.
//
// This package imports only OpenTelemetry and nats.go; it must not import
// any other Switchboard package.
package otel
