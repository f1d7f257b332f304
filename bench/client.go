package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-io/switchboard/protocol"
)

// Conn is a lean protocol client: one WebSocket read by its load process's
// poller (poller.go; on wss://, by a goroutine of its own), and nothing
// else, so that one load process can hold tens of thousands. It
// acknowledges frames as docs/protocol.md asks (at once when a frame says
// "ack", otherwise every 64 frames) and answers the edge's pings.
type Conn struct {
	Index   int // the user's global index in the run
	Account string

	ws  *websocket.Conn // nil when a poller reads the socket
	wmu sync.Mutex
	h   *Handler

	// A socket a poller reads (ws nil): its descriptor, and closed once
	// the poller has closed it (both under wmu), and the frame being
	// written.
	fd     int
	closed bool
	wbuf   []byte
	// Owned by the poller: what was read of a frame not whole yet, and the
	// fragments of a message.
	pend   []byte
	frag   []byte
	inFrag bool

	wait atomic.Pointer[waiter]
	done chan struct{}
	rerr error // why the reader stopped; read after done

	// Owned by the reader (the poller, or the goroutine).
	n      uint64 // counted frames received
	acked  uint64
	rbuf   []byte   // the frame being read, reused
	ackBuf [32]byte // the acknowledgement being written
	seen   bitset   // members seen (join scenario)
	// seenN mirrors seen.n for readers other than the reader goroutine.
	seenN atomic.Int32
	// settled is set once seen holds every member.
	settled bool

	// sentAt is when the last storm request went out (Unix ns), for the
	// reader to measure its answer against.
	sentAt atomic.Int64
	// lossReported is set once the worker has reported why the
	// connection ended.
	lossReported atomic.Bool
}

// Handler receives what a connection's reader does not hand to a waiting
// Call. Its functions run on the reader goroutine and must be quick.
type Handler struct {
	// Event receives a decoded frame.
	Event func(c *Conn, ev *protocol.Event, at time.Time)
	// Message receives an onMessageChannelReceive or
	// onMessageInstantReceive frame without decoding it: stamp is the send
	// time found in its msg (0 if none). Without it they go to Event.
	Message func(c *Conn, stamp int64, at time.Time)
	// SendOK receives an onMessageSendSuccess frame without decoding it:
	// stamp is the send time its messageID carries (0 if none). Without it
	// the frame goes to Event.
	SendOK func(c *Conn, stamp int64, at time.Time)
	// Joined receives an onChannelUserJoined frame without decoding it:
	// account is the raw text of its account, valid until the handler
	// returns. An account with an escape in it, and any frame when Joined
	// is nil, goes to Event.
	Joined func(c *Conn, account []byte, at time.Time)
}

type waiter struct {
	match func(*protocol.Event) bool
	ch    chan waited
}

type waited struct {
	ev protocol.Event
	at time.Time
}

// writePool shares write buffers between connections: an idle connection
// holds none.
var writePool = &sync.Pool{}

// newDialer returns a WebSocket dialer whose connections leave from src (a
// local IP address; empty lets the kernel choose) and read through a buffer
// of readBuf bytes (0: gorilla's 4 KB). A large buffer takes many queued
// frames in one read from the socket.
func newDialer(src string, readBuf int) *websocket.Dialer {
	nd := &net.Dialer{Timeout: 10 * time.Second}
	if src != "" {
		nd.LocalAddr = &net.TCPAddr{IP: net.ParseIP(src)}
	}
	return &websocket.Dialer{
		NetDialContext:   nd.DialContext,
		Subprotocols:     []string{protocol.Subprotocol},
		HandshakeTimeout: 10 * time.Second,
		ReadBufferSize:   readBuf,
		WriteBufferSize:  1024,
		WriteBufferPool:  writePool,
	}
}

// DialOptions shape a connection.
type DialOptions struct {
	Index   int
	Account string
	Handler *Handler
	// Members, when positive, makes the connection track which of the
	// members 0…Members-1 it has seen in a channel.
	Members int
}

