package testenv

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-io/switchboard/protocol"
)

// Handshake shapes a WebSocket handshake of a test that plays a browser or
// a client on another address.
type Handshake struct {
	// Origin, when set, is sent as the Origin header.
	Origin string
	// From, when set, is the local IP address the connection leaves from
	// (any of 127.0.0.0/8 on loopback).
	From string
}

// TryDial attempts a handshake with url. On success it returns the open
// connection (its hello not yet read) and status 101; when the edge refuses
// the handshake, no connection and the HTTP status it answered. Any other
// failure fails the test.
func TryDial(t testing.TB, url string, h Handshake) (*websocket.Conn, int) {
	t.Helper()
	nd := &net.Dialer{Timeout: 5 * time.Second}
	if h.From != "" {
		nd.LocalAddr = &net.TCPAddr{IP: net.ParseIP(h.From)}
	}
	d := websocket.Dialer{
		NetDial:          nd.Dial,
		Subprotocols:     []string{protocol.Subprotocol},
		HandshakeTimeout: 10 * time.Second,
	}
	var header http.Header
	if h.Origin != "" {
		header = http.Header{"Origin": {h.Origin}}
	}
	ws, resp, err := d.Dial(url, header)
	if err == nil {
		t.Cleanup(func() { ws.Close() })
		return ws, resp.StatusCode
	}
	if resp == nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil, resp.StatusCode
}

// DialWith connects to url as h says and reads the hello, failing the test
// if the edge refuses.
func DialWith(t testing.TB, url string, h Handshake) *Raw {
	t.Helper()
	ws, status := TryDial(t, url, h)
	if ws == nil {
		t.Fatalf("dial %s with %+v: HTTP %d", url, h, status)
	}
	r := &Raw{t: t, WS: ws}
	if ev := r.Next(); ev.Ev != protocol.EvHello {
		t.Fatalf("first frame = %+v, want hello", ev)
	}
	return r
}

// MetricsURL is the /metrics URL of edge i, started with Options.Metrics.
func (e *Env) MetricsURL(i int) string {
	if e.Edges[i].MetricsAddr == nil {
		panic("testenv: the edges were started without Options.Metrics")
	}
	return "http://" + e.Edges[i].MetricsAddr.String() + "/metrics"
}

// Counter reads one sample of a Prometheus counter from the text exposition
// at url: name with its labels as exposed, such as
// `switchboard_edge_refused_total{kind="origin"}`. A counter not exposed yet
// reads 0.
func Counter(t testing.TB, url, series string) float64 {
	t.Helper()
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: HTTP %d", url, resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			var v float64
			if _, err := fmt.Sscan(rest, &v); err != nil {
				t.Fatalf("scrape %s: %q: %v", url, line, err)
			}
			return v
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	return 0
}
