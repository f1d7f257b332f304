// Package handlers is the only place that decides what a request means. It
// holds the workers' handlers: each takes a protocol.Call and returns a
// protocol.Reply or an error of a protocol.Kind, and one adapter (Serve)
// turns that shape into a NATS queue-group subscriber.
//
// Handlers keep no state of their own: everything lives in JetStream KV
// through package kv, so any number of workers can run. Handlers must not
// import the edge or the SDK.
package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/switchboard-io/switchboard/apps"
	"github.com/switchboard-io/switchboard/kv"
	"github.com/switchboard-io/switchboard/metrics"
	sbotel "github.com/switchboard-io/switchboard/otel"
	"github.com/switchboard-io/switchboard/protocol"
	"github.com/switchboard-io/switchboard/subjects"
	"github.com/switchboard-io/switchboard/webhooks"
)

// Handler is the one shape of every request handler.
type Handler func(ctx context.Context, c *protocol.Call) (*protocol.Reply, error)

// Apps finds a configured app.
type Apps interface {
	Lookup(id string) (apps.App, bool)
}

// Publisher sends events to user and channel subjects.
type Publisher interface {
	PublishMsg(m *nats.Msg) error
}

// Config holds the workers' tunables.
type Config struct {
	// SessionTTL is how long a session record outlives its edge's last
	// refresh.
	SessionTTL time.Duration
	// ConnTimeout is the default _conn_timeout, in seconds.
	ConnTimeout int
	// RequestTimeout bounds the handling of one request.
	RequestTimeout time.Duration
	// Concurrency bounds the requests one worker handles at once.
	Concurrency int

	// Invitations (handlers/invites.go, docs/invitations.md); zero means
	// the default.
	//
	// InviteOfflineWait is how long an invitation to an offline callee
	// waits for it to log in before the caller gets 703.
	InviteOfflineWait time.Duration
	// InviteRingTimeout is how long a delivered invitation waits for an
	// answer before the caller gets 704.
	InviteRingTimeout time.Duration
	// CallTTL is how long an accepted call is remembered so that either
	// side can end it.
	CallTTL time.Duration
}

// DefaultConfig is the configuration of a production worker.
func DefaultConfig() Config {
	return Config{
		SessionTTL:     60 * time.Second,
		ConnTimeout:    120,
		RequestTimeout: 30 * time.Second, // no shorter than the edges' MembershipTimeout
		Concurrency:    512,

		InviteOfflineWait: DefaultInviteOfflineWait,
		InviteRingTimeout: DefaultInviteRingTimeout,
		CallTTL:           DefaultCallTTL,
	}
}

// Service is a worker's set of handlers and their dependencies.
type Service struct {
	Store *kv.Store
	Bus   Publisher
	Apps  Apps
	Cfg   Config
	Log   *slog.Logger
	Now   func() time.Time
	// Metrics, when set, count requests by operation and result.
	Metrics *metrics.Metrics
	// Events, when set, records logins, logouts, joins and leaves for the
	// apps' webhooks (webhooks.go).
	Events *webhooks.Emitter

	handlers map[string]Handler
	// members batches the member list writes of each channel (channels.go).
	members *memberBatcher
}

// New returns a Service with every handler registered.
func New(store *kv.Store, bus Publisher, registry Apps, cfg Config, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	s := &Service{Store: store, Bus: bus, Apps: registry, Cfg: cfg, Log: log, Now: time.Now}
	s.handlers = map[string]Handler{
		protocol.OpLogin:           s.login,
		protocol.OpLogin2:          s.login,
		protocol.OpLogout:          s.logout,
		protocol.OpQueryUserStatus: s.queryUserStatus,
		protocol.OpResume:          s.resume,
	}
	s.registerChannels()
	s.registerUsers()
	s.registerInvites()
	s.registerServerAPI()
	return s
}

