package testenv

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-io/switchboard/protocol"
)

// Raw is a bare protocol client for tests of what the SDK never sends:
// malformed frames, oversize frames, unknown operations.
type Raw struct {
	t  testing.TB
	WS *websocket.Conn
}

// Dial connects to url offering the current protocol version.
func Dial(t testing.TB, url string) *Raw {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{protocol.Subprotocol}, HandshakeTimeout: WaitTimeout}
	ws, _, err := d.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { ws.Close() })
	r := &Raw{t: t, WS: ws}
	if ev := r.Next(); ev.Ev != protocol.EvHello || ev.V != protocol.Version {
		t.Fatalf("first frame = %+v, want hello v%d", ev, protocol.Version)
	}
	return r
}

// Send writes a request.
func (r *Raw) Send(req protocol.Request) {
	r.t.Helper()
	if err := r.WS.WriteJSON(req); err != nil {
		r.t.Fatalf("send %s: %v", req.Op, err)
	}
}

// SendText writes a text frame as it is.
func (r *Raw) SendText(s string) {
	r.t.Helper()
	if err := r.WS.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		r.t.Fatalf("send: %v", err)
	}
}

// Next reads the next event, failing the test after WaitTimeout.
func (r *Raw) Next() protocol.Event {
	r.t.Helper()
	_ = r.WS.SetReadDeadline(time.Now().Add(WaitTimeout))
	var ev protocol.Event
	if err := r.WS.ReadJSON(&ev); err != nil {
		r.t.Fatalf("waiting for an event: %v", err)
	}
	return ev
}

// Expect reads events until one named ev arrives and returns it.
func (r *Raw) Expect(ev string) protocol.Event {
	r.t.Helper()
	for {
		got := r.Next()
		if got.Ev == ev {
			return got
		}
	}
}

// Login logs account in to App with _no_need_token.
func (r *Raw) Login(account string) protocol.Event {
	r.t.Helper()
	r.Send(protocol.Request{Op: protocol.OpLogin, AppID: App.ID, Account: account, Token: "_no_need_token"})
	ev := r.Next()
	if ev.Ev != protocol.EvLoginSuccess {
		r.t.Fatalf("login %s: got %+v", account, ev)
	}
	return ev
}

// ExpectClose reads until the edge closes the connection and returns the
// close code.
func (r *Raw) ExpectClose() int {
	r.t.Helper()
	_ = r.WS.SetReadDeadline(time.Now().Add(WaitTimeout))
	for {
		_, _, err := r.WS.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		r.t.Fatalf("connection ended without a close frame: %v", err)
	}
}

// Decode is json.Unmarshal into an Event, for tests that read frames raw.
func Decode(b []byte) (protocol.Event, error) {
	var ev protocol.Event
	return ev, json.Unmarshal(b, &ev)
}
