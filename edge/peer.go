package edge

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/switchboard-io/switchboard/kv"
	"github.com/switchboard-io/switchboard/protocol"
	"github.com/switchboard-io/switchboard/subjects"
)

// Peer messages need no worker: the sender's edge publishes the receiver's
// frame to the receiver's account subject with a reply subject of its own;
// the receiving edge answers once the receiving client has acknowledged the
// frame. An answer with hdrRefused, or no responder and no session in KV,
// means the peer is offline.
//
// A receiver whose session is on the sender's own edge gets the frame from
// the sender's edge directly, with the same reply token, and its
// acknowledgement settles the message there (answer): no NATS round trip,
// and none of its hand-offs between goroutines. A session that does not
// take the frame (it ended, or its client is away with a full buffer)
// leaves the message to NATS, whose receiving side decides as it would
// for any edge's message.
const hdrRefused = "Sb-Refused"

// noResponderRetries is how often a "no responders" answer is retried while
// KV says the peer is online: in a cluster, a fresh subscription takes a
// moment to reach every server.
const noResponderRetries = 5

// errOffline fails a peer message whose receiver is not logged in.
var errOffline = protocol.Errorf(protocol.KindNotFound, "peer is offline")

type pendingSend struct {
	sess *session
	// app is the sender's app; notify, when set, takes the outcome
	// instead of sess (the server API's sends, serverapi.go).
	app    string
	notify func(error)
	// to and msgID are the receiver and the message's ID: all the outcome
	// needs of the request, which goes back to its pool (inbox.go).
	to    string
	msgID string
	// subject is the receiver's account subject, made from app and to
	// when the message goes through NATS if it is empty: a message to a
	// session on this edge needs none.
	subject string
	// from and msg make the receiver's frame: made when the message is
	// published, into a pooled frame, not kept with the message.
	from, msg string
	tries     int
	due       time.Time // fails with protocol.ErrTimeout after this (sweep)
	// held is set, under peerSender.mu, when confirmOffline takes the
	// message: it keeps it past its outcome, so it does not go back to
	// the pool.
	held bool
}

// pendingSends holds the pending messages of clients' peer messages once
// their outcome is out (finish): one less allocation per message.
var pendingSends = sync.Pool{New: func() any { return new(pendingSend) }}

// finish settles ps and gives it back to the pool, unless confirmOffline
// holds it. Nothing else refers to a message taken from pending.
func (ps *pendingSend) finish(err error) {
	ps.settle(err)
	if !ps.held {
		*ps = pendingSend{}
		pendingSends.Put(ps)
	}
}

// peerSender tracks this edge's peer messages that wait for an answer, on
// one wildcard reply subscription.
type peerSender struct {
	srv    *Server
	prefix string
	sub    *nats.Subscription

	mu sync.Mutex
	// pending are the messages that wait, by the counter of their reply
	// subject, prefix+counter.
	pending map[uint64]*pendingSend
	next    uint64
}

func newPeerSender(s *Server) (*peerSender, error) {
	p := &peerSender{srv: s, prefix: s.nc.NewRespInbox() + ".", pending: map[uint64]*pendingSend{}}
	sub, err := s.nc.Subscribe(p.prefix+"*", p.onReply)
	if err != nil {
		return nil, err
	}
	_ = sub.SetPendingLimits(-1, 64<<20)
	p.sub = sub
	return p, nil
}

func (p *peerSender) close() { _ = p.sub.Unsubscribe() }

// waiting is how many peer messages wait for an answer.
func (p *peerSender) waiting() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pending)
}

// send publishes a peer message for sess.
func (p *peerSender) send(sess *session, r *protocol.Request) {
	if r.MsgID == "" {
		r.MsgID = randomID(12)
	}
	sess.mu.Lock()
	ok := sess.rate.Allow(time.Now(), p.srv.cfg.UserRate)
	sess.mu.Unlock()
	if !ok {
		sess.deliverEvent(protocol.FailureEvent(r, protocol.Errorf(protocol.KindRateLimited, "over 60 messages per second")))
		return
	}
	ps := pendingSends.Get().(*pendingSend)
	*ps = pendingSend{sess: sess, app: sess.app, to: r.Account, msgID: r.MsgID, from: sess.account, msg: r.Msg}
	p.start(ps)
}

