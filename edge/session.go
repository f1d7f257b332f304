package edge

import (
	"context"
	"encoding/json"
	"errors"
	"math/bits"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/nats-io/nats.go"

	"github.com/switchboard-io/switchboard/kv"
	"github.com/switchboard-io/switchboard/metrics"
	"github.com/switchboard-io/switchboard/protocol"
)

// session is a logged-in account on this edge. It outlives its connection by
// the account's _conn_timeout so that the client can resume it: meanwhile it
// keeps every frame meant for the client, and its peers see no change.
type session struct {
	srv     *Server
	sid     string
	app     string
	account string
	uid     uint32
	calls   serial // worker calls, in request order
	// confirmed is set when a worker has accepted the login or resume:
	// until then the session gets only what is addressed to its ID, never
	// what is meant for whoever holds the account (onUserMsg, target).
	confirmed atomic.Bool

	mu          sync.Mutex
	c           *conn // nil while detached
	rec         kv.Session
	rev         uint64
	connTimeout time.Duration
	sent        uint64   // counted frames so far
	base        uint64   // frames up to base are acknowledged or dropped
	buf         []*frame // frames base+1 … sent
	bufBytes    int      // the bytes of buf's frames
	acks        []pendingAck
	buf0        []*frame     // buf's array from its start (compact)
	acks0       []pendingAck // acks' array from its start
	grace       *time.Timer
	expiry      *time.Timer
	ended       bool
	// endEv, endClose and endReason are what end told a connection, kept
	// for a login whose session ended before it was attached
	// (endedBeforeAttach).
	endEv     *protocol.Event
	endClose  int
	endReason string
	movedOut  bool // ended because the client resumed on another edge
	// recent are the reply subjects of the latest peer messages: a message
	// can reach a session that moves twice, directly and passed on by the
	// edge it left, and is queued once.
	recent   replyMemory
	channels []string // joined on this edge, in join order (channels.go)
	rate     protocol.Bucket
}

// pendingAck is a peer message whose sender waits until the client has
// acknowledged frame seq.
type pendingAck struct {
	seq   uint64
	reply replyTo
}

// newSession returns a session of account with ID sid (sidOf its secret),
// not yet confirmed by a worker.
func newSession(s *Server, app, account string, uid uint32, sid string) *session {
	sess := &session{
		srv:     s,
		sid:     sid,
		app:     app,
		account: account,
		uid:     uid,
	}
	sess.calls.onPanic = func(v any) {
		s.recovered("session request", v)
		sess.mu.Lock()
		c := sess.c
		sess.mu.Unlock()
		if c != nil {
			c.closeWith(websocket.CloseInternalServerErr, "internal error")
		}
	}
	return sess
}

// deliverEvent encodes ev and delivers it as a counted frame.
func (s *session) deliverEvent(ev protocol.Event) {
	data, err := json.Marshal(ev)
	if err == nil {
		s.deliverFrame(newFrame(data), "")
	}
}

// deliver delivers an encoded event frame for this client alone; see
// deliverFrame.
func (s *session) deliver(data []byte, reply string) bool {
	return s.deliverFrame(newFrame(data), reply)
}

// deliverFrame appends a counted frame, sends it if a connection is
// attached, and records reply as waiting for the client's acknowledgement of
// it. It reports false when the session has ended. A pooled frame is held
// for as long as the replay buffer keeps it (and by the queue it goes to);
// the caller still releases its own hold.
func (s *session) deliverFrame(frame *frame, reply string) bool {
	return s.deliverReply(frame, parseReply(reply))
}

