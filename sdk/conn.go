package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-io/switchboard/protocol"
)

const (
	// defaultPing is the keep-alive interval assumed when a hello names none.
	defaultPing = 10 * time.Second
	// writeWait bounds one frame write: a peer that stops reading for that
	// long is gone.
	writeWait = 10 * time.Second
	// closeWait bounds the close frame of a graceful close, which only
	// Logout and Destroy wait for.
	closeWait = time.Second
)

// conn is one WebSocket connection to an edge. Reads happen on the session
// goroutine; writes go through a queue drained by the conn's own writer
// goroutine, so that API calls and acknowledgements never block on the
// network and keep the order in which they were made.
type conn struct {
	ws   *websocket.Conn
	url  string
	idle time.Duration // 3 × the hello's ping: silence that means a lost connection

	mu      sync.Mutex
	cond    *sync.Cond
	queue   [][]byte
	closing bool // write what is queued, then a close frame, then close
	dead    bool
}

// dial connects to url and reads the edge's hello. ctx bounds both, and
// cancelling it abandons the attempt.
func dial(ctx context.Context, d *websocket.Dialer, url string) (*conn, error) {
	ws, _, err := d.DialContext(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	// A hello that never comes must not hold the attempt past ctx: the read
	// below does not watch ctx, so closing the socket is what interrupts it.
	stop := context.AfterFunc(ctx, func() { ws.Close() })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		ws.SetReadDeadline(dl)
	}
	_, data, err := ws.ReadMessage()
	if err != nil {
		ws.Close()
		return nil, fmt.Errorf("reading hello: %w", err)
	}
	var hello protocol.Event
	if err := json.Unmarshal(data, &hello); err != nil || hello.Ev != protocol.EvHello {
		ws.Close()
		return nil, fmt.Errorf("first frame is not a hello: %.64q", data)
	}
	if hello.V != 0 && hello.V != protocol.Version {
		ws.Close()
		return nil, fmt.Errorf("edge speaks protocol version %d, not %d", hello.V, protocol.Version)
	}
	ping := time.Duration(hello.Ping) * time.Millisecond
	if ping <= 0 {
		ping = defaultPing
	}
	c := &conn{ws: ws, url: url, idle: 3 * ping}
	c.cond = sync.NewCond(&c.mu)
	// Installing a handler replaces gorilla's default one, so this one must
	// still answer with a pong; it also counts a ping as a sign of life.
	ws.SetPingHandler(func(data string) error {
		ws.SetReadDeadline(time.Now().Add(c.idle))
		err := ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(writeWait))
		var ne net.Error
		if errors.Is(err, websocket.ErrCloseSent) || (errors.As(err, &ne) && ne.Timeout()) {
			return nil
		}
		return err
	})
	return c, nil
}

// read returns the next frame. A connection silent for idle is lost.
func (c *conn) read() ([]byte, error) {
	c.ws.SetReadDeadline(time.Now().Add(c.idle))
	_, data, err := c.ws.ReadMessage()
	return data, err
}

// send queues a frame for the writer. Frames sent after close are dropped:
// their connection is gone and resuming does not replay requests.
func (c *conn) send(frame []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead || c.closing {
		return
	}
	c.queue = append(c.queue, frame)
	c.cond.Signal()
}

// sendJSON queues a request the SDK makes on its own (ack, resume, login).
func (c *conn) sendJSON(r *protocol.Request) {
	frame, err := json.Marshal(r)
	if err == nil {
		c.send(frame)
	}
}

// writeLoop writes queued frames until the connection dies or a graceful
// close has flushed the queue.
func (c *conn) writeLoop() {
	for {
		c.mu.Lock()
		for len(c.queue) == 0 && !c.closing && !c.dead {
			c.cond.Wait()
		}
		if c.dead {
			c.mu.Unlock()
			return
		}
		batch := c.queue
		c.queue = nil
		finish := c.closing && len(batch) == 0
		c.mu.Unlock()

		if finish {
			msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
			c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(closeWait))
			c.close()
			return
		}
		for _, frame := range batch {
			c.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if err := c.ws.WriteMessage(websocket.TextMessage, frame); err != nil {
				// The reader sees the closed socket and starts a reconnection.
				c.close()
				return
			}
		}
	}
}

// close drops the connection at once, without a close frame. It unblocks the
// reader and the writer.
func (c *conn) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return
	}
	c.dead = true
	c.queue = nil
	c.cond.Broadcast()
	c.ws.Close()
}

// closeGracefully lets the writer send what is queued (a logout, say), then
// a close frame, then close the socket.
func (c *conn) closeGracefully() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closing = true
	c.cond.Broadcast()
}

// closeCode is the status of the close frame that ended a read, or 0.
func closeCode(err error) int {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return 0
}
