package bench

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-io/switchboard/protocol"
)

// eventFrame is the text of an event whose msg is text.
func eventFrame(t *testing.T, text string) []byte {
	t.Helper()
	b, err := json.Marshal(protocol.Event{Ev: "test", Msg: text})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// collector gathers the msg of every event a connection hands to its
// handler, in order.
func collector() (*Handler, chan string) {
	got := make(chan string, 100)
	return &Handler{Event: func(_ *Conn, ev *protocol.Event, _ time.Time) { got <- ev.Msg }}, got
}

func expectMsgs(t *testing.T, got <-chan string, want ...string) {
	t.Helper()
	for i, w := range want {
		select {
		case g := <-got:
			if g != w {
				t.Fatalf("event %d: msg of %d bytes %.20q…, want %d bytes %.20q…", i, len(g), g, len(w), w)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("event %d (%d bytes) never arrived", i, len(w))
		}
	}
}

// TestPolled_ReadsAndWritesWhatGorillaDoes runs a polled connection
// against a gorilla server on a real socket: every frame size, a message
// in fragments, a ping, the client's masked frames, and the server's close.
func TestPolled_ReadsAndWritesWhatGorillaDoes(t *testing.T) {
	pong := make(chan string, 1)
	fromClient := make(chan string, 10)
	closeNow := make(chan struct{})
	up := websocket.Upgrader{Subprotocols: []string{protocol.Subprotocol}, WriteBufferSize: 512}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		ws.SetPongHandler(func(s string) error { pong <- s; return nil })
		_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"ev":"hello"}`))
		for _, n := range []int{3, 125, 126, 200, 65535, 65536, 70000} {
			_ = ws.WriteMessage(websocket.TextMessage, eventFrame(t, strings.Repeat("x", n)))
		}
		// Through a writer of 512 bytes, 3,000 go in fragments.
		wr, _ := ws.NextWriter(websocket.TextMessage)
		_, _ = wr.Write(eventFrame(t, strings.Repeat("f", 3000)))
		_ = wr.Close()
		_ = ws.WriteControl(websocket.PingMessage, []byte("p1"), time.Now().Add(time.Second))
		go func() {
			for {
				_, b, err := ws.ReadMessage()
				if err != nil {
					return
				}
				fromClient <- string(b)
			}
		}()
		<-closeNow
		_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4001, "bye"), time.Now().Add(time.Second))
	}))
	defer srv.Close()

	h, got := collector()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	c, err := Dial(context.Background(), newDialer("", 0), url, DialOptions{Handler: h})
	if err != nil {
		t.Fatal(err)
	}
	if c.ws != nil {
		t.Fatal("a ws:// connection is not read by a poller")
	}
	var want []string
	for _, n := range []int{3, 125, 126, 200, 65535, 65536, 70000} {
		want = append(want, strings.Repeat("x", n))
	}
	expectMsgs(t, got, append(want, strings.Repeat("f", 3000))...)
	select {
	case p := <-pong:
		if p != "p1" {
			t.Fatalf("pong %q, want p1", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the ping got no pong")
	}
	for _, n := range []int{5, 126, 70000} {
		msg := strings.Repeat("c", n)
		if err := c.write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		select {
		case g := <-fromClient:
			if g != msg {
				t.Fatalf("the server read %d bytes, want %d of c", len(g), n)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("the server never read the client's %d bytes", n)
		}
	}
	close(closeNow)
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the server's close did not end the connection")
	}
	if err := c.closedErr().Error(); !strings.Contains(err, "4001") || !strings.Contains(err, "bye") {
		t.Fatalf("closed with %q, want the server's 4001 bye", err)
	}
	if err := c.write([]byte("late")); err == nil {
		t.Fatal("a write after the close succeeded")
	}
}

// TestPolled_CloseSaysGoodbye: Close sends a normal closure and ends the
// connection.
func TestPolled_CloseSaysGoodbye(t *testing.T) {
	code := make(chan int, 1)
	up := websocket.Upgrader{Subprotocols: []string{protocol.Subprotocol}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		_ = ws.WriteMessage(websocket.TextMessage, []byte(`{"ev":"hello"}`))
		_, _, err = ws.ReadMessage()
		if ce, ok := err.(*websocket.CloseError); ok {
			code <- ce.Code
		} else {
			code <- -1
		}
	}))
	defer srv.Close()
	c, err := Dial(context.Background(), newDialer("", 0), "ws"+strings.TrimPrefix(srv.URL, "http"), DialOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	select {
	case got := <-code:
		if got != websocket.CloseNormalClosure {
			t.Fatalf("the server read close code %d, want %d", got, websocket.CloseNormalClosure)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server never read the close")
	}
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not end the connection")
	}
}

// serverFrame is a server's (unmasked) frame.
func serverFrame(fin bool, op byte, payload []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	f := []byte{b0}
	switch n := len(payload); {
	case n < 126:
		f = append(f, byte(n))
	case n <= 0xffff:
		f = append(f, 126, byte(n>>8), byte(n))
	default:
		f = append(f, 127)
		f = binary.BigEndian.AppendUint64(f, uint64(n))
	}
	return append(f, payload...)
}

// TestFeed_FramesSplitAnywhereReadTheSame feeds one stream of frames cut
// at every point, and byte by byte: the messages come out whole, in order.
func TestFeed_FramesSplitAnywhereReadTheSame(t *testing.T) {
	texts := []string{"a", strings.Repeat("b", 125), strings.Repeat("c", 300), strings.Repeat("d", 70000)}
	var stream []byte
	for _, s := range texts {
		stream = append(stream, serverFrame(true, opText, eventFrame(t, s))...)
	}
	// A message in three fragments, a pong between them.
	frag := eventFrame(t, "fragmented")
	stream = append(stream, serverFrame(false, opText, frag[:4])...)
	stream = append(stream, serverFrame(true, opPong, nil)...)
	stream = append(stream, serverFrame(false, opContinuation, frag[4:9])...)
	stream = append(stream, serverFrame(true, opContinuation, frag[9:])...)
	want := append(append([]string(nil), texts...), "fragmented")

	run := func(name string, chunks [][]byte) {
		t.Helper()
		h, got := collector()
		c := newConn(DialOptions{Handler: h})
		c.closed = true // no socket to write to
		for _, ch := range chunks {
			if err := c.feed(ch, time.Now()); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		expectMsgs(t, got, want...)
		if len(got) != 0 || len(c.pend) != 0 {
			t.Fatalf("%s: %d more events, %d bytes left", name, len(got), len(c.pend))
		}
	}
	for cut := 0; cut <= len(stream); cut += 1 + cut/64 {
		run("cut", [][]byte{stream[:cut], stream[cut:]})
	}
	var bytewise [][]byte
	for i := range stream {
		bytewise = append(bytewise, stream[i:i+1])
	}
	run("byte by byte", bytewise)
}

// TestFeed_RefusesWhatNoServerSends: a masked frame, a reserved bit, a
// continuation without a start, an unknown opcode.
func TestFeed_RefusesWhatNoServerSends(t *testing.T) {
	for name, f := range map[string][]byte{
		"masked":       {0x81, 0x81, 1, 2, 3, 4, 'x'},
		"reserved bit": {0xc1, 0x01, 'x'},
		"continuation": {0x80, 0x01, 'x'},
		"opcode 3":     {0x83, 0x01, 'x'},
	} {
		c := newConn(DialOptions{})
		c.closed = true
		if err := c.feed(f, time.Now()); err != errFrame {
			t.Errorf("%s: feed returned %v, want errFrame", name, err)
		}
	}
}

// TestFast_UserJoinedHandsOverTheAccountJSONWouldRead: an
// onChannelUserJoined goes to Joined with the account encoding/json reads
// from it, and to Event when its account holds an escape.
func TestFast_UserJoinedHandsOverTheAccountJSONWouldRead(t *testing.T) {
	var joined []string
	var decoded []string
	h := &Handler{
		Joined: func(_ *Conn, acc []byte, _ time.Time) { joined = append(joined, string(acc)) },
		Event:  func(_ *Conn, ev *protocol.Event, _ time.Time) { decoded = append(decoded, ev.Account) },
	}
	c := newConn(DialOptions{Handler: h})
	c.closed = true // the acknowledgements have no socket to go to
	accounts := []string{"run-0", "run-1999", `a"b`, `a\b`, "a<b", "ünï", "account"}
	for i, acc := range accounts {
		b, err := json.Marshal(protocol.Event{Ev: protocol.EvChannelUserJoined, UID: uint32(i), ChannelID: `ch "account":"x"`, Account: acc, Ack: i%2 == 0})
		if err != nil {
			t.Fatal(err)
		}
		c.handle(b, time.Now())
	}
	got := append(append([]string(nil), joined...), decoded...)
	if strings.Join(got, "|") != strings.Join([]string{"run-0", "run-1999", "ünï", "account", `a"b`, `a\b`, "a<b"}, "|") {
		t.Fatalf("fast path got %q, decoded path %q", joined, decoded)
	}
	if c.n != uint64(len(accounts)) {
		t.Fatalf("counted %d frames, want %d", c.n, len(accounts))
	}
}

func TestAccountIndex_ReadsOnlyPrefixDashNumber(t *testing.T) {
	for acc, want := range map[string]int{
		"p-0": 0, "p-12": 12, "p-007": 7, "p-": -1, "p-1x": -1, "q-1": -1,
		"pp-1": -1, "p-+1": -1, "p-99999999999": -1, "p": -1,
	} {
		if got := accountIndex("p", acc); got != want {
			t.Errorf("accountIndex(p, %q) = %d, want %d", acc, got, want)
		}
		if got := accountIndex("p", []byte(acc)); got != want {
			t.Errorf("accountIndex(p, []byte %q) = %d, want %d", acc, got, want)
		}
	}
}
