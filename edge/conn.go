package edge

import (
	"bytes"
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-io/switchboard/metrics"
	"github.com/switchboard-io/switchboard/protocol"
)

// conn is one client WebSocket: a reader (the HTTP handler's goroutine) and,
// while there is something to write, a writer fed by a bounded queue.
type conn struct {
	srv *Server
	ws  *websocket.Conn
	bc  *batchConn // the socket under ws, which gathers a burst of frames into one write

	// The outgoing queue. It holds at most SendQueue frames beyond those a
	// resume replays (credit): a replay of a long backlog is not a slow
	// consumer, a client that lets new frames pile up is.
	qmu    sync.Mutex
	q      []*frame
	q0     []*frame // q's array from its start, reused once q is empty
	credit int
	// qBytes are the bytes of q's frames and creditBytes those of the
	// replayed ones still in it: the queue's bound counts bytes as well
	// as frames (maxQueueBytes).
	qBytes      int
	creditBytes int
	// The writer runs only while there is something to write: frames, a
	// ping that is due, or the close. An idle connection has no goroutine
	// but its reader.
	writing bool // a writer goroutine is running (or the connection is finished)
	paced   bool // the pacer holds channel frames of this connection (pace.go)
	pingDue bool
	// lastWrite is when the writer last wrote, in ns since the pacer's epoch.
	lastWrite atomic.Int64
	phase     int64 // the connection's slot of each pacing interval (pace.go)
	pingT     *time.Timer
	idle      idleState // the login deadline (idle.go)
	// writer is writeRun as a func value made once: a go statement on a
	// method allocates a closure each time, and the writer starts for
	// most peer messages.
	writer func()

	done     chan struct{}
	readDone chan struct{} // closed when the reader has stopped
	once     sync.Once
	closeM   []byte        // close frame to send before closing, if any
	sockDone chan struct{} // closed once the writer has sent the close and closed the socket
	slow     bool          // closed for overflowing its queue: skip the flush
	wdl      time.Time     // the write deadline of bursts (writeBurst), the writer's alone

	addr   string          // the client's address, for logs
	warned map[string]bool // refusal kinds already logged for this connection

	mu        sync.Mutex
	sess      *session // nil until login or resume, and after logout
	loggingIn bool     // a login or a resume is under way
	calls     serial   // worker calls before login
	// failedResumes counts resumes refused on this connection.
	failedResumes int
	in            inbox // frames read and not yet handled
}

func newConn(s *Server, ws *websocket.Conn) *conn {
	c := &conn{
		srv:      s,
		ws:       ws,
		done:     make(chan struct{}),
		readDone: make(chan struct{}),
		sockDone: make(chan struct{}),
		phase:    s.pacer.phase(),
	}
	c.writer = c.writeRun
	c.calls.onPanic = func(v any) {
		s.recovered("connection request", v)
		c.closeWith(websocket.CloseInternalServerErr, "internal error")
	}
	return c
}

// run serves the connection until it closes, then detaches its session.
func (c *conn) run() {
	c.pingT = time.AfterFunc(c.srv.cfg.Ping, c.duePing)
	c.startLoginTimer()
	defer c.stopLoginTimer()
	hello, _ := json.Marshal(protocol.Event{Ev: protocol.EvHello, V: protocol.Version, Ping: int(c.srv.cfg.Ping / time.Millisecond)})
	c.send(newFrame(hello))
	c.readLoop()
	// The frames read before the connection ended are handled while it
	// still has its session (a client's logout just before it goes).
	c.drain()
	close(c.readDone)
	c.closeWith(0, "")
	c.mu.Lock()
	sess := c.sess
	c.sess = nil
	c.mu.Unlock()
	if sess != nil {
		sess.detach(c)
	}
}