// deliverReply is deliverFrame with the reply subject in its parts.
func (s *session) deliverReply(frame *frame, reply replyTo) bool {
	s.mu.Lock()
	if s.ended || s.movedOut {
		moved := s.movedOut
		s.mu.Unlock()
		if moved {
			// Answers that come here after the client moved (a worker's
			// reply, a peer's acknowledgement) follow it to its new edge.
			return s.passOn(frame.data, reply.String()) == nil
		}
		return false
	}
	if !reply.empty() && s.recent.has(reply) {
		s.mu.Unlock()
		return true
	}
	if !reply.empty() && s.c == nil && s.bufBytes+len(frame.data) > maxReplayBytes {
		// A client that is away and has a full buffer takes no more peer
		// messages: their senders learn it at once (the caller refuses),
		// and what the buffer holds stays resumable.
		s.mu.Unlock()
		return false
	}
	s.sent++
	frame.hold()
	s.buf, s.buf0 = appendKept(s.buf, s.buf0, frame)
	s.bufBytes += len(frame.data)
	if !reply.empty() {
		// A message that was refused is not remembered: the same
		// message that comes again (through NATS, after its sender's
		// edge found the session would not take it) is refused again,
		// not taken for a duplicate that needs no answer.
		s.recent.add(reply)
		s.acks, s.acks0 = appendKept(s.acks, s.acks0, pendingAck{seq: s.sent, reply: reply})
	}
	refused := s.trimLocked()
	// Counted before the send, so that a client that has the frame finds
	// it counted.
	switch {
	case !reply.empty():
		s.srv.Metrics.Deliveries(metrics.DeliveryPeer, 1)
	case frame.shared():
		s.srv.Metrics.Deliveries(metrics.DeliveryChannel, 1)
	default:
		s.srv.Metrics.Deliveries(metrics.DeliveryEvent, 1)
	}
	c := s.c
	if c != nil {
		c.send(frame)
	}
	s.mu.Unlock()
	for _, r := range refused {
		s.srv.peers.refuse(r)
	}
	return true
}

// trimLocked keeps the replay buffer within ReplayFrames frames and
// maxReplayBytes bytes by dropping its oldest frames: a client that does not
// acknowledge cannot make its session hold more. A later resume from before
// the dropped frames fails and the client logs in afresh. It returns the
// reply subjects of peer messages that were dropped unacknowledged: their
// senders are told at once that the message did not arrive. s.mu is held.
func (s *session) trimLocked() (refused []replyTo) {
	for len(s.buf) > 1 && (len(s.buf) > s.srv.cfg.ReplayFrames || s.bufBytes > maxReplayBytes) {
		s.bufBytes -= len(s.buf[0].data)
		s.buf[0].release()
		s.buf[0] = nil
		s.buf = s.buf[1:]
		s.base++
		for len(s.acks) > 0 && s.acks[0].seq <= s.base {
			refused = append(refused, s.acks[0].reply)
			s.acks[0] = pendingAck{}
			s.acks = s.acks[1:]
		}
	}
	s.compactLocked()
	return refused
}

// keptReplay is the largest array an emptied replay buffer, or list of
// pending acknowledgements, keeps for what comes next: a session that once
// held a long backlog does not keep its array for good.
const keptReplay = 256

// compactLocked moves the replay buffer and the pending acknowledgements
// back to the start of their arrays after they lost their front, when that
// is cheap: append then finds room at their end, not a full array it must
// copy to a new one for every few frames. s.mu is held.
func (s *session) compactLocked() {
	s.buf = compact(s.buf, s.buf0)
	if len(s.buf) == 0 && cap(s.buf0) > keptReplay {
		s.buf, s.buf0 = nil, nil
	}
	s.acks = compact(s.acks, s.acks0)
	if len(s.acks) == 0 && cap(s.acks0) > keptReplay {
		s.acks, s.acks0 = nil, nil
	}
}

// appendKept appends v to s, whose array starts at s0, and returns both
// anew: s0 follows s to a new array.
func appendKept[T any](s, s0 []T, v T) ([]T, []T) {
	was := cap(s)
	s = append(s, v)
	if cap(s) != was {
		s0 = s[:0]
	}
	return s, s0
}

