package edge

import (
	"strconv"
	"sync"
	"time"

	"github.com/switchboard-io/switchboard/protocol"
)

// A channel message is acknowledged to its sender when it comes back to
// the sender's edge on the channel's subject: then NATS has taken it and
// passed it on, and the sender's edge delivers it to its own members. A
// message lost with a NATS server that died under the edge never comes
// back; its sender gets onMessageSendError(401) instead of a false success.
//
// An edge that is behind on a channel must not call a message lost that is
// only queued: when MessageTimeout passes while the channel's subscription
// still holds arrivals and NATS is connected, the wait starts again, up to
// maxChanSendWait in all. An edge that falls that far behind refuses its
// members' new messages to the channel before publishing them (overloaded,
// channels.go), so the wait is rarely long.

// hdrChanMsg carries the sending edge's token for a channel message.
const hdrChanMsg = "Sb-Msg"

type chanSend struct {
	sess *session
	// notify, when set, takes the outcome instead of sess (the server
	// API's sends, serverapi.go).
	notify func(error)
	req    protocol.Request
	ch     *channel
	start  time.Time
	timer  *time.Timer
}

// settle hands the outcome (nil: delivered) of a channel message to
// whoever sent it.
func (p *chanSend) settle(err error) { settleSend(p.sess, &p.req, p.notify, err) }

// maxChanSendWait bounds a channel message's wait for its return, however
// far behind its channel is, in MessageTimeouts.
const maxChanSendWait = 6

// chanSends are this edge's channel messages waiting to come back.
type chanSends struct {
	mu       sync.Mutex
	next     uint64
	pending  map[string]*chanSend
	extended uint64 // waits started again because the channel was behind
}

// trackSend registers a channel message to p.ch and returns its token.
func (s *Server) trackSend(p *chanSend) string {
	cs := &s.chanSends
	cs.mu.Lock()
	cs.next++
	tok := strconv.FormatUint(cs.next, 36)
	if cs.pending == nil {
		cs.pending = map[string]*chanSend{}
	}
	p.start = time.Now()
	cs.pending[tok] = p
	p.timer = time.AfterFunc(s.cfg.MessageTimeout, func() { s.channelSendTimedOut(tok, p) })
	cs.mu.Unlock()
	return tok
}

// channelSendTimedOut fails a channel message that did not come back in
// MessageTimeout, unless its channel's arrivals are still queued here.
func (s *Server) channelSendTimedOut(tok string, p *chanSend) {
	if p.ch.backlogged() && s.nc.IsConnected() && time.Since(p.start) < maxChanSendWait*s.cfg.MessageTimeout {
		s.chanSends.mu.Lock()
		if s.chanSends.pending[tok] == p {
			s.chanSends.extended++
			p.timer.Reset(s.cfg.MessageTimeout)
			s.chanSends.mu.Unlock()
			return
		}
		s.chanSends.mu.Unlock()
	}
	if p := s.takeChannelSend(tok); p != nil {
		p.settle(protocol.ErrTimeout)
	}
}

func (s *Server) takeChannelSend(tok string) *chanSend {
	cs := &s.chanSends
	cs.mu.Lock()
	defer cs.mu.Unlock()
	p := cs.pending[tok]
	delete(cs.pending, tok)
	if p != nil && p.timer != nil {
		p.timer.Stop()
	}
	return p
}

// channelSendBack settles a channel message of this edge's that came back.
func (s *Server) channelSendBack(tok string) {
	if p := s.takeChannelSend(tok); p != nil {
		p.settle(nil)
	}
}

// failChannelSend settles a channel message that could not be published.
func (s *Server) failChannelSend(tok string, err error) {
	if p := s.takeChannelSend(tok); p != nil {
		p.settle(err)
	}
}

// chanSendsWaiting is how many channel messages wait to come back.
func (s *Server) chanSendsWaiting() int {
	s.chanSends.mu.Lock()
	defer s.chanSends.mu.Unlock()
	return len(s.chanSends.pending)
}