func (c *conn) readLoop() {
	ws := c.ws
	ws.SetReadLimit(protocol.MaxFrameBytes)
	deadline := 3 * c.srv.cfg.Ping
	// alive extends the read deadline, except while closing: then the
	// reader only waits, within closeGrace, for the client's close frame.
	alive := func() error {
		select {
		case <-c.done:
			return nil
		default:
			return ws.SetReadDeadline(time.Now().Add(deadline))
		}
	}
	_ = alive()
	ws.SetPongHandler(func(string) error { return alive() })
	for {
		typ, data, err := readFrame(ws)
		if err != nil {
			return
		}
		select {
		case <-c.done:
			putFrameBuf(data)
			continue // closing: requests are no longer served
		default:
		}
		_ = alive()
		if typ == websocket.TextMessage && quickOp(data.Bytes()) && c.in.idle() {
			// Nothing read before it waits: handled here, without a
			// goroutine of its own.
			c.waitInFlight()
			c.handleSafely(typ, data.Bytes())
			putFrameBuf(data)
			continue
		}
		c.put(typ, data)
	}
}

// quickOp reports whether a frame is most likely one of the requests the
// edge answers without waiting for anyone: an acknowledgement or a peer
// message, the two a busy client sends most. The reader handles those
// itself when nothing else waits. A guess either way changes only which
// goroutine handles the frame.
func quickOp(data []byte) bool {
	return bytes.Contains(data, opAck) || bytes.Contains(data, opInstantSend)
}

var (
	opAck         = []byte(`"op":"` + protocol.OpAck + `"`)
	opInstantSend = []byte(`"op":"` + protocol.OpMessageInstantSend + `"`)
)

// Frames are read into buffers from a pool, given back once handled: a
// request is decoded and dropped, and a connection that sends thousands a
// second makes no garbage of them.
var frameBufs = sync.Pool{New: func() any { return bytes.NewBuffer(make([]byte, 0, 1024)) }}

// maxPooledFrame is the largest buffer given back to the pool.
const maxPooledFrame = 16 << 10

// readFrame reads the next message into a pooled buffer (putFrameBuf).
func readFrame(ws *websocket.Conn) (int, *bytes.Buffer, error) {
	typ, r, err := ws.NextReader()
	if err != nil {
		return 0, nil, err
	}
	b := frameBufs.Get().(*bytes.Buffer)
	b.Reset()
	if _, err := b.ReadFrom(r); err != nil {
		putFrameBuf(b)
		return 0, nil, err
	}
	return typ, b, nil
}

// putFrameBuf gives a frame's buffer back to the pool.
func putFrameBuf(b *bytes.Buffer) {
	if b.Cap() <= maxPooledFrame {
		frameBufs.Put(b)
	}
}

// kick starts the writer unless it runs. It is called with qmu held.
func (c *conn) kickLocked() {
	if !c.writing {
		c.writing = true
		go c.writer()
	}
}

// duePing marks a keep-alive ping as due and starts the writer for it.
func (c *conn) duePing() {
	c.qmu.Lock()
	c.pingDue = true
	c.kickLocked()
	c.qmu.Unlock()
}

// writeRun writes what there is to write and returns when there is no more;
// after the close, it closes the socket, and no writer runs again.
func (c *conn) writeRun() {
	for {
		// A closing connection stops taking frames at once, even with more
		// queued: closing decides what it still sends.
		select {
		case <-c.done:
			c.pingT.Stop()
			c.closing()
			c.ws.Close()
			close(c.sockDone)
			return
		default:
		}
		c.qmu.Lock()
		ping := c.pingDue
		c.pingDue = false
		c.qmu.Unlock()
		if ping {
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.srv.cfg.Ping)); err != nil {
				c.closeWith(0, "")
				continue
			}
			c.pingT.Reset(c.srv.cfg.Ping)
		}
		if f := c.pop(); f != nil {
			if err := c.writeBurst(f); err != nil {
				c.closeWith(0, "")
			}
			continue
		}
		c.qmu.Lock()
		idle := len(c.q) == 0 && !c.pingDue
		select {
		case <-c.done:
			idle = false
		default:
		}
		if idle {
			c.writing = false
		}
		c.qmu.Unlock()
		if idle {
			return
		}
	}
}

