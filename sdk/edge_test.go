package sdk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-io/switchboard/protocol"
)

// wait bounds every wait for something that must happen.
const wait = 5 * time.Second

// edge is a scripted edge: it upgrades, sends the hello, and hands each
// connection to the test, which plays the server's side frame by frame.
type edge struct {
	t        *testing.T
	url      string
	ping     atomic.Int64 // hello's ping, ms
	conns    chan *edgeConn
	accepted atomic.Int32 // upgrade requests seen, counted before the 101 goes out

	mu  sync.Mutex
	all []*edgeConn
}

// edgeConn is the server's side of one client connection.
type edgeConn struct {
	t           *testing.T
	ws          *websocket.Conn
	subprotocol string
	frames      chan []byte   // client frames, in order
	gone        chan struct{} // closed when reading fails: the client closed or dropped
	closeCode   int           // the client's close frame status, valid after gone
}

func newEdge(t *testing.T) *edge {
	t.Helper()
	e := &edge{t: t, conns: make(chan *edgeConn, 16)}
	e.ping.Store(10000)
	up := websocket.Upgrader{Subprotocols: []string{protocol.Subprotocol}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.accepted.Add(1)
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		ec := &edgeConn{t: t, ws: ws, subprotocol: ws.Subprotocol(), frames: make(chan []byte, 4096), gone: make(chan struct{})}
		e.mu.Lock()
		e.all = append(e.all, ec)
		e.mu.Unlock()
		ec.send(protocol.Event{Ev: protocol.EvHello, V: 1, Ping: int(e.ping.Load())})
		go ec.readLoop()
		e.conns <- ec
	}))
	e.url = "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"
	t.Cleanup(func() {
		e.mu.Lock()
		for _, ec := range e.all {
			ec.ws.Close()
		}
		e.mu.Unlock()
		srv.Close()
	})
	return e
}

// accept returns the next client connection.
func (e *edge) accept() *edgeConn {
	e.t.Helper()
	select {
	case ec := <-e.conns:
		return ec
	case <-time.After(wait):
		e.t.Fatal("no client connected")
		return nil
	}
}

func (ec *edgeConn) readLoop() {
	defer close(ec.gone)
	for {
		_, data, err := ec.ws.ReadMessage()
		if err != nil {
			ec.closeCode = closeCode(err)
			return
		}
		ec.frames <- data
	}
}

// send writes an event frame. Only the test goroutine writes.
func (ec *edgeConn) send(ev protocol.Event) {
	ec.t.Helper()
	if err := ec.ws.WriteJSON(ev); err != nil {
		ec.t.Fatalf("edge send %s: %v", ev.Ev, err)
	}
}

// next returns the client's next frame.
func (ec *edgeConn) next() protocol.Request {
	ec.t.Helper()
	select {
	case data := <-ec.frames:
		return ec.decode(data)
	case <-ec.gone:
		// Both may be ready: frames the client sent before closing count.
		select {
		case data := <-ec.frames:
			return ec.decode(data)
		default:
		}
		ec.t.Fatal("client closed the connection instead of sending")
	case <-time.After(wait):
		ec.t.Fatal("client sent nothing")
	}
	return protocol.Request{}
}

func (ec *edgeConn) decode(data []byte) protocol.Request {
	ec.t.Helper()
	var r protocol.Request
	if err := json.Unmarshal(data, &r); err != nil {
		ec.t.Fatalf("client sent %q: %v", data, err)
	}
	return r
}

// expect returns the client's next frame, which must be op.
func (ec *edgeConn) expect(op string) protocol.Request {
	ec.t.Helper()
	r := ec.next()
	if r.Op != op {
		ec.t.Fatalf("client sent %+v, want op %q", r, op)
	}
	return r
}

// drop cuts the connection without a close frame, like a network failure.
func (ec *edgeConn) drop() {
	ec.ws.Close()
}

// waitGone waits until the client has closed the connection.
func (ec *edgeConn) waitGone() {
	ec.t.Helper()
	select {
	case <-ec.gone:
	case <-time.After(wait):
		ec.t.Fatal("client kept the connection open")
	}
}