// compact moves s, which ends where its array does and whose dropped front
// is cleared, back to s0, its array from the start, if nothing remains or
// what remains is no longer than what was dropped: an element moves at most
// once for each one dropped before it, so an acknowledgement costs the same,
// amortized, in a buffer of 8192 frames as in one of 8. It clears what it
// leaves behind, not to keep frames alive, and returns s, moved or not.
func compact[T any](s, s0 []T) []T {
	off := cap(s0) - cap(s)
	n := len(s)
	switch {
	case off == 0:
		return s
	case n == 0:
		return s0[:0]
	case off < n:
		return s
	}
	copy(s0[:n], s)
	clear(s0[n : off+n])
	return s0[:n]
}

// ack records that the client received frames up to n, and answers the
// senders that waited for them. Any n is safe: one beyond what was sent, or
// an ack after the session ended, changes nothing it should not.
func (s *session) ack(n uint64) {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	if n > s.sent {
		n = s.sent
	}
	if n > s.base {
		drop := min(n-s.base, uint64(len(s.buf)))
		for _, f := range s.buf[:drop] {
			s.bufBytes -= len(f.data)
			f.release()
		}
		clear(s.buf[:drop])
		s.buf = s.buf[drop:]
		s.base = n
	}
	// The senders are answered once s.mu is released, from a copy: on the
	// stack for the few that a client acknowledges at once.
	var few [8]pendingAck
	done := few[:0]
	i := 0
	for i < len(s.acks) && s.acks[i].seq <= n {
		i++
	}
	if i > 0 {
		done = append(done, s.acks[:i]...)
		clear(s.acks[:i])
		s.acks = s.acks[i:]
	}
	s.compactLocked()
	s.mu.Unlock()
	for _, a := range done {
		s.srv.peers.acknowledge(a.reply)
	}
}

// attach binds the session to c and sends c every frame after n. It fails
// when frames after n are no longer kept.
func (s *session) attach(c *conn, n uint64, resume bool, first ...protocol.Event) bool {
	s.mu.Lock()
	if s.ended || n > s.sent || n < s.base {
		s.mu.Unlock()
		return false
	}
	old := s.c
	s.c = c
	if s.grace != nil {
		s.grace.Stop()
		s.grace = nil
	}
	if resume {
		c.sendEvent(protocol.Event{Ev: protocol.EvReconnected})
	}
	// first (a login's answer) goes before the backlog, and while s.mu is
	// held: an end of the session can come only after it, and finds the
	// connection attached.
	for _, ev := range first {
		c.sendEvent(ev)
	}
	// The backlog goes as one replay, which the queue's bound does not
	// count: a client that was away may have more than SendQueue frames
	// waiting, and reads them now.
	c.replay(s.buf[n-s.base:]...)
	select {
	case <-c.done:
		// The connection closed while its login or resume was being
		// answered, after its reader let go of it: nobody will detach
		// it, so the session waits for a resume as after any drop.
		s.c = nil
		s.waitForResumeLocked()
	default:
	}
	s.mu.Unlock()
	if old != nil && old != c {
		old.mu.Lock()
		if old.sess == s {
			old.sess = nil
		}
		old.mu.Unlock()
		old.closeWith(protocol.CloseSessionLost, "session resumed elsewhere")
	}
	c.sessionAttached()
	s.ack(n)
	return true
}

// endedBeforeAttach answers a login whose session ended before attach: a
// newer login elsewhere, the client's own logout sent while it logged in,
// an expired token. The client hears of the login (first) and then of its
// end, as end would have told it, and the connection may log in again.
func (s *session) endedBeforeAttach(c *conn, first []protocol.Event) {
	s.mu.Lock()
	ev, closeCode, closeReason := s.endEv, s.endClose, s.endReason
	s.mu.Unlock()
	if ev == nil {
		ev = &protocol.Event{Ev: protocol.EvLogout, Ecode: protocol.LogoutNet}
	}
	for _, e := range first {
		c.sendEvent(e)
	}
	s.tellEnd(c, nil, ev, closeCode, closeReason)
}