// closing flushes what is queued (a final onLogout, say), then says why the
// connection closes. A slow consumer's queue is the reason it closes: it gets
// the close frame only.
func (c *conn) closing() {
	for !c.slow {
		f := c.pop()
		if f == nil {
			break
		}
		_ = c.ws.SetWriteDeadline(time.Now().Add(time.Second))
		err := f.writeTo(c.ws)
		f.release()
		if err != nil {
			return
		}
	}
	if c.closeM == nil {
		return
	}
	if c.ws.WriteControl(websocket.CloseMessage, c.closeM, time.Now().Add(closeGrace)) != nil {
		return
	}
	// Let the client answer the close before the socket goes: closing a
	// socket with unread input resets it, and the reset can destroy the
	// close frame before the client reads it.
	t := time.NewTimer(closeGrace)
	defer t.Stop()
	select {
	case <-c.readDone:
	case <-t.C:
	}
}

// closeGrace bounds the close handshake of a connection the edge closes.
const closeGrace = time.Second

// keptQueue is the largest queue array an emptied queue keeps.
const keptQueue = 16

// maxBurst bounds the frames gathered into one socket write.
const maxBurst = 256

// writeBurst writes f and whatever else is queued, up to maxBurst frames,
// with one socket write.
func (c *conn) writeBurst(f *frame) error {
	// A write may take up to a ping interval; the deadline moves on only
	// once half of that has passed, which spares the socket a new one on
	// every burst.
	now := time.Now()
	if c.wdl.Sub(now) < c.srv.cfg.Ping/2 {
		c.wdl = now.Add(c.srv.cfg.Ping)
	}
	_ = c.ws.SetWriteDeadline(c.wdl)
	c.lastWrite.Store(c.srv.pacer.at(now))
	if c.bc != nil {
		// Shared frames go to the socket without gorilla, which sets the
		// deadline only for its own.
		_ = c.bc.SetWriteDeadline(c.wdl)
		c.bc.begin()
	}
	// A frame is done with once written into the burst (or not, on an
	// error): the queue lets go of it.
	err := c.writeFrame(f)
	f.release()
	for n := 1; err == nil && n < maxBurst; n++ {
		if f = c.pop(); f == nil {
			break
		}
		err = c.writeFrame(f)
		f.release()
	}
	if c.bc != nil {
		if ferr := c.bc.end(); err == nil {
			err = ferr
		}
	}
	return err
}

// writeFrame writes one frame of a burst. The writer frames it for
// WebSocket itself, into the burst (batchConn.writeText): a shared frame's
// framing is made once for every member, and gorilla's writer, which
// allocates on every message, is not used. Only the writer writes data
// frames, so nothing comes between the parts of one of gorilla's, and
// gorilla's control frames (a pong from the reader) are written whole.
func (c *conn) writeFrame(f *frame) error {
	switch {
	case c.bc == nil:
		return f.writeTo(c.ws)
	case f.shared():
		_, err := c.bc.Write(f.framed())
		return err
	default:
		return c.bc.writeText(f.data)
	}
}

// pop takes the next queued frame, or nil.
func (c *conn) pop() *frame {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	if len(c.q) == 0 {
		return nil
	}
	f := c.q[0]
	c.q[0] = nil
	c.q = c.q[1:]
	if len(c.q) == 0 {
		// A small array is kept for the next frames; a large one (a
		// replay's) goes.
		if cap(c.q0) > keptQueue {
			c.q0 = nil
		}
		c.q = c.q0
	}
	c.qBytes -= len(f.data)
	if c.credit > 0 {
		c.credit--
		c.creditBytes = max(c.creditBytes-len(f.data), 0)
	}
	return f
}

// send queues a frame. A client that lets SendQueue frames pile up is
// disconnected (protocol.CloseSlowConsumer) rather than allowed to hold memory or
// slow anyone else down; its session waits for a resume as after any drop.
func (c *conn) send(f *frame) bool {
	return c.push(false, f)
}

// replay queues the frames a resume sends again, whatever their number.
func (c *conn) replay(fs ...*frame) bool {
	return c.push(true, fs...)
}

