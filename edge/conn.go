package edge

import (
	"encoding/json"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-io/switchboard/protocol"
)

// WebSocket close codes the edge uses besides the standard ones.
const (
	CloseKicked       = 4001 // another login took the account
	CloseTokenExpired = 4002 // the token expired while online
	CloseSlowConsumer = 4008 // the client did not read fast enough
	CloseSessionLost  = 4009 // the session ended under the connection
)

// conn is one client WebSocket: a reader (the HTTP handler's goroutine) and a
// writer goroutine fed by a bounded queue.
type conn struct {
	srv *Server
	ws  *websocket.Conn

	out    chan []byte
	done   chan struct{}
	once   sync.Once
	closeM []byte // close frame to send before closing, if any

	mu        sync.Mutex
	sess      *session // nil until login or resume, and after logout
	loggingIn bool
	calls     serial // worker calls before login
}

func newConn(s *Server, ws *websocket.Conn) *conn {
	return &conn{
		srv:  s,
		ws:   ws,
		out:  make(chan []byte, s.cfg.SendQueue),
		done: make(chan struct{}),
	}
}

// run serves the connection until it closes, then detaches its session.
func (c *conn) run() {
	go c.writeLoop()
	hello, _ := json.Marshal(protocol.Event{Ev: protocol.EvHello, V: protocol.Version, Ping: int(c.srv.cfg.Ping / time.Millisecond)})
	c.send(hello)
	c.readLoop()
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
	_ = ws.SetReadDeadline(time.Now().Add(deadline))
	ws.SetPongHandler(func(string) error {
		return ws.SetReadDeadline(time.Now().Add(deadline))
	})
	for {
		typ, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		_ = ws.SetReadDeadline(time.Now().Add(deadline))
		if typ != websocket.TextMessage {
			c.fail(&protocol.Request{Op: "frame"}, protocol.Errorf(protocol.KindInvalid, "frames must be JSON text"))
			continue
		}
		var r protocol.Request
		if err := json.Unmarshal(data, &r); err != nil || r.Op == "" {
			c.fail(&protocol.Request{Op: "frame"}, protocol.Errorf(protocol.KindInvalid, "a frame must be a JSON object with an op"))
			continue
		}
		c.dispatch(&r)
	}
}

func (c *conn) writeLoop() {
	ping := time.NewTicker(c.srv.cfg.Ping)
	defer ping.Stop()
	defer c.ws.Close()
	for {
		select {
		case data := <-c.out:
			_ = c.ws.SetWriteDeadline(time.Now().Add(c.srv.cfg.Ping))
			if err := c.ws.WriteMessage(websocket.TextMessage, data); err != nil {
				c.closeWith(0, "")
				return
			}
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.srv.cfg.Ping)); err != nil {
				c.closeWith(0, "")
				return
			}
		case <-c.done:
			// Flush what is queued, then say why the connection closes.
			for {
				select {
				case data := <-c.out:
					_ = c.ws.SetWriteDeadline(time.Now().Add(time.Second))
					if c.ws.WriteMessage(websocket.TextMessage, data) != nil {
						return
					}
					continue
				default:
				}
				break
			}
			if c.closeM != nil {
				_ = c.ws.WriteControl(websocket.CloseMessage, c.closeM, time.Now().Add(time.Second))
			}
			return
		}
	}
}

// send queues a frame. A client that lets SendQueue frames pile up is
// disconnected (CloseSlowConsumer) rather than allowed to hold memory or
// slow anyone else down; its session waits for a resume as after any drop.
func (c *conn) send(data []byte) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	select {
	case c.out <- data:
		return true
	default:
		c.closeWith(CloseSlowConsumer, "slow consumer: outgoing queue full")
		return false
	}
}

// sendEvent encodes and queues an event outside any session's count.
func (c *conn) sendEvent(ev protocol.Event) {
	data, err := json.Marshal(ev)
	if err == nil {
		c.send(data)
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
		// Unblock the reader; the writer flushes and closes the socket.
		_ = c.ws.SetReadDeadline(time.Now())
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

func (c *conn) session() *session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess
}