// tellEnd makes c let go of the ended session and tells its client: an
// onChannelLeaved for each of chans, then ev, then the close, if any.
func (s *session) tellEnd(c *conn, chans []string, ev *protocol.Event, closeCode int, closeReason string) {
	c.mu.Lock()
	if c.sess == s {
		c.sess = nil
	}
	c.mu.Unlock()
	c.sessionEnded()
	if ev != nil {
		code := endLeaveCode(ev)
		for _, ch := range chans {
			c.sendEvent(protocol.Event{Ev: protocol.EvChannelLeaved, ChannelID: ch, Ecode: code})
		}
		c.sendEvent(*ev)
	}
	if closeCode != 0 {
		c.closeWith(closeCode, closeReason)
	}
}

// detach unbinds the session from its dropped connection and starts the
// _conn_timeout wait, after which the session ends (604).
func (s *session) detach(c *conn) {
	s.mu.Lock()
	if s.c != c || s.ended {
		s.mu.Unlock()
		return
	}
	s.c = nil
	s.waitForResumeLocked()
	s.mu.Unlock()
}

// waitForResumeLocked starts the _conn_timeout wait of a session without a
// connection. s.mu is held.
func (s *session) waitForResumeLocked() {
	s.grace = time.AfterFunc(s.connTimeout, func() {
		s.end(protocol.LeaveChannelDisconn, nil, 0, "")
	})
}

// end finishes the session: it stops its timers, leaves its channels on this
// edge, tells the workers (unless reason is -1: the workers already know, as
// after a kick), sends ev to the client if one is attached (after an
// onChannelLeaved for each channel it was in, docs/channels.md), and forgets
// the session. Pending peer messages fail at their senders.
func (s *session) end(reason int, ev *protocol.Event, closeCode int, closeReason string) {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	s.ended = true
	s.endEv, s.endClose, s.endReason = ev, closeCode, closeReason
	if s.grace != nil {
		s.grace.Stop()
	}
	if s.expiry != nil {
		s.expiry.Stop()
	}
	c := s.c
	acks := s.acks
	s.acks, s.acks0 = nil, nil
	s.buf, s.buf0 = nil, nil
	s.bufBytes = 0
	s.base = s.sent
	chans := s.channels
	s.channels = nil
	moved := s.movedOut
	s.mu.Unlock()

	s.srv.removeSession(s)
	s.srv.leaveLocal(s, chans)
	if !moved {
		// The receiver is gone: its senders learn it now. A session that
		// moved leaves them to the edge it moved to, which got the same
		// messages, or to their timeout.
		for _, a := range acks {
			s.srv.peers.refuse(a.reply)
		}
	}
	if c != nil {
		s.tellEnd(c, chans, ev, closeCode, closeReason)
	}
	if reason >= 0 {
		s.calls.do(func() {
			ctx, cancel := context.WithTimeout(s.srv.ctx, s.srv.cfg.RequestTimeout)
			defer cancel()
			_, err := s.srv.call(ctx, &protocol.Call{
				App: s.app, Account: s.account, Session: s.sid, Edge: s.srv.cfg.ID,
				Reason: reason, Req: protocol.Request{Op: protocol.OpLogout},
			})
			if err != nil && !errors.Is(err, context.Canceled) {
				s.srv.log.Warn("session end not recorded; its record expires by TTL", "err", err)
			}
		})
	}
}

