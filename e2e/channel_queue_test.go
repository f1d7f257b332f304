//go:build unix

package e2e_test

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-io/switchboard/edge"
	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
)

// dialSlow connects a raw client whose socket takes in little, so that a
// client that stops reading backs up into the edge's outgoing queue quickly.
func dialSlow(t *testing.T, url string) *websocket.Conn {
	t.Helper()
	nd := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		return errors.Join(err, serr)
	}}
	d := websocket.Dialer{
		Subprotocols:     []string{protocol.Subprotocol},
		NetDialContext:   nd.DialContext,
		HandshakeTimeout: 5 * time.Second,
		ReadBufferSize:   1024,
	}
	ws, _, err := d.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return ws
}

// readUntil reads events from ws until one satisfies done.
func readUntil(t *testing.T, ws *websocket.Conn, done func(protocol.Event) bool) {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(testenv.WaitTimeout))
	for {
		var ev protocol.Event
		if err := ws.ReadJSON(&ev); err != nil {
			t.Fatalf("reading: %v", err)
		}
		if done(ev) {
			return
		}
	}
}

// TestSlowMember_IsDisconnectedAndHoldsUpNoOne: a member that stops reading
// fills its connection's bounded queue and is disconnected with 4008, while a
// member on the same edge gets every message of the flood, in order.
func TestSlowMember_IsDisconnectedAndHoldsUpNoOne(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.Options{Edges: 2, Workers: 2, Edge: func(c *edge.Config) {
		c.SendQueue = 256
		// The edge gives up on a frame write after Ping; the close frame
		// can follow only if slow starts reading before that.
		c.Ping = 10 * time.Second
		c.UserRate = 1 << 20
		c.ChannelRate = 1 << 20
	}})
	const ch = "firehose"
	slow := dialSlow(t, env.URL(0))
	readUntil(t, slow, func(e protocol.Event) bool { return e.Ev == protocol.EvHello })
	_ = slow.WriteJSON(protocol.Request{Op: protocol.OpLogin, AppID: testenv.App.ID, Account: "slow", Token: "_no_need_token"})
	readUntil(t, slow, func(e protocol.Event) bool { return e.Ev == protocol.EvLoginSuccess })
	_ = slow.WriteJSON(protocol.Request{Op: protocol.OpChannelJoin, ChannelID: ch})
	readUntil(t, slow, func(e protocol.Event) bool { return e.Ev == protocol.EvChannelAttrUpdated && e.Name == "_member_num" })
	// From here on, slow reads nothing.

	fast := env.LoginUser(t, 0, "fast")
	chJoin(t, fast, ch)
	sender := env.LoginUser(t, 1, "sender")
	chJoin(t, sender, ch)
	// As soon as the edge gives up on slow, slow drains its socket and
	// finds the reason it was closed.
	// The wait for it is bounded after the flood (below), however long a
	// busy machine takes to send it.
	closed := make(chan string, 1)
	ctx := t.Context()
	go func() {
		for env.Edges[0].Edge.Stats().SlowConsumers == 0 {
			if ctx.Err() != nil {
				return
			}
			time.Sleep(time.Millisecond)
		}
		_ = slow.SetReadDeadline(time.Now().Add(testenv.WaitTimeout))
		for {
			_, _, err := slow.ReadMessage()
			if err == nil {
				continue
			}
			var ce *websocket.CloseError
			switch {
			case !errors.As(err, &ce):
				closed <- fmt.Sprintf("slow's connection ended without a close frame: %v", err)
			case ce.Code != protocol.CloseSlowConsumer:
				closed <- fmt.Sprintf("slow's connection closed with %d %q, want %d", ce.Code, ce.Text, protocol.CloseSlowConsumer)
			default:
				closed <- ""
			}
			return
		}
	}()
	const n = 1500 // 12 MB: more than the sockets and the queue between the edge and slow hold
	pad := strings.Repeat("x", protocol.MaxMsgBytes-16)
	// In rounds that fast keeps up with: fast is a healthy reader, and must
	// not be held up by slow, whose backlog only grows.
	for i := 0; i < n; i++ {
		sender.MessageChannelSend(ch, fmt.Sprintf("%06d %s", i, pad), "")
		if i%100 == 99 {
			fast.Wait(t, protocol.EvMessageChannelReceive, func(e protocol.Event) bool { return strings.HasPrefix(e.Msg, fmt.Sprintf("%06d ", i)) })
		}
	}
	select {
	case msg := <-closed:
		if msg != "" {
			t.Fatal(msg)
		}
	case <-time.After(3 * testenv.WaitTimeout):
		t.Fatal("slow's connection was never closed")
	}
	got := chEvents(fast, ch, protocol.EvMessageChannelReceive)
	if len(got) != n {
		t.Fatalf("fast got %d messages, want %d", len(got), n)
	}
	for i, e := range got {
		if !strings.HasPrefix(e.Msg, fmt.Sprintf("%06d ", i)) {
			t.Fatalf("message %d arrived as %.10q", i, e.Msg)
		}
	}
	if st := env.Edges[0].Edge.Stats(); st.SlowConsumers != 1 {
		t.Fatalf("edge 0 stats %+v, want exactly one slow consumer", st)
	}
}
