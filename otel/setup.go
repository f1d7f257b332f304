package otel

import (
	"context"
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/contrib/exporters/autoexport"
	otelapi "go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// InstrumentationName names the tracer every Switchboard span comes from.
const InstrumentationName = "github.com/switchboard-io/switchboard"

// The standard variables that decide whether traces are exported at all.
const (
	envTracesExporter = "OTEL_TRACES_EXPORTER"
	envEndpoint       = "OTEL_EXPORTER_OTLP_ENDPOINT"
	envTracesEndpoint = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	envSDKDisabled    = "OTEL_SDK_DISABLED"
)

// Setup installs the W3C TraceContext and Baggage propagator globally and,
// when the environment asks for it, a batching SDK tracer provider whose
// exporter autoexport builds from the same environment. service is the
// service.name resource attribute unless OTEL_SERVICE_NAME (or service.name
// in OTEL_RESOURCE_ATTRIBUTES) overrides it.
//
// Tracing is off, and the global no-op tracer provider is left in place,
// when none of OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_ENDPOINT and
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set, when OTEL_TRACES_EXPORTER is
// "none", or when OTEL_SDK_DISABLED is "true". We check this ourselves
// because autoexport on its own falls back to OTLP towards localhost.
//
// shutdown flushes buffered spans and stops the exporter; it is never nil,
// even when err is not nil, so callers can always defer it.
func Setup(ctx context.Context, service string) (shutdown func(context.Context) error, err error) {
	otelapi.SetTextMapPropagator(Propagator())
	if !exportRequested() {
		return noopShutdown, nil
	}

	exp, err := autoexport.NewSpanExporter(ctx)
	if err != nil {
		return noopShutdown, fmt.Errorf("otel: span exporter: %w", err)
	}
	if autoexport.IsNoneSpanExporter(exp) {
		return noopShutdown, nil
	}
	res, err := newResource(ctx, service)
	if err != nil {
		_ = exp.Shutdown(ctx)
		return noopShutdown, fmt.Errorf("otel: resource: %w", err)
	}

	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(res),
	)
	otelapi.SetTracerProvider(tp)
	return tp.Shutdown, nil
}

// Install makes tp the global tracer provider and installs the same
// propagator as [Setup]. Tests use it to put an in-memory provider in place;
// the caller owns tp and shuts it down.
func Install(tp trace.TracerProvider) {
	otelapi.SetTextMapPropagator(Propagator())
	otelapi.SetTracerProvider(tp)
}

// Propagator returns the propagator Switchboard uses on the wire: W3C
// TraceContext ("traceparent", "tracestate") and W3C Baggage ("baggage").
func Propagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
}

// Tracer returns the Switchboard tracer from the current global provider.
// It is looked up on every call rather than cached, so that a provider set
// after package init (by Setup, or Install in tests) is the one used.
func Tracer() trace.Tracer {
	return otelapi.GetTracerProvider().Tracer(InstrumentationName)
}

func noopShutdown(context.Context) error { return nil }

// exportRequested reports whether the environment asks for traces to be
// exported. An empty variable counts as unset, as it does in autoexport.
func exportRequested() bool {
	if strings.EqualFold(strings.TrimSpace(os.Getenv(envSDKDisabled)), "true") {
		return false
	}
	switch os.Getenv(envTracesExporter) {
	case "none":
		return false
	case "":
		return os.Getenv(envEndpoint) != "" || os.Getenv(envTracesEndpoint) != ""
	default:
		return true
	}
}

// newResource describes this process. Later detectors override earlier
// ones, so OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES beat the service
// argument, as the specification asks.
func newResource(ctx context.Context, service string) (*resource.Resource, error) {
	return resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName(service)),
		resource.WithTelemetrySDK(),
		resource.WithHost(),
		resource.WithFromEnv(),
	)
}