// refresh renews the session record's TTL. A record that another login took
// or that expired ends the session here. It reports whether the refresh
// failed for a reason that may pass (a timeout on a busy machine, NATS
// reconnecting), which is worth another try before the next round.
func (s *session) refresh(ctx context.Context) (retry bool) {
	s.mu.Lock()
	// A login or resume still being answered has no record of its own yet:
	// refreshing it would write an empty one, which the login would then
	// kick as the account's previous session.
	if s.ended || !s.confirmed.Load() {
		s.mu.Unlock()
		return false
	}
	rec, rev := s.rec, s.rev
	s.mu.Unlock()
	newRev, err := s.srv.store.RefreshSession(ctx, s.app, s.account, rec, rev, s.srv.cfg.SessionTTL)
	switch {
	case err == nil:
		s.mu.Lock()
		s.rev = newRev
		s.mu.Unlock()
	case errors.Is(err, kv.ErrConflict):
		// Another login took the account; its kick is on the way.
	case errors.Is(err, kv.ErrNotFound):
		ev := protocol.Event{Ev: protocol.EvLogout, Ecode: protocol.LogoutNet}
		s.end(-1, &ev, protocol.CloseSessionLost, "session expired")
	default:
		s.srv.log.Warn("session refresh failed; trying again", "err", err)
		return true
	}
	return false
}

// refreshLoop renews every session record once a round, a third of the
// TTL. A round's writes are spread over its first half, not made at once: an
// edge with 100,000 sessions would otherwise put 100,000 KV writes into a
// moment every 20 s, and every request then would wait behind them. The order
// changes from round to round, so two refreshes of one record are at most a
// round and a half apart (30 s of the default TTL's 60).
func (s *Server) refreshLoop() {
	defer s.wg.Done()
	every := s.cfg.SessionTTL / 3
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		s.mu.Lock()
		all := make([]*session, 0, len(s.sessions))
		for _, sess := range s.sessions {
			all = append(all, sess)
		}
		s.mu.Unlock()
		s.refreshRound(all, every/2)
	}
}

// refreshRound refreshes all, starting session i at over·i/len(all) after
// the round began, many at a time: one after another, a round over thousands
// of sessions could outlast the TTL it renews.
func (s *Server) refreshRound(all []*session, over time.Duration) {
	start := time.Now()
	wait := time.NewTimer(time.Hour)
	defer wait.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	sem := make(chan struct{}, refreshParallel)
	for i, sess := range all {
		// The loop sleeps only when the next start is at least
		// refreshStep away: thousands of sessions start in steps of
		// many, not with a timer each.
		due := start.Add(over * time.Duration(i) / time.Duration(len(all)))
		if d := time.Until(due); d >= refreshStep {
			wait.Reset(d)
			select {
			case <-s.ctx.Done():
				return
			case <-wait.C:
			}
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			s.refreshOne(sess)
		}()
	}
}

// refreshOne refreshes sess, trying again soon after a failure that may
// pass: waiting for the next round instead would let a record expire after
// two slow writes in a row (a third of the TTL apart), taking a user who is
// still connected out of every channel.
func (s *Server) refreshOne(sess *session) {
	for try := 1; ; try++ {
		ctx, cancel := context.WithTimeout(s.ctx, s.cfg.RequestTimeout)
		retry := sess.refresh(ctx)
		cancel()
		if !retry || try == refreshTries {
			return
		}
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(refreshRetryAfter):
		}
	}
}

// refreshStep is the shortest sleep between the starts of a round's
// refreshes; refreshParallel bounds the refreshes under way at once;
// refreshTries and refreshRetryAfter are how often and how soon one that
// failed is tried again within a round.
const (
	refreshStep       = 10 * time.Millisecond
	refreshParallel   = 64
	refreshTries      = 4
	refreshRetryAfter = 500 * time.Millisecond
)