// start tracks ps and publishes it, failing it after MessageTimeout.
func (p *peerSender) start(ps *pendingSend) {
	ps.due = time.Now().Add(p.srv.cfg.MessageTimeout)
	// Once in pending, ps may get its outcome (an answer, the sweep) and
	// go back to the pool (finish) before it is published: what publish
	// needs is copied first.
	r := ps.route()
	p.mu.Lock()
	p.next++
	n := p.next
	p.pending[n] = ps
	p.mu.Unlock()
	p.publish(n, r)
}

// route is what it takes to publish a peer message.
type route struct {
	app, to, subject string
	from, msg        string
}

func (ps *pendingSend) route() route {
	return route{app: ps.app, to: ps.to, subject: ps.subject, from: ps.from, msg: ps.msg}
}

// sweepEvery is how often the sweep looks for peer messages past their
// MessageTimeout, as a share of it: one goroutine and one ticker for all of
// them rather than a timer each.
const sweepEvery = 10

// sweep fails the peer messages that waited MessageTimeout for an answer,
// until done is closed.
func (p *peerSender) sweep(done <-chan struct{}) {
	t := time.NewTicker(max(p.srv.cfg.MessageTimeout/sweepEvery, 10*time.Millisecond))
	defer t.Stop()
	var late []*pendingSend
	for {
		select {
		case <-done:
			return
		case now := <-t.C:
			p.mu.Lock()
			for n, ps := range p.pending {
				if now.After(ps.due) {
					late = append(late, ps)
					delete(p.pending, n)
				}
			}
			p.mu.Unlock()
			for i, ps := range late {
				ps.finish(protocol.ErrTimeout)
				late[i] = nil
			}
			late = late[:0]
		}
	}
}

// publish sends the peer message with reply counter n.
func (p *peerSender) publish(n uint64, r route) {
	if p.deliverHere(n, r) {
		return
	}
	subject := r.subject
	if subject == "" {
		subject = subjects.User(r.app, r.to)
	}
	// PublishMsg copies the frame into the connection's buffer before it
	// returns: the frame goes back to the pool then.
	f := instantReceiveFrame(r.from, r.msg)
	m := &nats.Msg{Subject: subject, Reply: p.prefix + strconv.FormatUint(n, 10), Data: f.data}
	err := p.srv.nc.PublishMsg(m)
	f.release()
	if err != nil {
		if ps := p.take(n); ps != nil {
			ps.finish(protocol.Errorf(protocol.KindUnavailable, "the service is unreachable"))
		}
	}
}

// deliverHere queues a peer message on its receiver's session when that
// session is on this edge and takes it. Its reply subject goes as its
// parts: the session makes it a string only if it must (replyTo).
func (p *peerSender) deliverHere(n uint64, r route) bool {
	sess := p.srv.target(userKey{r.app, r.to}, "")
	if sess == nil {
		return false
	}
	f := instantReceiveFrame(r.from, r.msg)
	ok := sess.deliverReply(f, replyTo{prefix: p.prefix, n: n})
	f.release()
	return ok
}

func (p *peerSender) take(n uint64) *pendingSend {
	p.mu.Lock()
	defer p.mu.Unlock()
	ps := p.pending[n]
	delete(p.pending, n)
	return ps
}

// onReply settles a pending peer message.
func (p *peerSender) onReply(m *nats.Msg) {
	if !strings.HasPrefix(m.Subject, p.prefix) {
		return
	}
	n, ok := parseCounter(m.Subject[len(p.prefix):])
	if !ok {
		return
	}
	noResponders := m.Header.Get("Status") == "503"
	if noResponders {
		p.mu.Lock()
		ps := p.pending[n]
		if ps != nil {
			ps.held = true
		}
		p.mu.Unlock()
		if ps == nil {
			return
		}
		// Confirm against KV before calling the peer offline.
		go p.confirmOffline(n, ps)
		return
	}
	ps := p.take(n)
	if ps == nil {
		return
	}
	if m.Header.Get(hdrRefused) != "" {
		ps.finish(errOffline)
		return
	}
	ps.finish(nil)
}