func (c *conn) push(replay bool, fs ...*frame) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	c.qmu.Lock()
	if !replay && (len(c.q)-c.credit >= c.srv.cfg.SendQueue || c.qBytes-c.creditBytes >= maxQueueBytes) {
		c.qmu.Unlock()
		c.closeSlow()
		return false
	}
	was := cap(c.q)
	c.q = append(c.q, fs...)
	if cap(c.q) != was {
		c.q0 = c.q[:0]
	}
	// The queue holds each frame until the writer is done with it; a
	// queue that is dropped with its connection holds them for good, and
	// the collector has them.
	n := 0
	for _, f := range fs {
		f.hold()
		n += len(f.data)
	}
	c.qBytes += n
	if replay {
		c.credit += len(fs)
		c.creditBytes += n
	}
	switch {
	case replay || !allShared(fs):
		c.kickLocked()
	case !c.writing && !c.paced:
		// Channel frames wait for the pacer (pace.go).
		c.paced = true
		c.srv.pacer.add(c, c.lastWrite.Load())
	}
	c.qmu.Unlock()
	return true
}

func allShared(fs []*frame) bool {
	for _, f := range fs {
		if !f.shared() {
			return false
		}
	}
	return true
}

// paceDue starts the writer for the channel frames the pacer held.
func (c *conn) paceDue() {
	c.qmu.Lock()
	c.paced = false
	if len(c.q) > 0 {
		c.kickLocked()
	}
	c.qmu.Unlock()
}

// closeSlow disconnects a client that let its outgoing queue overflow.
func (c *conn) closeSlow() {
	c.once.Do(func() {
		c.srv.slowConsumers.Add(1)
		c.srv.Metrics.SlowConsumer()
		c.refused(metrics.RefusedFlood, "connection closed: it did not read its frames")
		c.slow = true
		c.closeM = websocket.FormatCloseMessage(protocol.CloseSlowConsumer, "slow consumer: outgoing queue full")
		close(c.done)
		c.qmu.Lock()
		c.kickLocked()
		c.qmu.Unlock()
		_ = c.ws.SetReadDeadline(time.Now().Add(closeGrace))
	})
}

// sendEvent encodes and queues an event outside any session's count.
func (c *conn) sendEvent(ev protocol.Event) {
	data, err := json.Marshal(ev)
	if err == nil {
		c.send(newFrame(data))
	}
}

// closeWith closes the connection once; code 0 closes without a close frame
// of our own (the peer went away).
func (c *conn) closeWith(code int, reason string) {
	c.once.Do(func() {
		if code != 0 {
			c.closeM = websocket.FormatCloseMessage(code, reason)
		}
		close(c.done)
		c.qmu.Lock()
		c.kickLocked()
		c.qmu.Unlock()
		// Unblock the reader, at once or after the close handshake; the
		// writer flushes and closes the socket.
		grace := time.Duration(0)
		if code != 0 {
			grace = closeGrace
		}
		_ = c.ws.SetReadDeadline(time.Now().Add(grace))
	})
}

// fail tells the client that r failed.
func (c *conn) fail(r *protocol.Request, err error) {
	c.deliver(protocol.FailureEvent(r, err))
}

// deliver sends an event to the client, counted in its session if it has
// one.
func (c *conn) deliver(ev protocol.Event) {
	c.mu.Lock()
	sess := c.sess
	c.mu.Unlock()
	if sess != nil && protocol.Counted(ev.Ev) {
		sess.deliverEvent(ev)
		return
	}
	c.sendEvent(ev)
}

// refused counts a refusal of kind (metrics.Refused*) and logs it at warn
// level, once per connection and kind: an attack is visible to the operator
// without one log line per frame. Nothing a client sent beyond names goes
// into the line: no token, no message body.
func (c *conn) refused(kind, msg string, args ...any) {
	c.srv.Metrics.Refused(kind)
	if c.firstWarning(kind) {
		c.srv.log.Warn(msg, append([]any{"kind", kind, "remote", c.addr}, args...)...)
	}
}

// firstWarning reports whether this is the first warning of kind on the
// connection, and remembers it.
func (c *conn) firstWarning(kind string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.warned[kind] {
		return false
	}
	if c.warned == nil {
		c.warned = map[string]bool{}
	}
	c.warned[kind] = true
	return true
}

func (c *conn) session() *session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess
}
