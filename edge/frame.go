package edge

import (
	"encoding/binary"
	"sync"
	"sync/atomic"

	"github.com/gorilla/websocket"

	"github.com/switchboard-io/switchboard/protocol"
)

// frame is one encoded event on its way to clients: queued on connections,
// kept in sessions' replay buffers. A frame for one client is written as it
// is. A shared frame (a channel event, which every local member of the
// channel gets) is framed for WebSocket once, by whichever connection writes
// it first, and that framing is copied as it is into the other members'
// writes: one encoding and one framing per edge per channel event, not one
// per member.
type frame struct {
	data []byte
	// wire is a shared frame's WebSocket framing, made once; nil for a
	// frame for one client.
	wire *sharedWire
	// refs counts the holders of a frame from framePool (pooled): its
	// maker, the replay buffer and every queue it is in. The last to let
	// go (release) puts it back. Other frames are left to the collector
	// and do not count.
	refs   atomic.Int32
	pooled bool
}

type sharedWire struct {
	once sync.Once
	b    []byte
}

// newFrame wraps a frame for one client.
func newFrame(data []byte) *frame { return &frame{data: data} }

// framePool holds the frames of peer messages (the receiver's
// onMessageInstantReceive, the sender's onMessageSendSuccess) with their
// arrays: two of every peer message's allocations, and most of its bytes.
var framePool = sync.Pool{New: func() any { return &frame{pooled: true} }}

// pooledFrame takes a frame for one client from framePool, empty and held
// once, by its maker, who fills it and releases it once it has handed it
// on (session.deliverReply holds it for as long as it keeps it).
func pooledFrame() *frame {
	f := framePool.Get().(*frame)
	f.refs.Store(1)
	return f
}

// instantReceiveFrame is a pooled onMessageInstantReceive frame.
func instantReceiveFrame(account, msg string) *frame {
	f := pooledFrame()
	f.data = protocol.AppendInstantReceive(f.data[:0], account, msg)
	return f
}

// sendSuccessFrame is a pooled onMessageSendSuccess frame.
func sendSuccessFrame(messageID string) *frame {
	f := pooledFrame()
	f.data = protocol.AppendSendSuccess(f.data[:0], messageID)
	return f
}

// hold counts one more holder of a pooled frame: a replay buffer or a
// queue that keeps it. The caller holds it already.
func (f *frame) hold() {
	if f.pooled {
		f.refs.Add(1)
	}
}

// release lets go of a pooled frame, once for each hold and once for its
// maker; the last release puts it back in framePool, and nobody may touch
// it after their release. A frame released more often than held would be
// written to one client while another's message is being made in it: that
// is a bug in the edge, and it stops here rather than go on.
func (f *frame) release() {
	if !f.pooled {
		return
	}
	switch n := f.refs.Add(-1); {
	case n > 0:
		return
	case n < 0:
		panic("edge: a pooled frame was released more often than it was held")
	}
	if cap(f.data) > maxPooledFrame { // as the read buffers' pool (conn.go)
		f.data = nil
	}
	f.data = f.data[:0]
	framePool.Put(f)
}

// newSharedFrame wraps a frame that many clients get.
func newSharedFrame(data []byte) *frame { return &frame{data: data, wire: new(sharedWire)} }

// shared reports whether the frame is one that many clients get.
func (f *frame) shared() bool { return f.wire != nil }

// framed returns the shared frame as one WebSocket frame (textHeader),
// built on first use.
func (f *frame) framed() []byte {
	f.wire.once.Do(func() {
		f.wire.b = append(textHeader(make([]byte, 0, maxHeader+len(f.data)), len(f.data)), f.data...)
	})
	return f.wire.b
}

// maxHeader is the longest WebSocket frame header a server writes.
const maxHeader = 10

// textHeader appends the header of an unmasked, final WebSocket text frame
// of n bytes (RFC 6455 section 5.2: a server's frames are not masked, and
// the edge negotiates no extension).
func textHeader(b []byte, n int) []byte {
	switch {
	case n < 126:
		return append(b, 0x81, byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, 0x81, 126), uint16(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, 0x81, 127), uint64(n))
	}
}

// writeTo writes the frame as one text message.
func (f *frame) writeTo(ws *websocket.Conn) error {
	return ws.WriteMessage(websocket.TextMessage, f.data)
}