// Dial opens a connection, reads the edge's hello and starts the reader: a
// poller for ws://, a goroutine of its own for wss://.
func Dial(ctx context.Context, d *websocket.Dialer, rawURL string, o DialOptions) (*Conn, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if u.Scheme == "ws" {
		return dialPolled(ctx, d, u, o)
	}
	ws, resp, err := d.DialContext(ctx, rawURL, nil)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("handshake: HTTP %d", resp.StatusCode)
		}
		return nil, err
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, data, err := ws.ReadMessage()
	if err != nil {
		ws.Close()
		return nil, fmt.Errorf("hello: %w", err)
	}
	var hello protocol.Event
	if json.Unmarshal(data, &hello) != nil || hello.Ev != protocol.EvHello {
		ws.Close()
		return nil, fmt.Errorf("hello: unexpected first frame %.60q", data)
	}
	_ = ws.SetReadDeadline(time.Time{})
	c := newConn(o)
	c.ws = ws
	go c.readLoop()
	return c, nil
}

func newConn(o DialOptions) *Conn {
	h := o.Handler
	if h == nil {
		h = &Handler{}
	}
	c := &Conn{Index: o.Index, Account: o.Account, h: h, fd: -1, done: make(chan struct{})}
	if o.Members > 0 {
		c.seen = newBitset(o.Members)
		c.seen.set(o.Index)
	}
	return c
}

// The frames a load connection receives by the hundred thousand a second
// are recognised by their first bytes (the edge encodes protocol.Event, "ev"
// first) and read without a JSON decoding.
var (
	channelMsgPrefix = []byte(`{"ev":"` + protocol.EvMessageChannelReceive + `"`)
	peerMsgPrefix    = []byte(`{"ev":"` + protocol.EvMessageInstantReceive + `"`)
	sendOKPrefix     = []byte(`{"ev":"` + protocol.EvMessageSendSuccess + `"`)
	userJoinedPrefix = []byte(`{"ev":"` + protocol.EvChannelUserJoined + `"`)
	// ackField is how a frame asks for an acknowledgement at once. A
	// string value cannot hold it: its quotes would be escaped.
	ackField = []byte(`"ack":true`)
)

func (c *Conn) readLoop() {
	defer close(c.done)
	for {
		data, err := c.readFrame()
		if err != nil {
			c.rerr = err
			return
		}
		c.handle(data, time.Now())
	}
}

// handle takes a frame that arrived at at, on the connection's reader.
func (c *Conn) handle(data []byte, at time.Time) {
	if c.fast(data, at) {
		return
	}
	var ev protocol.Event
	if err := json.Unmarshal(data, &ev); err != nil {
		return
	}
	if protocol.Counted(ev.Ev) {
		c.count(ev.Ack)
	}
	if w := c.wait.Load(); w != nil && w.match(&ev) && c.wait.CompareAndSwap(w, nil) {
		w.ch <- waited{ev: ev, at: at}
		return
	}
	if c.h.Event != nil {
		c.h.Event(c, &ev, at)
	}
}

// fast hands a message or send success to the handler undecoded, unless a
// Call is waiting (it gets the decoded frame); it reports whether it did.
func (c *Conn) fast(data []byte, at time.Time) bool {
	if c.wait.Load() != nil {
		return false
	}
	switch {
	case c.h.Message != nil && (bytes.HasPrefix(data, channelMsgPrefix) || bytes.HasPrefix(data, peerMsgPrefix)):
		c.count(asksAck(data))
		c.h.Message(c, stampOf(data), at)
	case c.h.SendOK != nil && bytes.HasPrefix(data, sendOKPrefix):
		c.count(asksAck(data))
		c.h.SendOK(c, idStamp(field(data, messageIDField)), at)
	case c.h.Joined != nil && bytes.HasPrefix(data, userJoinedPrefix):
		acc := field(data, accountField)
		if acc == nil || bytes.IndexByte(acc, '\\') >= 0 {
			return false
		}
		c.count(asksAck(data))
		c.h.Joined(c, acc, at)
	default:
		return false
	}
	return true
}

// asksAck reports whether a frame asks for an acknowledgement at once. The
// field follows the message's text (protocol.Event's order), so only the
// frame's end is searched.
func asksAck(data []byte) bool {
	return bytes.Contains(data[max(0, len(data)-48):], ackField)
}

var (
	messageIDField = []byte(`"messageID":"`)
	accountField   = []byte(`"account":"`)
)

