// Package api is Switchboard's HTTP server API (docs/server-api.md,
// docs/api/openapi.yaml): JSON over HTTP on an edge's own listener, with
// which an app's backend sends messages, reads presence, members and
// attributes, writes attributes, kicks users and issues tokens.
//
// It decides nothing about what a request means: it checks the caller (the
// app's API secret), the names and the sizes, and hands the request to the
// workers or the edge through the same subjects and handlers a client's
// request takes. It imports edge only through the small Edge interface, and
// never imports handlers or kv.
package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/switchboard-io/switchboard/apps"
	sbotel "github.com/switchboard-io/switchboard/otel"
	"github.com/switchboard-io/switchboard/protocol"
)

// SystemAccount is the account the API acts as when a request names no
// sender: a peer message from it arrives as onMessageInstantReceive with
// this account, and its channel messages as onMessageChannelReceive with
// it. No client can log in as it through the API's tokens (TokenEndpoint
// refuses it); apps that issue their own tokens should refuse it too.
const SystemAccount = "_system"

// MaxBody is the largest request body, as large as the largest WebSocket
// frame an edge reads (64 KiB); a larger one gets 413.
const MaxBody = 64 << 10

// DefaultRate is how many requests per second one app may make to one
// edge's API when Config.Rate is unset.
const DefaultRate = 1000

// DefaultPage is the members page size when a request names none.
const DefaultPage = 100

// Edge is what the API needs of the edge it runs beside (edge.Server).
type Edge interface {
	// CallWorkers sends a call to the workers and waits for their reply.
	CallWorkers(ctx context.Context, c *protocol.Call) (*protocol.Reply, error)
	// SendPeer sends a peer message and waits until the receiving client
	// acknowledged it (nil), or fails with KindNotFound when offline.
	SendPeer(ctx context.Context, app, from, to, msg string) error
	// SendChannel sends a channel message without joining and waits until
	// NATS passed it on.
	SendChannel(ctx context.Context, app, from, channel, msg string) error
}

// Apps finds a configured app.
type Apps interface {
	Lookup(id string) (apps.App, bool)
}

// WebhookTester publishes a test event to an app's webhook receivers
// (sbctl webhook test). It returns the event's ID, or ErrNoWebhooks when
// the app has none.
type WebhookTester interface {
	Test(ctx context.Context, appID string) (eventID string, err error)
}

// ErrNoWebhooks is what a WebhookTester returns for an app with no
// webhooks; the API answers it with 404.
var ErrNoWebhooks = errors.New("webhooks are not configured for this app")

// Config holds the API's dependencies and limits.
type Config struct {
	Edge Edge
	Apps Apps
	// Webhooks, when set, answers POST …/webhooks/test; nil answers 404.
	Webhooks WebhookTester
	// Rate is how many requests per second one app may make here
	// (DefaultRate when zero).
	Rate int
	// UserRate is how many messages per second one sending account may
	// send here, as a client may (60, edge.Config.UserRate).
	UserRate int
	Log      *slog.Logger
	// Now is the clock of issued tokens (time.Now when nil).
	Now func() time.Time
}

// Server serves the API.
type Server struct {
	cfg      Config
	appRate  limiter
	userRate limiter
	mux      *http.ServeMux
}

// New returns the API over cfg's edge and apps.
func New(cfg Config) *Server {
	if cfg.Rate <= 0 {
		cfg.Rate = DefaultRate
	}
	if cfg.UserRate <= 0 {
		cfg.UserRate = 60
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux()}
	for _, r := range s.routes() {
		s.mux.Handle(r.method+" "+r.path, s.wrap(r))
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusNotFound, errorBody{Error: "no such endpoint; see docs/server-api.md"})
	})
	return s
}

// Handler serves every route.
func (s *Server) Handler() http.Handler { return s.mux }

// Prefix is where every route of an app begins.
const Prefix = "/api/v1/apps/{appId}"

// route is one endpoint: its method, path pattern (net/http ServeMux),
// the client operation whose codes its errors report, and its handler.
type route struct {
	method, path string
	op           string
	h            func(ctx context.Context, rq *request) (any, error)
}