// call is one callback as the recorder saw it.
type call struct {
	name string
	args []any
	gid  uint64 // the goroutine it ran on
}

func (c call) String() string { return fmt.Sprintf("%s%v", c.name, c.args) }

// recorder is a Callback that records every callback it gets.
type recorder struct {
	t     *testing.T
	calls chan call
	hook  func(call) // runs on the callback goroutine, for tests that block it
}

func newRecorder(t *testing.T) *recorder {
	return &recorder{t: t, calls: make(chan call, 10000)}
}

func (r *recorder) add(name string, args ...any) {
	c := call{name: name, args: args, gid: goid()}
	if r.hook != nil {
		r.hook(c)
	}
	r.calls <- c
}

// next returns the next callback.
func (r *recorder) next() call {
	r.t.Helper()
	select {
	case c := <-r.calls:
		return c
	case <-time.After(wait):
		r.t.Fatal("no callback")
		return call{}
	}
}

// expect returns the next callback, which must be name with the given
// arguments (compared by their printed form; none given: any).
func (r *recorder) expect(name string, args ...any) call {
	r.t.Helper()
	c := r.next()
	if c.name != name || (len(args) > 0 && fmt.Sprintf("%v", args) != fmt.Sprintf("%v", c.args)) {
		r.t.Fatalf("callback %v, want %s%v", c, name, args)
	}
	return c
}

// goid is the current goroutine's ID, read from its stack header; good
// enough to tell goroutines apart in a test.
func goid() uint64 {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	buf = bytes.TrimPrefix(buf, []byte("goroutine "))
	id, _ := strconv.ParseUint(string(buf[:bytes.IndexByte(buf, ' ')]), 10, 64)
	return id
}

