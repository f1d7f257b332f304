package edge

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestWriteBurst_SharedFramesTakeTheBurstsDeadline: a ping leaves the socket
// with its own write deadline; the channel frames of a later burst, which
// reach the socket without gorilla, are written under the burst's deadline,
// not the lapsed one of the ping.
func TestWriteBurst_SharedFramesTakeTheBurstsDeadline(t *testing.T) {
	s := &Server{cfg: DefaultConfig(), pacer: newPacer(0)}
	conns := make(chan *conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bw := &batchWriter{ResponseWriter: w}
		ws, err := (&websocket.Upgrader{}).Upgrade(bw, r, nil)
		if err != nil {
			return
		}
		c := newConn(s, ws)
		c.bc = bw.conn
		conns <- c
	}))
	defer srv.Close()
	client, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	pinged := make(chan struct{}, 1)
	client.SetPingHandler(func(string) error { pinged <- struct{}{}; return nil })
	c := <-conns
	defer c.ws.Close()

	// The ping's deadline lapses before the burst.
	if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(5*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	f := newSharedFrame([]byte(`{"ev":"onMessageChannelReceive","msg":"after the ping"}`))
	if err := c.writeBurst(f); err != nil {
		t.Fatalf("a burst after a ping: %v", err)
	}
	_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, got, err := client.ReadMessage()
	if err != nil || string(got) != string(f.data) {
		t.Fatalf("read %q, %v; want the channel frame", got, err)
	}
	select {
	case <-pinged:
	default:
		t.Fatal("the ping did not arrive before the frame")
	}
}