// Handle runs the handler of c's operation. It refuses a call whose app ID
// is not one a client may send (protocol.ValidAppID) before anything else,
// whatever the edge checked: every subject and key a handler builds starts
// with the app ID, and only a valid one keeps them within NATS's limits.
func (s *Service) Handle(ctx context.Context, c *protocol.Call) (*protocol.Reply, error) {
	if !protocol.ValidAppID(c.App) {
		return nil, protocol.Errorf(protocol.KindInvalid, "appId must be 1 to %d visible ASCII characters", protocol.MaxAppIDBytes)
	}
	h, ok := s.handlers[c.Req.Op]
	if !ok {
		return nil, protocol.Errorf(protocol.KindInvalid, "unknown operation %q", c.Req.Op)
	}
	if c.Account == "" && c.Req.Op != protocol.OpLogin && c.Req.Op != protocol.OpLogin2 {
		return nil, protocol.ErrNotLoggedIn
	}
	if err := protocol.Validate(&c.Req); err != nil {
		return nil, err
	}
	return h(ctx, c)
}

// Serve subscribes the service to every app's requests in the workers' queue
// group and handles them, at most Cfg.Concurrency at once, until ctx ends.
func (s *Service) Serve(ctx context.Context, nc *nats.Conn) error {
	limit := s.Cfg.Concurrency
	if limit <= 0 {
		limit = 512
	}
	sem := make(chan struct{}, limit)
	sub, err := nc.QueueSubscribe(subjects.ReqAll, subjects.Queue, func(m *nats.Msg) {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			s.serveOne(ctx, m)
		}()
	})
	if err != nil {
		return err
	}
	// Let the server hold many requests for a slow worker rather than drop
	// them; the edge's own timeout bounds the wait.
	_ = sub.SetPendingLimits(-1, 256<<20)
	if err := s.Store.WatchExpiredSessions(ctx, s.sessionExpired); err != nil {
		_ = sub.Unsubscribe()
		return err
	}
	if err := s.Store.WatchDeadEdges(ctx, s.edgeDied); err != nil {
		_ = sub.Unsubscribe()
		return err
	}
	// Invitation timers (issue 4): every worker watches them; see invites.go.
	if err := s.watchInvites(ctx); err != nil {
		_ = sub.Unsubscribe()
		return err
	}
	go func() {
		<-ctx.Done()
		_ = sub.Drain()
	}()
	return nil
}

// serveOne is the adapter: decode, extract the trace, apply a deadline, call,
// reply.
func (s *Service) serveOne(ctx context.Context, m *nats.Msg) {
	ctx, span := sbotel.StartRequestSpan(ctx, m, "worker "+m.Subject[lastDot(m.Subject)+1:])
	defer span.End()
	ctx, cancel := context.WithTimeout(ctx, s.Cfg.RequestTimeout)
	defer cancel()
	start := time.Now()

	var c protocol.Call
	var reply *protocol.Reply
	err := json.Unmarshal(m.Data, &c)
	if err == nil {
		reply, err = s.Handle(ctx, &c)
	} else {
		err = protocol.Errorf(protocol.KindInvalid, "malformed call")
	}
	if reply == nil {
		reply = &protocol.Reply{}
	}
	result := metrics.ResultOK
	if err != nil {
		e := protocol.AsError(err)
		result = metrics.ResultError
		if e.Kind == protocol.KindInternal || e.Kind == protocol.KindTimeout {
			result = metrics.ResultFault
		}
		if e == protocol.ErrInternal && !errors.Is(err, protocol.ErrInternal) {
			s.Log.Error("request failed", "op", c.Req.Op, "app", c.App, "trace", sbotel.TraceID(ctx), "err", err)
			if !errors.Is(err, context.DeadlineExceeded) {
				s.Metrics.KVError()
			}
		}
		reply.Err = e
		reply.Events = nil
	}
	op := c.Req.Op
	if _, ok := s.handlers[op]; !ok {
		op = "unknown"
	}
	s.Metrics.Request("worker", op, result, time.Since(start))
	if m.Reply == "" {
		return
	}
	data, _ := json.Marshal(reply)
	if err := m.Respond(data); err != nil {
		s.Log.Warn("reply failed", "op", c.Req.Op, "err", err)
	}
}

func lastDot(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '.' {
			return i
		}
	}
	return -1
}

// publish sends an event frame to subject with optional headers in pairs
// (name, value).
func (s *Service) publish(ctx context.Context, subject string, ev protocol.Event, hdr ...string) error {
	data, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	m := &nats.Msg{Subject: subject, Data: data}
	if len(hdr) > 0 {
		m.Header = nats.Header{}
		for i := 0; i+1 < len(hdr); i += 2 {
			m.Header[hdr[i]] = []string{hdr[i+1]}
		}
	}
	sbotel.Inject(ctx, m)
	return s.Bus.PublishMsg(m)
}
