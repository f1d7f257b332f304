// Package edge terminates client WebSockets. It checks every frame (size,
// names, rate limits), answers what needs no shared state, publishes every
// other request onto NATS for the workers, and turns what arrives on the user
// and channel subjects of its sessions into callbacks on the right sockets.
//
// An edge holds no state that must survive it: sessions that lose their
// connection wait here for a resume, and everything shared lives in
// JetStream KV behind the workers. Package edge must not import handlers.
package edge

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/nats-io/nats.go"

	"github.com/switchboard-io/switchboard/kv"
	"github.com/switchboard-io/switchboard/metrics"
	"github.com/switchboard-io/switchboard/protocol"
	"github.com/switchboard-io/switchboard/subjects"
)

// Config holds an edge's tunables.
type Config struct {
	// ID names this edge instance; a random one when empty.
	ID string
	// Path is the WebSocket endpoint.
	Path string
	// Ping is the keep-alive interval.
	Ping time.Duration
	// RequestTimeout bounds a worker call.
	RequestTimeout time.Duration
	// MembershipTimeout bounds the wait for the workers' answer to a login,
	// a channel join or leave, a logout, and the undoing of a failed join.
	// It is longer than RequestTimeout because these are what a busy
	// machine makes slowest and what a false failure costs most (a join to
	// take back, a login to redo). The workers' RequestTimeout must be no
	// shorter (docs/channels.md).
	MembershipTimeout time.Duration
	// MessageTimeout bounds how long a peer message waits for the receiver's
	// acknowledgement, and a channel message for its return while nothing
	// of its channel waits on this edge (chansend.go).
	MessageTimeout time.Duration
	// ShedBacklog and ShedBacklogBytes are how much of a channel may wait
	// on this edge, arrived from NATS but not yet handed to its members,
	// before the edge refuses its members' new messages to that channel at
	// once (400, "overloaded") rather than publish what it cannot keep up
	// with (docs/channels.md).
	ShedBacklog      int
	ShedBacklogBytes int
	// ChannelHook, when set, runs before the edge handles each arrival on
	// a channel's subscription, on that subscription's goroutine. Tests
	// block it to make a backlog; production leaves it nil.
	ChannelHook func(app, channel string)
	// LoginHook, when set, runs after the workers answered a login and
	// before its session is attached to the connection. Tests block it to
	// end a session in that moment; production leaves it nil.
	LoginHook func(app, account string)
	// SessionTTL is the TTL of session records; the edge refreshes them every
	// third of it.
	SessionTTL time.Duration
	// ConnTimeout is the default _conn_timeout in seconds, used when a
	// worker's login reply names none.
	ConnTimeout int
	// SendQueue is how many frames may wait for a slow socket before the
	// edge disconnects it.
	SendQueue int
	// ReplayFrames is how many unacknowledged frames a session keeps for a
	// resume.
	ReplayFrames int
	// UserRate is how many messages one user may send per second.
	UserRate int
	// LeaseTTL is how long this edge is taken for alive after its last
	// lease renewal (every third of it); its sessions then wait
	// _conn_timeout for their clients on other edges.
	LeaseTTL time.Duration
	// DrainTimeout bounds how long a shutdown waits for clients to move to
	// other edges.
	DrainTimeout time.Duration
	// Alone says that no other edge can exist (the embedded default): a
	// shutdown closes every connection at once with 1001 (going away)
	// instead of asking clients to move and waiting for them.
	Alone bool
	// ChannelRate is how many messages a channel carries per second when
	// its _sendmsg_limit is unset.
	ChannelRate int
	// ObserveLinger is how long an edge keeps following a channel it has
	// no member of after one of its users sent to it with
	// messageChannelSendForce, to count the channel's rate.
	ObserveLinger time.Duration
	// AllowedOrigins are the browser origins (scheme://host[:port]) whose
	// pages may open a WebSocket here; AnyOrigin ("*") allows any. Empty
	// allows pages of the edge's own host only (the Origin's host equals
	// the request's Host). A handshake without Origin is not a browser's
	// and is always allowed. Others get HTTP 403.
	AllowedOrigins []string
	// LoginTimeout is how long a connection may stay without a session,
	// from its handshake or its last logout, before it is closed with
	// protocol.CloseLoginTimeout.
	LoginTimeout time.Duration
	// MaxConnsPerAddr caps the connections from one source IP address (the
	// TCP peer's, never X-Forwarded-For); the next gets HTTP 429. Zero is
	// DefaultMaxConnsPerAddr; negative is no cap.
	MaxConnsPerAddr int
	// WriteCoalesce is the time between two socket writes of channel
	// frames to one client, each client on its own phase of it, and never
	// less than half of it: the channel frames that arrive meanwhile go out
	// together (pace.go). Zero writes them as they come.
	WriteCoalesce time.Duration
	// SDK serves the browser SDK at /sdk/ (static.go); DefaultConfig sets it.
	SDK bool
	// Routes are further pages served beside the WebSocket endpoint (the
	// demo); none may claim Path, /healthz, /readyz or /sdk/.
	Routes []Route
}