// Routes lists every route as "METHOD /path", for the OpenAPI test.
func Routes() []string {
	var out []string
	for _, r := range (&Server{}).routes() {
		out = append(out, r.method+" "+r.path)
	}
	return out
}

// request is what a handler gets: the app, the path's values and the body.
type request struct {
	app  apps.App
	http *http.Request
	w    http.ResponseWriter
}

func (rq *request) path(name string) string { return rq.http.PathValue(name) }

// wrap authenticates, rate-limits, traces and answers one route.
func (s *Server) wrap(rt route) http.Handler {
	name := "api " + rt.method + " " + strings.TrimPrefix(rt.path, Prefix)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := sbotel.Propagator().Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := sbotel.Tracer().Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer))
		defer span.End()
		app, ok := s.authenticate(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="switchboard"`)
			writeJSON(w, http.StatusUnauthorized, errorBody{Error: "missing or wrong API secret for this app"})
			return
		}
		if !s.appRate.allow("app\x00"+app.ID, s.cfg.Rate) {
			s.fail(ctx, w, rt.op, protocol.Errorf(protocol.KindRateLimited, "over %d API requests per second for this app", s.cfg.Rate))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
		out, err := rt.h(ctx, &request{app: app, http: r, w: w})
		if err != nil {
			s.fail(ctx, w, rt.op, err)
			return
		}
		writeJSON(w, http.StatusOK, out)
	})
}

// authenticate finds the app of the path and checks the bearer secret in
// constant time. An unknown app, an app without a secret, and a wrong or
// missing secret all fail alike, and take alike: the comparison is of
// SHA-256 digests, so it costs the same whatever the lengths.
func (s *Server) authenticate(r *http.Request) (apps.App, bool) {
	got, hasBearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	app, known := s.cfg.Apps.Lookup(r.PathValue("appId"))
	want := app.APISecret
	if !known || want == "" {
		want = "\x00no secret matches this\x00"
	}
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	match := subtle.ConstantTimeCompare(a[:], b[:]) == 1
	return app, match && hasBearer && known && app.APISecret != ""
}

// errorBody is every error's JSON: the API code where one fits, and what
// went wrong.
type errorBody struct {
	Code  int    `json:"code,omitempty"`
	Error string `json:"error"`
}

// fail answers err: a *protocol.Error with its status and code, anything
// else as a generic 500 whose detail goes only to the log.
func (s *Server) fail(ctx context.Context, w http.ResponseWriter, op string, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		err = protocol.Errorf(protocol.KindTooLarge, "the request body is over %d bytes", MaxBody)
	}
	if errors.Is(err, context.Canceled) {
		return // the caller went away
	}
	e := protocol.AsError(err)
	status := statusOf(e.Kind)
	body := errorBody{Code: protocol.CodeFor(op, e), Error: e.Msg}
	switch e.Kind {
	case protocol.KindInternal, protocol.KindNotLoggedIn:
		s.cfg.Log.Error("server API request failed", "trace", sbotel.TraceID(ctx), "err", err)
		body = errorBody{Error: "internal error"}
	case protocol.KindUnavailable:
		s.cfg.Log.Warn("server API request failed", "trace", sbotel.TraceID(ctx), "err", err)
		body = errorBody{Error: "the service is unavailable; try again"}
	case protocol.KindTimeout:
		if e == protocol.ErrTimeout {
			body.Error = "no answer in time; try again"
		}
	}
	writeJSON(w, status, body)
}

// statusOf is the HTTP status of an error kind.
func statusOf(k protocol.Kind) int {
	switch k {
	case protocol.KindInvalid:
		return http.StatusBadRequest
	case protocol.KindTooLarge:
		return http.StatusRequestEntityTooLarge
	case protocol.KindNotFound:
		return http.StatusNotFound
	case protocol.KindConflict:
		return http.StatusConflict
	case protocol.KindRateLimited:
		return http.StatusTooManyRequests
	case protocol.KindUnavailable:
		return http.StatusServiceUnavailable
	case protocol.KindTimeout:
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
