package edge

import (
	"encoding/binary"
	"sync"

	"github.com/gorilla/websocket"
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
	// frame for one client, which then takes 32 bytes.
	wire *sharedWire
}

type sharedWire struct {
	once sync.Once
	b    []byte
}

// newFrame wraps a frame for one client.
func newFrame(data []byte) *frame { return &frame{data: data} }

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