// field is the raw text of a string field of a frame (up to its closing
// quote; an escaped quote ends it early, which the load's IDs never hold),
// or nil.
func field(data, name []byte) []byte {
	i := bytes.Index(data, name)
	if i < 0 {
		return nil
	}
	v := data[i+len(name):]
	if j := bytes.IndexByte(v, '"'); j >= 0 {
		return v[:j]
	}
	return nil
}

// readFrame reads the next message into the connection's own buffer,
// which it reuses: the frame is valid until the next read.
func (c *Conn) readFrame() ([]byte, error) {
	_, r, err := c.ws.NextReader()
	if err != nil {
		return nil, err
	}
	b := c.rbuf[:0]
	if cap(b) == 0 {
		b = make([]byte, 0, 512)
	}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			c.rbuf = b
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// count counts a frame and acknowledges what the protocol asks for.
func (c *Conn) count(now bool) {
	c.n++
	if now || c.n-c.acked >= 64 {
		c.acked = c.n
		b := append(c.ackBuf[:0], `{"op":"ack","n":`...)
		b = strconv.AppendUint(b, c.n, 10)
		b = append(b, '}')
		_ = c.write(b)
	}
}

// Call sends r and waits for the first frame that match accepts, returning
// it and when it arrived.
func (c *Conn) Call(ctx context.Context, r *protocol.Request, match func(*protocol.Event) bool) (protocol.Event, time.Time, error) {
	w := &waiter{match: match, ch: make(chan waited, 1)}
	c.wait.Store(w)
	defer c.wait.CompareAndSwap(w, nil)
	if err := c.Send(r); err != nil {
		return protocol.Event{}, time.Time{}, err
	}
	select {
	case got := <-w.ch:
		return got.ev, got.at, nil
	case <-c.done:
		return protocol.Event{}, time.Time{}, c.closedErr()
	case <-ctx.Done():
		return protocol.Event{}, time.Time{}, ctx.Err()
	}
}

func (c *Conn) closedErr() error {
	var ce *websocket.CloseError
	if errors.As(c.rerr, &ce) {
		return fmt.Errorf("closed by the edge: %d %s", ce.Code, ce.Text)
	}
	return fmt.Errorf("connection lost: %w", c.rerr)
}

// Send writes a request.
func (c *Conn) Send(r *protocol.Request) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return c.write(b)
}

func (c *Conn) write(b []byte) error {
	if c.ws == nil {
		return c.writeRaw(opText, b)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return c.ws.WriteMessage(websocket.TextMessage, b)
}

// Close says goodbye and closes the socket.
func (c *Conn) Close() {
	if c.ws == nil {
		c.closeRaw()
		return
	}
	_ = c.ws.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	_ = c.ws.Close()
}

// Done is closed when the reader has stopped.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Messages carry their send time as "~T<Unix ns>~" at the start of msg (see
// worker.sendFrame), so that a receiver in any load process on this machine
// can measure the latency against the same clock.

// stampOf finds the send time in a message or a raw frame; 0 if none.
func stampOf[T string | []byte](s T) int64 {
	for i := 0; i+1 < len(s); i++ {
		if s[i] != '~' || s[i+1] != 'T' {
			continue
		}
		var v int64
		for j := i + 2; j < len(s); j++ {
			ch := s[j]
			if ch == '~' {
				return v
			}
			if ch < '0' || ch > '9' {
				return 0
			}
			v = v*10 + int64(ch-'0')
		}
		return 0
	}
	return 0
}

// bitset is a set of small non-negative integers.
type bitset struct {
	w []uint64
	n int
}

func newBitset(size int) bitset { return bitset{w: make([]uint64, (size+63)/64)} }

// set adds i and reports whether it was new.
func (b *bitset) set(i int) bool {
	if i < 0 || i/64 >= len(b.w) {
		return false
	}
	m := uint64(1) << (i % 64)
	if b.w[i/64]&m != 0 {
		return false
	}
	b.w[i/64] |= m
	b.n++
	return true
}

func (b *bitset) clear(i int) {
	if i < 0 || i/64 >= len(b.w) {
		return
	}
	m := uint64(1) << (i % 64)
	if b.w[i/64]&m != 0 {
		b.w[i/64] &^= m
		b.n--
	}
}
