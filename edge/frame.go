package edge

import (
	"sync"

	"github.com/gorilla/websocket"
)

// frame is one encoded event on its way to clients: queued on connections,
// kept in sessions' replay buffers. A frame for one client is written as it
// is. A shared frame (a channel event, which every local member of the
// channel gets) is framed for WebSocket once, by whichever connection writes
// it first, and that framing is reused by all the others: one encoding and
// one framing per edge per channel event, not one per member.
type frame struct {
	data   []byte
	shared bool

	once sync.Once
	pm   *websocket.PreparedMessage
	err  error
}

// newFrame wraps a frame for one client.
func newFrame(data []byte) *frame { return &frame{data: data} }

// newSharedFrame wraps a frame that many clients get.
func newSharedFrame(data []byte) *frame { return &frame{data: data, shared: true} }

// prepared returns the frame's WebSocket framing, built on first use.
func (f *frame) prepared() (*websocket.PreparedMessage, error) {
	f.once.Do(func() {
		f.pm, f.err = websocket.NewPreparedMessage(websocket.TextMessage, f.data)
	})
	return f.pm, f.err
}

// writeTo writes the frame as one text message.
func (f *frame) writeTo(ws *websocket.Conn) error {
	if !f.shared {
		return ws.WriteMessage(websocket.TextMessage, f.data)
	}
	pm, err := f.prepared()
	if err != nil {
		return err
	}
	return ws.WritePreparedMessage(pm)
}