// DefaultConfig is the configuration of a production edge.
func DefaultConfig() Config {
	return Config{
		Path:           "/ws",
		Ping:           10 * time.Second,
		RequestTimeout: 5 * time.Second,
		MessageTimeout: 10 * time.Second,
		SessionTTL:     60 * time.Second,
		ConnTimeout:    120,
		SendQueue:      4096,
		ReplayFrames:   8192,
		UserRate:       60,
		LeaseTTL:       3 * time.Second,
		DrainTimeout:   20 * time.Second,
		ChannelRate:    200,
		ObserveLinger:  10 * time.Second,

		// A member that gets channel messages faster than one per 20 ms
		// gets them in writes 20 ms apart: a client's read then takes
		// several, and the edge's and the client's CPU per delivery fall
		// by half at 200 messages a second (docs/benchmarks.md).
		WriteCoalesce: 20 * time.Millisecond,

		// At 1,000 members an edge hands out about a thousand messages a
		// second, so this is about a second's backlog there; its bytes
		// stay well under the subscription's 64 MiB buffer.
		ShedBacklog:      1024,
		ShedBacklogBytes: 8 << 20,

		// A join or login that takes this long has almost surely been
		// lost with a worker that died; a slower one is still worth the
		// wait.
		MembershipTimeout: 30 * time.Second,

		// AllowedOrigins nil: same host only.
		LoginTimeout:    DefaultLoginTimeout,
		MaxConnsPerAddr: DefaultMaxConnsPerAddr,
		SDK:             true,
	}
}