func (p *peerSender) confirmOffline(n uint64, ps *pendingSend) {
	ctx, cancel := context.WithTimeout(p.srv.ctx, p.srv.cfg.RequestTimeout)
	defer cancel()
	_, _, err := p.srv.store.Session(ctx, ps.app, ps.to)
	if errors.Is(err, kv.ErrNotFound) || ps.tries >= noResponderRetries {
		if ps := p.take(n); ps != nil {
			ps.settle(errOffline)
		}
		return
	}
	ps.tries++
	select {
	case <-time.After(time.Duration(ps.tries*ps.tries) * 20 * time.Millisecond):
	case <-ctx.Done():
	}
	p.publish(n, ps.route()) // held: ps stays out of the pool
}

// settle hands the outcome (nil: delivered) of a peer message to whoever sent it.
func (ps *pendingSend) settle(err error) {
	req := protocol.Request{Op: protocol.OpMessageInstantSend, Account: ps.to, MsgID: ps.msgID}
	settleSend(ps.sess, &req, ps.notify, err)
}

// settleSend tells a message's sender its outcome: notify when set (the
// server API), else the session, with onMessageSendSuccess or the failure
// callback.
func settleSend(sess *session, req *protocol.Request, notify func(error), err error) {
	switch {
	case notify != nil:
		notify(err)
	case err != nil:
		sess.deliverEvent(protocol.FailureEvent(req, err))
	default:
		f := sendSuccessFrame(req.MsgID)
		sess.deliverFrame(f, "")
		f.release()
	}
}

// acknowledge answers a peer message that its receiver has.
func (p *peerSender) acknowledge(reply replyTo) { p.answer(reply, false) }

// refuse answers a peer message that no session here can take.
func (p *peerSender) refuse(reply replyTo) { p.answer(reply, true) }

// answer settles a peer message this edge sent itself, and publishes the
// answer to another edge's.
func (p *peerSender) answer(reply replyTo, refused bool) {
	if reply.n != 0 && reply.prefix == p.prefix {
		if ps := p.take(reply.n); ps != nil {
			var err error
			if refused {
				err = errOffline
			}
			ps.finish(err)
		}
		return
	}
	if strings.HasPrefix(reply.prefix, p.prefix) {
		// Under this edge's prefix but none of its messages' subjects:
		// nothing waits for it. (The prefix ends with a dot, so a
		// subject under it has its counter after it.)
		return
	}
	m := &nats.Msg{Subject: reply.String()}
	if refused {
		m.Header = nats.Header{hdrRefused: []string{"1"}}
	}
	_ = p.srv.nc.PublishMsg(m)
}

// replyTo is the reply subject of a peer message as a session keeps it
// until the client acknowledges the message. Every edge makes its
// messages' subjects of a reply prefix and a counter (start), and they are
// kept as such: a message from this edge to a session on it needs no
// subject made for it (deliverHere), and a session remembers it without a
// string (replyMemory). A subject of another form is kept whole, in prefix,
// with n 0.
type replyTo struct {
	prefix  string
	n       uint64
	subject string // the whole subject, when it came as one (through NATS)
}

// parseReply splits a reply subject into its prefix and its counter: the
// digits it ends with, as strconv.FormatUint writes a number from 1 up. A
// subject has one such split, and two subjects never share one: comparing
// splits is comparing subjects.
func parseReply(subject string) replyTo {
	i := len(subject)
	for i > 0 && '0' <= subject[i-1] && subject[i-1] <= '9' {
		i--
	}
	n, ok := parseCounter(subject[i:])
	if !ok {
		return replyTo{prefix: subject, subject: subject}
	}
	return replyTo{prefix: subject[:i], n: n, subject: subject}
}

// parseCounter reads a number from 1 up as strconv.FormatUint writes it:
// digits only, no leading zero, within 64 bits.
func parseCounter(s string) (uint64, bool) {
	if s == "" || s[0] == '0' {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		d := uint64(s[i]) - '0'
		if d > 9 || n > (math.MaxUint64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// empty reports whether r is no subject: a frame nobody waits for.
func (r replyTo) empty() bool { return r.prefix == "" && r.n == 0 }

// String returns the subject.
func (r replyTo) String() string {
	switch {
	case r.subject != "":
		return r.subject
	case r.n == 0:
		return r.prefix
	}
	return r.prefix + strconv.FormatUint(r.n, 10)
}
