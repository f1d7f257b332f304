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

// hdrChanMsg carries the sending edge's token for a channel message.
const hdrChanMsg = "Sb-Msg"

type chanSend struct {
	sess  *session
	req   protocol.Request
	timer *time.Timer
}

// chanSends are this edge's channel messages waiting to come back.
type chanSends struct {
	mu      sync.Mutex
	next    uint64
	pending map[string]*chanSend
}

// track registers a channel message of sess and returns its token.
func (s *Server) trackChannelSend(sess *session, r *protocol.Request) string {
	cs := &s.chanSends
	cs.mu.Lock()
	cs.next++
	tok := strconv.FormatUint(cs.next, 36)
	if cs.pending == nil {
		cs.pending = map[string]*chanSend{}
	}
	p := &chanSend{sess: sess, req: *r}
	cs.pending[tok] = p
	cs.mu.Unlock()
	p.timer = time.AfterFunc(s.cfg.MessageTimeout, func() {
		if p := s.takeChannelSend(tok); p != nil {
			p.sess.deliverEvent(protocol.FailureEvent(&p.req, protocol.ErrTimeout))
		}
	})
	return tok
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
		p.sess.deliverEvent(protocol.Event{Ev: protocol.EvMessageSendSuccess, MessageID: p.req.MsgID})
	}
}

// failChannelSend settles a channel message that could not be published.
func (s *Server) failChannelSend(tok string, err error) {
	if p := s.takeChannelSend(tok); p != nil {
		p.sess.deliverEvent(protocol.FailureEvent(&p.req, err))
	}
}

// chanSendsWaiting is how many channel messages wait to come back.
func (s *Server) chanSendsWaiting() int {
	s.chanSends.mu.Lock()
	defer s.chanSends.mu.Unlock()
	return len(s.chanSends.pending)
}
