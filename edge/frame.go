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
	data   []byte
	shared bool

	once sync.Once
	wire []byte // the WebSocket frame, for a shared frame
}

// newFrame wraps a frame for one client.
func newFrame(data []byte) *frame { return &frame{data: data} }

// newSharedFrame wraps a frame that many clients get.
func newSharedFrame(data []byte) *frame { return &frame{data: data, shared: true} }

// framed returns the shared frame as one unmasked, final WebSocket text
// frame (RFC 6455 section 5.2: a server's frames are not masked, and the
// edge negotiates no extension), built on first use.
func (f *frame) framed() []byte {
	f.once.Do(func() {
		n := len(f.data)
		var h []byte
		switch {
		case n < 126:
			h = []byte{0x81, byte(n)}
		case n <= 0xffff:
			h = []byte{0x81, 126, 0, 0}
			binary.BigEndian.PutUint16(h[2:], uint16(n))
		default:
			h = make([]byte, 10)
			h[0], h[1] = 0x81, 127
			binary.BigEndian.PutUint64(h[2:], uint64(n))
		}
		f.wire = append(append(make([]byte, 0, len(h)+n), h...), f.data...)
	})
	return f.wire
}

// writeTo writes the frame as one text message.
func (f *frame) writeTo(ws *websocket.Conn) error {
	return ws.WriteMessage(websocket.TextMessage, f.data)
}