// onUserMsg handles a delivery on an account's subject: a peer message, an
// event from a worker, or a kick.
func (s *Server) onUserMsg(k userKey, m *nats.Msg) {
	sid := m.Header.Get(protocol.HdrSession)
	sess := s.target(k, sid)
	if sess == nil && sid == "" {
		if to := s.movedTo(k); to != "" {
			// The account's session just moved to another edge: pass it on.
			_ = s.nc.PublishMsg(&nats.Msg{Subject: m.Subject, Reply: m.Reply, Data: m.Data,
				Header: nats.Header{protocol.HdrSession: []string{to}}})
			return
		}
	}
	if sess == nil {
		// A delivery for a session that is not (or no longer) here is
		// another edge's to answer; only an account with no session here
		// at all is refused at once.
		if m.Reply != "" && sid == "" {
			s.peers.refuse(parseReply(m.Reply))
		}
		return
	}
	switch kind := m.Header.Get(protocol.HdrKind); kind {
	case protocol.DeliverMoved:
		// Sent to every edge with the account; the one the session moved
		// to (HdrEdge) keeps it.
		if m.Header.Get(protocol.HdrEdge) != s.cfg.ID {
			sess.movedAway(parseN(m.Header.Get(protocol.HdrResumeN)))
		}
	case protocol.DeliverKick, protocol.DeliverEnd:
		// The body is the session's last callback (onLogout); the
		// session's channels are left before it.
		var ev protocol.Event
		if json.Unmarshal(m.Data, &ev) != nil || ev.Ev == "" {
			ev = protocol.Event{Ev: protocol.EvLogout, Ecode: protocol.LogoutOther}
		}
		if kind == protocol.DeliverKick {
			sess.end(-1, &ev, protocol.CloseKicked, "logged in elsewhere")
		} else {
			sess.end(-1, &ev, protocol.CloseSessionLost, "session ended")
		}
	default:
		if !sess.deliver(m.Data, m.Reply) && m.Reply != "" {
			s.peers.refuse(parseReply(m.Reply))
		}
	}
}

// endLeaveCode is the onChannelLeaved code a session's channels are left
// with when it ends with ev: 601 when another login took the account, 604
// when the session was lost, 603 for a logout (by the user or by token
// expiry).
func endLeaveCode(ev *protocol.Event) int {
	switch ev.Ecode {
	case protocol.LogoutKicked:
		return protocol.LeaveChannelKicked
	case protocol.LogoutNet:
		return protocol.LeaveChannelDisconn
	}
	return protocol.LeaveChannelLogout
}