func (r *recorder) OnReconnecting(nretry uint32)      { r.add("OnReconnecting", nretry) }
func (r *recorder) OnReconnected(fd int)              { r.add("OnReconnected", fd) }
func (r *recorder) OnLoginSuccess(uid uint32, fd int) { r.add("OnLoginSuccess", uid, fd) }
func (r *recorder) OnLogout(ecode int)                { r.add("OnLogout", ecode) }
func (r *recorder) OnLoginFailed(ecode int)           { r.add("OnLoginFailed", ecode) }
func (r *recorder) OnChannelJoined(channelID string)  { r.add("OnChannelJoined", channelID) }
func (r *recorder) OnChannelJoinFailed(channelID string, ecode int) {
	r.add("OnChannelJoinFailed", channelID, ecode)
}
func (r *recorder) OnChannelLeaved(channelID string, ecode int) {
	r.add("OnChannelLeaved", channelID, ecode)
}
func (r *recorder) OnChannelUserJoined(account string, uid uint32) {
	r.add("OnChannelUserJoined", account, uid)
}
func (r *recorder) OnChannelUserLeaved(account string, uid uint32) {
	r.add("OnChannelUserLeaved", account, uid)
}
func (r *recorder) OnChannelUserList(n int, accounts []string, uids []uint32) {
	r.add("OnChannelUserList", n, accounts, uids)
}
func (r *recorder) OnChannelQueryUserNumResult(channelID string, ecode, num int) {
	r.add("OnChannelQueryUserNumResult", channelID, ecode, num)
}
func (r *recorder) OnChannelQueryUserIsIn(channelID, account string, isIn int) {
	r.add("OnChannelQueryUserIsIn", channelID, account, isIn)
}
func (r *recorder) OnChannelAttrUpdated(channelID, name, value, typ string) {
	r.add("OnChannelAttrUpdated", channelID, name, value, typ)
}
func (r *recorder) OnInviteReceived(channelID, account string, uid uint32, extra string) {
	r.add("OnInviteReceived", channelID, account, uid, extra)
}
func (r *recorder) OnInviteReceivedByPeer(channelID, account string, uid uint32) {
	r.add("OnInviteReceivedByPeer", channelID, account, uid)
}
func (r *recorder) OnInviteAcceptedByPeer(channelID, account string, uid uint32, extra string) {
	r.add("OnInviteAcceptedByPeer", channelID, account, uid, extra)
}
func (r *recorder) OnInviteRefusedByPeer(channelID, account string, uid uint32, extra string) {
	r.add("OnInviteRefusedByPeer", channelID, account, uid, extra)
}
func (r *recorder) OnInviteFailed(channelID, account string, uid uint32, ecode int, extra string) {
	r.add("OnInviteFailed", channelID, account, uid, ecode, extra)
}
func (r *recorder) OnInviteEndByPeer(channelID, account string, uid uint32, extra string) {
	r.add("OnInviteEndByPeer", channelID, account, uid, extra)
}
func (r *recorder) OnInviteEndByMyself(channelID, account string, uid uint32) {
	r.add("OnInviteEndByMyself", channelID, account, uid)
}
func (r *recorder) OnInviteMsg(channelID, account string, uid int, msgType, msgData, extra string) {
	r.add("OnInviteMsg", channelID, account, uid, msgType, msgData, extra)
}
func (r *recorder) OnMessageSendError(messageID string, ecode int) {
	r.add("OnMessageSendError", messageID, ecode)
}
func (r *recorder) OnMessageSendSuccess(messageID string) { r.add("OnMessageSendSuccess", messageID) }
func (r *recorder) OnMessageInstantReceive(account string, uid uint32, msg string) {
	r.add("OnMessageInstantReceive", account, uid, msg)
}
func (r *recorder) OnMessageChannelReceive(channelID, account string, uid uint32, msg string) {
	r.add("OnMessageChannelReceive", channelID, account, uid, msg)
}
func (r *recorder) OnLog(txt string)                     { r.add("OnLog", txt) }
func (r *recorder) OnInvokeRet(callID, err, resp string) { r.add("OnInvokeRet", callID, err, resp) }
func (r *recorder) OnUserAttrResult(account, name, value string) {
	r.add("OnUserAttrResult", account, name, value)
}
func (r *recorder) OnUserAttrAllResult(account, value string) {
	r.add("OnUserAttrAllResult", account, value)
}
func (r *recorder) OnError(name string, ecode int, desc string) {
	r.add("OnError", name, ecode, desc)
}
func (r *recorder) OnQueryUserStatusResult(name, status string) {
	r.add("OnQueryUserStatusResult", name, status)
}

// testBackoff keeps reconnection tests fast.
var testBackoff = WithReconnectBackoff(time.Millisecond, 5*time.Millisecond)

// newClient returns a client of e with a recorder, destroyed at cleanup.
func newClient(t *testing.T, urls []string, opts ...Option) (*Client, *recorder) {
	t.Helper()
	c := CreateAgoraSDKInstance("app", append([]Option{WithURL(urls...), testBackoff}, opts...)...)
	r := newRecorder(t)
	c.CallbackSet(r)
	// Every test also checks that Destroy leaves no goroutine behind.
	t.Cleanup(func() {
		c.Destroy()
		waitDone(t, c.disp.done, "dispatcher")
		if n := c.live.Load(); n != 0 {
			t.Errorf("%d goroutines still running after Destroy", n)
		}
	})
	return c, r
}

// loggedIn returns a client logged in to e as account with resume token
// session, and the edge's side of its connection.
func loggedIn(t *testing.T, e *edge, account, session string, opts ...Option) (*Client, *recorder, *edgeConn) {
	t.Helper()
	c, r := newClient(t, []string{e.url}, opts...)
	c.Login("app", account, "_no_need_token", 0, "")
	ec := e.accept()
	ec.expect(protocol.OpLogin)
	ec.send(protocol.Event{Ev: protocol.EvLoginSuccess, Session: session})
	r.expect("OnLoginSuccess", uint32(0), 0)
	return c, r, ec
}

// currentSession returns the client's session, to wait on its goroutine.
func currentSession(c *Client) *session {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sess
}

// waitDone waits for a channel to close.
func waitDone(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(wait):
		t.Fatalf("%s did not stop", what)
	}
}
