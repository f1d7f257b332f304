package sdk

import (
	"crypto/rand"
	"encoding/json"
	mathrand "math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/switchboard-io/switchboard/protocol"
)

// maxFrame is the edge's frame limit. A larger frame makes the edge close
// the connection (1009), which would cost every other request in flight, so
// the SDK fails such a request itself.
const maxFrame = protocol.MaxFrameBytes

var errTooLarge = protocol.Errorf(protocol.KindTooLarge, "request over %d bytes", maxFrame)

func tooLarge(r *protocol.Request) bool {
	frame, err := json.Marshal(r)
	return err != nil || len(frame) > maxFrame
}

// send sends a request, or fails it locally: when it is too large, when not
// logged in (1003, as the edge would answer), or when too many requests
// wait for a reconnection. While reconnecting it is queued and sent once the
// session is back.
func (c *Client) send(req protocol.Request) {
	frame, err := json.Marshal(&req)
	if err != nil || len(frame) > maxFrame {
		c.postEvent(protocol.FailureEvent(&req, errTooLarge))
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.sess
	switch {
	case c.destroyed:
	case s == nil || (c.status != StatusLoggedIn && c.status != StatusReconnecting):
		c.postEvent(protocol.FailureEvent(&req, protocol.ErrNotLoggedIn))
	case c.status == StatusReconnecting:
		if len(s.pending) >= maxPending {
			c.postEvent(protocol.FailureEvent(&req, errQueueFull))
			return
		}
		s.pending = append(s.pending, pendingRequest{req: req, frame: frame})
		c.trackLocked(s, &req)
	default:
		s.conn.send(frame)
		c.trackLocked(s, &req)
	}
}

// sendTimeout bounds the wait for a message's answer. It is longer than an
// edge's own wait for the receiver's acknowledgement (10 s), so that it
// fires only when the request or its answer was lost with a connection.
const sendTimeout = 15 * time.Second

// isMessage reports whether op is answered by onMessageSendSuccess or
// onMessageSendError.
func isMessage(op string) bool {
	switch op {
	case protocol.OpMessageInstantSend, protocol.OpMessageChannelSend, protocol.OpMessageChannelSendForce:
		return true
	}
	return false
}

// trackLocked starts the answer timer of a message: a message sent just
// before a connection dropped may never reach an edge, and its sender must
// still learn that it was not delivered.
func (c *Client) trackLocked(s *session, req *protocol.Request) {
	if !isMessage(req.Op) || req.MsgID == "" {
		return
	}
	if s.sends == nil {
		s.sends = map[string]*time.Timer{}
	}
	if old := s.sends[req.MsgID]; old != nil {
		old.Stop()
	}
	r := *req
	wait := c.opts.sendWait
	if wait <= 0 {
		wait = sendTimeout
	}
	s.sends[req.MsgID] = time.AfterFunc(wait, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if s.sends[r.MsgID] == nil || c.destroyed {
			return
		}
		delete(s.sends, r.MsgID)
		c.postEvent(protocol.FailureEvent(&r, protocol.ErrTimeout))
	})
}

// answeredLocked settles a message's timer when the edge answers it, and
// reports false for an answer that comes after the SDK already gave one.
func (c *Client) answeredLocked(s *session, id string) bool {
	t, ok := s.sends[id]
	if !ok {
		return s.sends == nil || id == ""
	}
	t.Stop()
	delete(s.sends, id)
	return true
}

// msgIDPrefix makes the SDK's message IDs unique across processes, and the
// counter within one.
var (
	msgIDPrefix = rand.Text()[:10]
	msgIDSeq    atomic.Uint64
)

// orNewMsgID returns id, or a new unique message ID if id is empty: the SDK
// picks it so that OnMessageSendSuccess and OnMessageSendError name an ID the
// caller can learn (from those callbacks) and match.
func orNewMsgID(id string) string {
	if id != "" {
		return id
	}
	return "go-" + msgIDPrefix + "-" + strconv.FormatUint(msgIDSeq.Add(1), 10)
}

// jitter returns a random duration in [0, n).
func jitter(n int64) int64 {
	return mathrand.Int64N(n)
}