// Server is one edge.
type Server struct {
	cfg   Config
	nc    *nats.Conn
	store *kv.Store
	log   *slog.Logger

	upgrader websocket.Upgrader
	adm      admission // connections per source address (handshake.go)

	mu        sync.Mutex
	users     map[userKey]*userEntry
	sessions  map[string]*session
	moved     map[userKey]movedSession // sessions that moved away a moment ago
	chanSends chanSends                // channel messages waiting to come back
	conns     map[*conn]struct{}
	closing   bool

	// Metrics, when set before Serve, count connections, sessions,
	// requests and deliveries.
	Metrics *metrics.Metrics

	peers      *peerSender
	pacer      *pacer // starts the writers of channel frames (pace.go)
	userShards [userShards]chan *nats.Msg
	handlers   map[string]localHandler

	// chans are the channels this edge follows: those with a local member
	// (or one joining), and those a local user sent to without joining.
	chMu  sync.Mutex
	chans map[chanKey]*channel
	auto  autoSchedule // the _auto_update_num pushes of every channel here

	slowConsumers atomic.Uint64 // connections closed for overflowing their queue
	panics        atomic.Uint64 // panics recovered in request handling (panic.go)

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type userKey struct{ app, account string }

// userEntry is one account's subscription on this edge and its sessions here
// (normally one; two for a moment while a login kicks another on this edge).
type userEntry struct {
	sub      *nats.Subscription
	sessions []*session
}

// New returns an edge that talks to the workers over nc and refreshes its
// sessions in store.
func New(nc *nats.Conn, store *kv.Store, cfg Config, log *slog.Logger) (*Server, error) {
	def := DefaultConfig()
	if cfg.Path == "" {
		cfg.Path = def.Path
	}
	if cfg.Ping <= 0 {
		cfg.Ping = def.Ping
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = def.RequestTimeout
	}
	if cfg.MessageTimeout <= 0 {
		cfg.MessageTimeout = def.MessageTimeout
	}
	if cfg.ShedBacklog <= 0 {
		cfg.ShedBacklog = def.ShedBacklog
	}
	if cfg.ShedBacklogBytes <= 0 {
		cfg.ShedBacklogBytes = def.ShedBacklogBytes
	}
	if cfg.MembershipTimeout <= 0 {
		cfg.MembershipTimeout = def.MembershipTimeout
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = def.SessionTTL
	}
	if cfg.ConnTimeout <= 0 {
		cfg.ConnTimeout = def.ConnTimeout
	}
	if cfg.SendQueue <= 0 {
		cfg.SendQueue = def.SendQueue
	}
	if cfg.ReplayFrames <= 0 {
		cfg.ReplayFrames = def.ReplayFrames
	}
	if cfg.UserRate <= 0 {
		cfg.UserRate = def.UserRate
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = def.LeaseTTL
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = def.DrainTimeout
	}
	if cfg.ChannelRate <= 0 {
		cfg.ChannelRate = def.ChannelRate
	}
	if cfg.ObserveLinger <= 0 {
		cfg.ObserveLinger = def.ObserveLinger
	}
	if cfg.LoginTimeout <= 0 {
		cfg.LoginTimeout = def.LoginTimeout
	}
	if cfg.MaxConnsPerAddr == 0 {
		cfg.MaxConnsPerAddr = def.MaxConnsPerAddr
	}
	if cfg.ID == "" {
		cfg.ID = "edge-" + randomID(6)
	}
	if log == nil {
		log = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		cfg:      cfg,
		nc:       nc,
		store:    store,
		log:      log.With("edge", cfg.ID),
		users:    map[userKey]*userEntry{},
		sessions: map[string]*session{},
		conns:    map[*conn]struct{}{},
		chans:    map[chanKey]*channel{},
		ctx:      ctx,
		cancel:   cancel,
		pacer:    newPacer(cfg.WriteCoalesce),
	}
	s.upgrader = websocket.Upgrader{
		// A small read buffer of its own, rather than the HTTP server's
		// 4 KB one: an idle connection keeps its read buffer for life.
		// Larger frames are read through it. Write buffers are taken from a
		// pool while a frame is written: an idle connection holds none.
		ReadBufferSize:  512,
		WriteBufferSize: 4096,
		WriteBufferPool: &sync.Pool{},
		Subprotocols:    []string{protocol.Subprotocol},
		// serveWS has checked the origin (Config.AllowedOrigins).
		CheckOrigin: func(*http.Request) bool { return true },
	}
	s.startUserShards()
	s.handlers = map[string]localHandler{}
	s.registerChannels()
	peers, err := newPeerSender(s)
	if err != nil {
		cancel()
		return nil, err
	}
	s.peers = peers
	s.wg.Add(4)
	go s.refreshLoop()
	go s.leaseLoop()
	go func() {
		defer s.wg.Done()
		s.pacer.run(s.ctx.Done())
	}()
	go func() {
		defer s.wg.Done()
		s.peers.sweep(s.ctx.Done())
	}()
	return s, nil
}

// ID is this edge's instance ID.
func (s *Server) ID() string { return s.cfg.ID }

// Handler serves the WebSocket endpoint, the health endpoints, the browser
// SDK and the configured Routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(s.cfg.Path, s.serveWS)
	mux.Handle("/healthz", NewHealth(s.nc)) // health.go
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		closing := s.closing
		s.mu.Unlock()
		if closing || s.nc.Status() != nats.CONNECTED {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	s.mountStatic(mux) // static.go
	return mux
}

// Serve accepts connections on l until Shutdown.
func (s *Server) Serve(l net.Listener) error {
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-s.ctx.Done()
		_ = hs.Close()
	}()
	err := hs.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting, closes every connection and stops the edge's
// background work. Sessions stay in KV until their TTL, so that their
// clients may resume elsewhere.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	// Ask the clients to move to other edges and wait for them (unless
	// there is none), then let the workers know that what is left here
	// waits for its clients.
	if !s.cfg.Alone {
		dctx, cancel := context.WithTimeout(ctx, s.cfg.DrainTimeout)
		s.drain(dctx)
		cancel()
	}
	lctx, cancel := context.WithTimeout(context.Background(), s.cfg.RequestTimeout)
	_ = s.store.DropEdge(lctx, s.cfg.ID)
	cancel()
	s.mu.Lock()
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.closeWith(websocket.CloseGoingAway, "server shutting down")
	}
	// The writers send the close frames and close the sockets: wait for
	// them (each takes at most two closeGraces), or a process that exits
	// right after Shutdown can lose a close frame on a busy machine, and
	// its client sees 1006 instead of 1001.
	wctx, wcancel := context.WithTimeout(ctx, 3*closeGrace)
	for _, c := range conns {
		select {
		case <-c.sockDone:
		case <-wctx.Done():
		}
	}
	wcancel()
	s.cancel()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.peers.close()
	return nil
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	if !websocket.IsWebSocketUpgrade(r) {
		notWebSocket(w)
		return
	}
	if offered := websocket.Subprotocols(r); len(offered) > 0 && !contains(offered, protocol.Subprotocol) {
		http.Error(w, "unsupported protocol version; this edge speaks "+protocol.Subprotocol, http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	closing := s.closing
	s.mu.Unlock()
	if closing {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	ip := peerIP(r)
	if !s.originAllowed(r) {
		s.refuseOrigin(w, r, ip)
		return
	}
	if !s.adm.admit(ip, s.cfg.MaxConnsPerAddr) {
		s.refuseAddr(w, r, ip)
		return
	}
	bw := &batchWriter{ResponseWriter: w}
	ws, err := s.upgrader.Upgrade(bw, r, nil)
	if err != nil {
		s.adm.release(ip)
		return // the upgrader has answered
	}
	c := newConn(s, ws)
	c.bc = bw.conn
	c.addr = r.RemoteAddr
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.Metrics.Connection(1)
	s.mu.Unlock()
	// The connection's reader is a goroutine of its own, started with a
	// small stack: the HTTP server's goroutine, with its deeper stack and
	// its buffers, ends here.
	go func() {
		c.run()
		s.mu.Lock()
		delete(s.conns, c)
		s.Metrics.Connection(-1)
		s.mu.Unlock()
		s.adm.release(ip)
	}()
}

// notWebSocket answers a request to the WebSocket endpoint that is not a
// WebSocket handshake (a browser's or curl's plain GET) with what the
// endpoint is, how to speak to it and where that is written down. The
// status is 426 Upgrade Required, with "Upgrade: websocket" as RFC 9110
// asks: the request was refused only because it did not upgrade.
func notWebSocket(w http.ResponseWriter) {
	w.Header().Set("Upgrade", "websocket")
	w.Header().Set("Connection", "Upgrade")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusUpgradeRequired)
	_, _ = w.Write([]byte("This is Switchboard's WebSocket endpoint (the Agora Signaling API v1.4).\n" +
		"Open a WebSocket here with the subprotocol " + protocol.Subprotocol + " (Sec-WebSocket-Protocol: " + protocol.Subprotocol + ").\n" +
		"The protocol is described in docs/protocol.md of the Switchboard repository.\n"))
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// randomID returns n random bytes, base64url-encoded.
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// addSession registers sess under its account, subscribing to the account's
// subject if it is the first session of the account here. The subscription
// exists before the login request is published on the same connection, so
// nothing sent to the account after the login is missed.
func (s *Server) addSession(sess *session) error {
	k := userKey{sess.app, sess.account}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.users[k]
	if e == nil {
		sub, err := s.subscribeUser(subjects.User(sess.app, sess.account))
		if err != nil {
			return err
		}
		e = &userEntry{sub: sub}
		s.users[k] = e
	}
	e.sessions = append(e.sessions, sess)
	s.sessions[sess.sid] = sess
	s.Metrics.Session(1)
	return nil
}

// removeSession forgets sess, unsubscribing from its account's subject if no
// other session of the account is here.
func (s *Server) removeSession(sess *session) {
	k := userKey{sess.app, sess.account}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions[sess.sid] == sess {
		delete(s.sessions, sess.sid)
		s.Metrics.Session(-1)
	}
	e := s.users[k]
	if e == nil {
		return
	}
	for i, x := range e.sessions {
		if x == sess {
			e.sessions = append(e.sessions[:i], e.sessions[i+1:]...)
			break
		}
	}
	if len(e.sessions) == 0 {
		_ = e.sub.Unsubscribe()
		delete(s.users, k)
	}
}

// target finds the session a user delivery is for: the one named by sid, or
// else the newest session of the account that a worker confirmed, or else
// the newest one still logging in (which keeps it until its login is
// answered). A login that may yet fail never takes what a confirmed session
// of the account should get.
func (s *Server) target(k userKey, sid string) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.users[k]
	if e == nil {
		return nil
	}
	if sid != "" {
		for _, x := range e.sessions {
			if x.sid == sid {
				return x
			}
		}
		return nil
	}
	for i := len(e.sessions) - 1; i >= 0; i-- {
		if e.sessions[i].confirmed.Load() {
			return e.sessions[i]
		}
	}
	if n := len(e.sessions); n > 0 {
		return e.sessions[n-1]
	}
	return nil
}

// call sends a request to the workers and waits for their reply. A missing
// worker or a late one becomes an error of kind Unavailable or Timeout.
func (s *Server) call(ctx context.Context, c *protocol.Call) (*protocol.Reply, error) {
	return callWorker(ctx, s.nc, c, s.cfg.RequestTimeout)
}
