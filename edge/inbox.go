package edge

import (
	"bytes"
	"encoding/json"
	"errors"
	"sync"

	"github.com/gorilla/websocket"

	"github.com/switchboard-io/switchboard/metrics"
	"github.com/switchboard-io/switchboard/protocol"
)

// A connection's reader only reads frames; decoding and handling them runs
// on a goroutine that exists while there are frames to handle. The reader's
// stack then stays as small as reading needs, and an idle connection's one
// goroutine costs little memory. The inbox is bounded: a client that sends
// faster than its requests are handled waits, in TCP, for the edge.

// maxInbox bounds the frames of one connection waiting to be handled.
const maxInbox = 64

type inbox struct {
	mu      sync.Mutex
	q       []inFrame
	running bool
	space   chan struct{} // closed when a waiting reader may go on
	drained chan struct{} // closed when the handler has nothing left
}

type inFrame struct {
	typ  int
	data *bytes.Buffer // from frameBufs, given back once handled
}

// put queues a frame for handling, waiting while the inbox is full.
func (c *conn) put(typ int, data *bytes.Buffer) {
	in := &c.in
	in.mu.Lock()
	for len(in.q) >= maxInbox {
		if in.space == nil {
			in.space = make(chan struct{})
		}
		space := in.space
		in.mu.Unlock()
		select {
		case <-space:
		case <-c.done:
			putFrameBuf(data)
			return // the connection closes: the frame is not handled
		}
		in.mu.Lock()
	}
	in.q = append(in.q, inFrame{typ, data})
	start := !in.running
	in.running = true
	in.mu.Unlock()
	if start {
		go c.handleFrames()
	}
}

// idle reports whether no frame waits or is being handled.
func (in *inbox) idle() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return !in.running && len(in.q) == 0
}

// handleFrames handles queued frames in order until none is left.
func (c *conn) handleFrames() {
	in := &c.in
	for {
		in.mu.Lock()
		if len(in.q) == 0 {
			in.running = false
			in.q = nil
			if in.drained != nil {
				close(in.drained)
				in.drained = nil
			}
			in.mu.Unlock()
			return
		}
		f := in.q[0]
		in.q[0] = inFrame{}
		in.q = in.q[1:]
		if in.space != nil && len(in.q) < maxInbox/2 {
			close(in.space)
			in.space = nil
		}
		in.mu.Unlock()
		c.waitInFlight()
		c.handleSafely(f.typ, f.data.Bytes())
		putFrameBuf(f.data)
	}
}

// waitInFlight holds the next frame back while the connection has
// maxInFlight requests waiting for the workers: the inbox then fills, and
// the reader stops reading the socket until they are answered.
func (c *conn) waitInFlight() {
	c.calls.wait(maxInFlight, c.done)
	if sess := c.session(); sess != nil {
		sess.calls.wait(maxInFlight, c.done)
	}
}

// handleSafely handles a frame; a panic closes this connection only.
func (c *conn) handleSafely(typ int, data []byte) {
	defer func() {
		if v := recover(); v != nil {
			c.srv.recovered("frame", v)
			c.closeWith(websocket.CloseInternalServerErr, "internal error")
		}
	}()
	c.handle(typ, data)
}

// handle decodes one frame and dispatches it. A frame read before the
// connection closed is handled even after: a client's last request (a
// logout before it goes) counts.
func (c *conn) handle(typ int, data []byte) {
	if typ != websocket.TextMessage {
		c.fail(&protocol.Request{Op: "frame"}, protocol.Errorf(protocol.KindInvalid, "frames must be JSON text"))
		return
	}
	if n, ok := parseAck(data); ok {
		c.ack(n)
		return
	}
	pooled := requests.Get().(*protocol.Request)
	*pooled = protocol.Request{}
	var err error
	if !protocol.DecodePeerMessage(data, pooled) {
		err = json.Unmarshal(data, pooled)
	}
	if err == nil && pooled.Op == protocol.OpMessageInstantSend {
		// A peer message is handled before dispatch returns, and what
		// waits for its answer keeps only strings of the request.
		c.dispatch(pooled)
		requests.Put(pooled)
		return
	}
	// Every other request may outlive this call (a worker's answer, a
	// login in progress): it gets a copy of its own.
	r := *pooled
	requests.Put(pooled)
	if err != nil {
		// A field of the wrong JSON type ("uid":"5") still leaves the
		// op decoded, as the rest: json.Unmarshal goes on past it. The
		// op then refuses it as it refuses a missing field.
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" && te.Field != "op" && r.Op != "" {
			c.wrongType(&r, te)
			return
		}
	}
	if err != nil || r.Op == "" {
		c.fail(&protocol.Request{Op: "frame"}, protocol.Errorf(protocol.KindInvalid, "a frame must be a JSON object with an op"))
		return
	}
	c.dispatch(&r)
}

// requests holds the decoded requests of peer messages, which no one keeps
// once dispatched: at thousands a second, a request of 350 bytes each was a
// fifth of what the edge allocated.
var requests = sync.Pool{New: func() any { return new(protocol.Request) }}

// ackPrefix is how the SDKs write an acknowledgement: {"op":"ack","n":N}.
var ackPrefix = []byte(`{"op":"` + protocol.OpAck + `","n":`)

// parseAck reads an acknowledgement written as the SDKs write it, the frame
// a busy client sends most, without decoding it into a Request. Any other
// spelling is decoded as every other frame is.
func parseAck(data []byte) (uint64, bool) {
	if !bytes.HasPrefix(data, ackPrefix) || len(data) < len(ackPrefix)+2 || data[len(data)-1] != '}' {
		return 0, false
	}
	digits := data[len(ackPrefix) : len(data)-1]
	if len(digits) > 19 || (len(digits) > 1 && digits[0] == '0') {
		return 0, false // 19 digits always fit in a uint64
	}
	var n uint64
	for _, d := range digits {
		if d < '0' || d > '9' {
			return 0, false
		}
		n = n*10 + uint64(d-'0')
	}
	return n, true
}

// ack is dispatch's acknowledgement, for a frame parseAck read.
func (c *conn) ack(n uint64) {
	sess := c.session()
	if sess == nil {
		return
	}
	c.srv.Metrics.EdgeRequest(protocol.OpAck, metrics.ResultOK)
	sess.ack(n)
}

// drain waits until every frame read so far has been handled.
func (c *conn) drain() {
	in := &c.in
	in.mu.Lock()
	if !in.running {
		in.mu.Unlock()
		return
	}
	if in.drained == nil {
		in.drained = make(chan struct{})
	}
	ch := in.drained
	in.mu.Unlock()
	<-ch
}
