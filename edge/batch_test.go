package edge

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// burstConn is an edge connection over a batchConn, upgraded with up, and
// the client at its other end; both close when the test ends.
func burstConn(t *testing.T, up *websocket.Upgrader) (*websocket.Conn, *conn) {
	t.Helper()
	s := &Server{cfg: DefaultConfig(), pacer: newPacer(0)}
	conns := make(chan *conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bw := &batchWriter{ResponseWriter: w}
		ws, err := up.Upgrade(bw, r, nil)
		if err != nil {
			return
		}
		c := newConn(s, ws)
		c.bc = bw.conn
		conns <- c
	}))
	t.Cleanup(srv.Close)
	client, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	c := <-conns
	t.Cleanup(func() { c.ws.Close() })
	return client, c
}

// TestWriteBurst_SharedFramesTakeTheBurstsDeadline: a ping leaves the socket
// with its own write deadline; the channel frames of a later burst, which
// reach the socket without gorilla, are written under the burst's deadline,
// not the lapsed one of the ping.
func TestWriteBurst_SharedFramesTakeTheBurstsDeadline(t *testing.T) {
	client, c := burstConn(t, &websocket.Upgrader{})
	pinged := make(chan struct{}, 1)
	client.SetPingHandler(func(string) error { pinged <- struct{}{}; return nil })

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

// TestWriteBurst_FramesItsOwnFrames: the writer frames a client's frames
// itself, whatever their size (each header length, a frame larger than a
// batch), while the reader's goroutine writes pings into the same socket;
// the client reads every frame whole and in order, and a burst allocates
// nothing.
func TestWriteBurst_FramesItsOwnFrames(t *testing.T) {
	// Write buffers from a pool, as the edge's upgrader has them.
	client, c := burstConn(t, &websocket.Upgrader{WriteBufferPool: &sync.Pool{}})
	client.SetReadLimit(1 << 20)

	sizes := []int{0, 1, 125, 126, 127, 65535, 65536, maxBatch - 2, maxBatch - 4, maxBatch, 70000, 20, 3}
	var want [][]byte
	for i, n := range sizes {
		want = append(want, []byte(strings.Repeat(string(rune('a'+i)), n)))
	}
	pings := make(chan struct{})
	go func() {
		defer close(pings)
		for range 200 {
			if c.ws.WriteControl(websocket.PingMessage, []byte("p"), time.Now().Add(5*time.Second)) != nil {
				return
			}
		}
	}()
	// The client reads the rounds' frames and stops, so that the
	// allocations counted at the end are the writer's alone.
	const rounds = 5
	got := make(chan []byte, len(want)+1)
	go func() {
		for range rounds * len(want) {
			_, b, err := client.ReadMessage()
			if err != nil {
				close(got)
				return
			}
			got <- b
		}
	}()
	for round := range rounds {
		for _, w := range want {
			c.qmu.Lock()
			c.q = append(c.q, newFrame(w))
			c.qmu.Unlock()
		}
		if err := c.writeBurst(c.pop()); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for i, w := range want {
			select {
			case b := <-got:
				if string(b) != string(w) {
					t.Fatalf("round %d, frame %d: read %d bytes, want %d of %q", round, i, len(b), len(w), w[:min(len(w), 1)])
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("round %d, frame %d: not read", round, i)
			}
		}
	}
	<-pings

	f := newFrame([]byte(`{"ev":"onMessageInstantReceive","account":"alice","msg":"hi"}`))
	allocs := testing.AllocsPerRun(50, func() {
		if err := c.writeBurst(f); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 0 {
		t.Fatalf("%v allocations per burst of one frame", allocs)
	}
}
