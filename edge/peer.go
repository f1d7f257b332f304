package edge

import (
	"context"
	"errors"
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
	to      string
	msgID   string
	subject string
	frame   []byte
	tries   int
	due     time.Time // fails with protocol.ErrTimeout after this (sweep)
}

// peerSender tracks this edge's peer messages that wait for an answer, on
// one wildcard reply subscription.
type peerSender struct {
	srv    *Server
	prefix string
	sub    *nats.Subscription

	mu      sync.Mutex
	pending map[string]*pendingSend
	next    uint64
}

func newPeerSender(s *Server) (*peerSender, error) {
	p := &peerSender{srv: s, prefix: s.nc.NewRespInbox() + ".", pending: map[string]*pendingSend{}}
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
	frame := protocol.InstantReceiveFrame(sess.account, r.Msg)
	p.start(&pendingSend{sess: sess, app: sess.app, to: r.Account, msgID: r.MsgID, subject: subjects.User(sess.app, r.Account), frame: frame})
}

// start tracks ps and publishes it, failing it after MessageTimeout.
func (p *peerSender) start(ps *pendingSend) {
	ps.due = time.Now().Add(p.srv.cfg.MessageTimeout)
	p.mu.Lock()
	p.next++
	tok := p.prefix + strconv.FormatUint(p.next, 10)
	p.pending[tok] = ps
	p.mu.Unlock()
	p.publish(tok, ps)
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
			for tok, ps := range p.pending {
				if now.After(ps.due) {
					late = append(late, ps)
					delete(p.pending, tok)
				}
			}
			p.mu.Unlock()
			for i, ps := range late {
				ps.settle(protocol.ErrTimeout)
				late[i] = nil
			}
			late = late[:0]
		}
	}
}

func (p *peerSender) publish(tok string, ps *pendingSend) {
	if p.deliverHere(tok, ps) {
		return
	}
	m := &nats.Msg{Subject: ps.subject, Reply: tok, Data: ps.frame}
	if err := p.srv.nc.PublishMsg(m); err != nil {
		if ps := p.take(tok); ps != nil {
			ps.settle(protocol.Errorf(protocol.KindUnavailable, "the service is unreachable"))
		}
	}
}

// deliverHere queues a peer message on its receiver's session when that
// session is on this edge and takes it.
func (p *peerSender) deliverHere(tok string, ps *pendingSend) bool {
	sess := p.srv.target(userKey{ps.app, ps.to}, "")
	return sess != nil && sess.deliver(ps.frame, tok)
}

func (p *peerSender) take(tok string) *pendingSend {
	p.mu.Lock()
	defer p.mu.Unlock()
	ps := p.pending[tok]
	delete(p.pending, tok)
	return ps
}

// onReply settles a pending peer message.
func (p *peerSender) onReply(m *nats.Msg) {
	tok := m.Subject
	noResponders := m.Header.Get("Status") == "503"
	if noResponders {
		p.mu.Lock()
		ps := p.pending[tok]
		p.mu.Unlock()
		if ps == nil {
			return
		}
		// Confirm against KV before calling the peer offline.
		go p.confirmOffline(tok, ps)
		return
	}
	ps := p.take(tok)
	if ps == nil {
		return
	}
	if m.Header.Get(hdrRefused) != "" {
		ps.settle(errOffline)
		return
	}
	ps.settle(nil)
}

func (p *peerSender) confirmOffline(tok string, ps *pendingSend) {
	ctx, cancel := context.WithTimeout(p.srv.ctx, p.srv.cfg.RequestTimeout)
	defer cancel()
	_, _, err := p.srv.store.Session(ctx, ps.app, ps.to)
	if errors.Is(err, kv.ErrNotFound) || ps.tries >= noResponderRetries {
		if ps := p.take(tok); ps != nil {
			ps.settle(errOffline)
		}
		return
	}
	ps.tries++
	select {
	case <-time.After(time.Duration(ps.tries*ps.tries) * 20 * time.Millisecond):
	case <-ctx.Done():
	}
	p.publish(tok, ps)
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
		sess.deliver(protocol.SendSuccessFrame(req.MsgID), "")
	}
}

// acknowledge answers a peer message that its receiver has.
func (p *peerSender) acknowledge(reply string) { p.answer(reply, false) }

// refuse answers a peer message that no session here can take.
func (p *peerSender) refuse(reply string) { p.answer(reply, true) }

// answer settles a peer message this edge sent itself, and publishes the
// answer to another edge's.
func (p *peerSender) answer(reply string, refused bool) {
	if strings.HasPrefix(reply, p.prefix) {
		if ps := p.take(reply); ps != nil {
			var err error
			if refused {
				err = errOffline
			}
			ps.settle(err)
		}
		return
	}
	m := &nats.Msg{Subject: reply}
	if refused {
		m.Header = nats.Header{hdrRefused: []string{"1"}}
	}
	_ = p.srv.nc.PublishMsg(m)
}