// settle takes the workers' answer to a login or a resume: the session
// record's revision, its conn timeout (or the edge's default) and the
// token's expiry, whose timer it starts.
func (s *session) settle(reply *protocol.Reply) {
	ct := reply.ConnTimeout
	if ct <= 0 {
		ct = s.srv.cfg.ConnTimeout
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.confirmed.Store(true)
	s.rev = reply.Rev
	s.rec = kv.Session{SID: s.sid, Edge: s.srv.cfg.ID, Since: time.Now().UnixMilli(), ConnTimeout: ct, Expires: reply.Expires}
	s.connTimeout = time.Duration(ct) * time.Second
	if reply.Expires > 0 {
		s.expiry = time.AfterFunc(time.Until(time.Unix(reply.Expires, 0)), s.tokenExpired)
	}
}

// recentReplies bounds the reply subjects a session remembers, a power of
// two.
const recentReplies = 512

// replyPrefixes bounds the reply prefixes (the edges) a session's memory
// tells apart by number.
const replyPrefixes = 64

// replyMemory remembers the reply subjects of a session's latest
// recentReplies peer messages, exactly: a subject it has is one it was
// given. A subject of the usual form, an edge's reply prefix and a counter
// (replyTo), is kept as a number, the counter and the index of the prefix
// in a short table: the numbers hold no pointers, so the garbage collector
// does not look into them, and remembering one allocates nothing once the
// memory has grown to its size. A subject of another form, or of more
// prefixes than the table takes, is kept as a string.
type replyMemory struct {
	prefixes []string // the prefixes of the numbers, by index
	ring     []uint64 // the numbers in the order they came; once full, the oldest at head
	head     int
	// slots index ring by number, with linear probing: a number's place
	// in ring plus one, 0 for none. At most half of them are taken.
	slots []uint16
	shift uint // 64 - log2(len(slots))
	// whole and wholeLog keep the other subjects.
	whole    map[string]struct{}
	wholeLog []string
}

// has reports whether r is remembered.
func (m *replyMemory) has(r replyTo) bool {
	k, ok := m.number(r, false)
	if !ok {
		_, ok := m.whole[r.String()]
		return ok
	}
	if len(m.slots) == 0 {
		return false
	}
	mask := len(m.slots) - 1
	for j := m.home(k); m.slots[j] != 0; j = (j + 1) & mask {
		if m.ring[m.slots[j]-1] == k {
			return true
		}
	}
	return false
}

// add remembers r, forgetting the oldest subject kept the same way once
// there are recentReplies of them.
func (m *replyMemory) add(r replyTo) {
	k, ok := m.number(r, true)
	if !ok {
		m.addWhole(r.String())
		return
	}
	if len(m.ring) < recentReplies {
		if len(m.ring) == cap(m.ring) {
			m.grow()
		}
		m.ring = append(m.ring, k)
		m.index(len(m.ring) - 1)
		return
	}
	m.unindex(m.head)
	m.ring[m.head] = k
	m.index(m.head)
	m.head = (m.head + 1) % recentReplies
}

// number returns the number r is kept as: its counter, and the index of
// its prefix in the low byte. With add, a new prefix takes the next index
// while there is one. A subject that is not a prefix and a counter, whose
// counter takes more than 56 bits, or whose prefix has no index (and will
// never have one: the table is full) is kept as a string instead.
func (m *replyMemory) number(r replyTo, add bool) (uint64, bool) {
	if r.n == 0 || r.n >= 1<<56 {
		return 0, false
	}
	for i, p := range m.prefixes {
		if p == r.prefix {
			return r.n<<8 | uint64(i), true
		}
	}
	if !add || len(m.prefixes) == replyPrefixes {
		return 0, false
	}
	m.prefixes = append(m.prefixes, strings.Clone(r.prefix))
	return r.n<<8 | uint64(len(m.prefixes)-1), true
}

// grow doubles ring's room, up to recentReplies, and indexes it anew.
func (m *replyMemory) grow() {
	n := min(max(2*cap(m.ring), 16), recentReplies)
	m.ring = append(make([]uint64, 0, n), m.ring...)
	m.slots = make([]uint16, 2*n)
	m.shift = uint(64 - bits.TrailingZeros(uint(2*n)))
	for i := range m.ring {
		m.index(i)
	}
}

// home is the slot where the search for number k starts.
func (m *replyMemory) home(k uint64) int {
	return int(k * 0x9e3779b97f4a7c15 >> m.shift)
}

// index enters ring[i] in slots.
func (m *replyMemory) index(i int) {
	mask := len(m.slots) - 1
	j := m.home(m.ring[i])
	for m.slots[j] != 0 {
		j = (j + 1) & mask
	}
	m.slots[j] = uint16(i + 1)
}

// unindex takes ring[i] out of slots. The entries after it that probing
// had put further on move back into the hole, so that a search does not
// stop there short of them.
func (m *replyMemory) unindex(i int) {
	mask := len(m.slots) - 1
	hole := m.home(m.ring[i])
	for int(m.slots[hole]) != i+1 {
		hole = (hole + 1) & mask
	}
	for j := (hole + 1) & mask; m.slots[j] != 0; j = (j + 1) & mask {
		// The entry at j may fill the hole if its search passes it:
		// if the hole is no further from j than the entry's home.
		if (j-m.home(m.ring[m.slots[j]-1]))&mask >= (j-hole)&mask {
			m.slots[hole] = m.slots[j]
			hole = j
		}
	}
	m.slots[hole] = 0
}

// addWhole remembers a subject kept as a string.
func (m *replyMemory) addWhole(subject string) {
	if m.whole == nil {
		m.whole = map[string]struct{}{}
	}
	m.whole[subject] = struct{}{}
	m.wholeLog = append(m.wholeLog, subject)
	if len(m.wholeLog) > recentReplies {
		delete(m.whole, m.wholeLog[0])
		m.wholeLog = m.wholeLog[1:]
	}
}
