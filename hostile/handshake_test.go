package hostile

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-io/switchboard/edge"
	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/node"
	"github.com/switchboard-io/switchboard/protocol"
)

// TestHostile_ForeignOriginIsRefused plays a web page of another site that
// opens a WebSocket to a production edge in its visitor's browser (issue 9,
// point 8). The edge refuses it at the handshake with 403, and still
// accepts a page of its own host and a client that sends no Origin (not a
// browser). An edge configured with a list accepts what the list names.
func TestHostile_ForeignOriginIsRefused(t *testing.T) {
	// testenv's edges have the production default: their own host only.
	env := testenv.Start(t, testenv.Options{})
	own := "http://" + hostOf(t, env.URL(0))
	if _, status := testenv.TryDial(t, env.URL(0), testenv.Handshake{Origin: "https://evil.example"}); status != http.StatusForbidden {
		t.Errorf("handshake from https://evil.example: HTTP %d, want 403", status)
	}
	testenv.DialWith(t, env.URL(0), testenv.Handshake{Origin: own})
	testenv.DialWith(t, env.URL(0), testenv.Handshake{})
	// The refused page did not get a connection, and the others work.
	r := testenv.DialWith(t, env.URL(0), testenv.Handshake{Origin: own})
	r.Login("origin-alice")

	listed := testenv.Start(t, testenv.Options{Edge: func(c *edge.Config) {
		c.AllowedOrigins = []string{"https://app.example"}
	}})
	if _, status := testenv.TryDial(t, listed.URL(0), testenv.Handshake{Origin: "https://evil.example"}); status != http.StatusForbidden {
		t.Errorf("listed origins: handshake from https://evil.example: HTTP %d, want 403", status)
	}
	testenv.DialWith(t, listed.URL(0), testenv.Handshake{Origin: "https://app.example"})
	testenv.DialWith(t, listed.URL(0), testenv.Handshake{})
}

// TestHostile_ConnectionThatNeverLogsInIsClosed plays a client that opens
// connections and never logs in, answering pings so that keep-alive never
// closes them (issue 9, point 8). Each is closed with 4011 after the login
// timeout, while a connection that logged in at the same time stays open,
// and a connection that logged out must log in again in time.
func TestHostile_ConnectionThatNeverLogsInIsClosed(t *testing.T) {
	env := testenv.Start(t, testenv.Options{Edge: func(c *edge.Config) {
		c.LoginTimeout = 2 * time.Second
	}})
	alice := testenv.Dial(t, env.URL(0))
	alice.Login("idle-alice")
	idle := testenv.Dial(t, env.URL(0))
	if code := expectCloseWithin(t, idle.WS, 30*time.Second); code != protocol.CloseLoginTimeout {
		t.Fatalf("a connection that never logs in: close %d, want %d", code, protocol.CloseLoginTimeout)
	}
	// Alice's connection is older than the one just closed: the time was
	// up for it too, and it is still served.
	alice.Send(protocol.Request{Op: protocol.OpQueryUserStatus, Account: "idle-alice"})
	if ev := alice.Expect(protocol.EvQueryUserStatusResult); ev.Status != "1" {
		t.Fatalf("logged-in connection after the login timeout: %+v", ev)
	}
}

// TestHostile_ConnectionsPerAddressAreCapped plays a client that opens
// connection after connection from one address (issue 9, point 8). Past the
// cap it gets 429 at the handshake, while another address still connects,
// and a closed connection makes room again.
func TestHostile_ConnectionsPerAddressAreCapped(t *testing.T) {
	const max = 5
	env := testenv.Start(t, testenv.Options{Edge: func(c *edge.Config) {
		c.MaxConnsPerAddr = max
	}})
	var held []*testenv.Raw
	for i := 0; i < max; i++ {
		held = append(held, testenv.DialWith(t, env.URL(0), testenv.Handshake{From: "127.0.0.1"}))
	}
	if ws, status := testenv.TryDial(t, env.URL(0), testenv.Handshake{From: "127.0.0.1"}); status != http.StatusTooManyRequests {
		if ws != nil {
			ws.Close()
		}
		t.Fatalf("connection %d from 127.0.0.1: HTTP %d, want 429", max+1, status)
	}
	other := testenv.DialWith(t, env.URL(0), testenv.Handshake{From: "127.0.0.2"})
	other.Login("cap-bob")

	// A connection that ends gives its place back.
	held[0].WS.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ws, status := testenv.TryDial(t, env.URL(0), testenv.Handshake{From: "127.0.0.1"})
		if ws != nil {
			break
		}
		if status != http.StatusTooManyRequests || time.Now().After(deadline) {
			t.Fatalf("after one of %d connections closed: HTTP %d", max, status)
		}
	}
}

// TestHostile_EmbeddedDefaultListensOnLoopback starts the embedded default
// as `make run` does (issue 9, point 8): its development app lets anyone
// log in as anyone, so it must not be reachable from other hosts unless
// SB_LISTEN says so. Production (NATS_URL set) keeps every interface.
func TestHostile_EmbeddedDefaultListensOnLoopback(t *testing.T) {
	dataDir := t.TempDir()
	cfg, err := node.FromEnv(mapEnv(map[string]string{"SB_DATA_DIR": dataDir, "SB_KV_MEMORY": "true"}))
	if err != nil {
		t.Fatal(err)
	}
	host, _, err := net.SplitHostPort(cfg.Listen)
	if err != nil {
		t.Fatalf("default SB_LISTEN %q: %v", cfg.Listen, err)
	}
	// The default port may be taken on this machine: listen on the
	// default host with a free port.
	cfg.Listen = net.JoinHostPort(host, "0")
	cfg.Edge, cfg.Worker = true, true // what cmd/edge does without NATS_URL
	cfg.Log = testenv.Logger(t)
	n, err := node.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = n.Close(ctx)
	})
	if tcp, ok := n.Addr.(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
		t.Fatalf("the embedded default listens on %v, want a loopback address", n.Addr)
	}
	testenv.Dial(t, n.WebSocketURL())

	prod, err := node.FromEnv(mapEnv(map[string]string{"NATS_URL": "nats://127.0.0.1:4222"}))
	if err != nil {
		t.Fatal(err)
	}
	if prod.Listen != node.DefaultListen {
		t.Errorf("production default SB_LISTEN = %q, want %q", prod.Listen, node.DefaultListen)
	}
}

// expectCloseWithin reads until the edge closes ws and returns the close
// code; it fails the test if the connection ends otherwise or stays open
// past d. Reading answers the edge's pings, so keep-alive holds.
func expectCloseWithin(t *testing.T, ws *websocket.Conn, d time.Duration) int {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(d))
	for {
		_, _, err := ws.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		t.Fatalf("connection not closed by the edge within %v: %v", d, err)
	}
}

// hostOf is the host:port of a WebSocket URL.
func hostOf(t *testing.T, wsURL string) string {
	t.Helper()
	u, err := url.Parse(wsURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Host
}

// mapEnv is a getenv over m alone.
func mapEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}
func TestHostile_ConnectionIdleAfterLogoutIsClosed(t *testing.T) {
	env := testenv.Start(t, testenv.Options{Edge: func(c *edge.Config) {
		c.LoginTimeout = 2 * time.Second
	}})
	r := testenv.Dial(t, env.URL(0))
	r.Login("logout-alice")
	// Let the first deadline pass while alice is logged in: a connection
	// opened after her login is closed for its own.
	marker := testenv.Dial(t, env.URL(0))
	if code := expectCloseWithin(t, marker.WS, 30*time.Second); code != protocol.CloseLoginTimeout {
		t.Fatalf("marker connection: close %d, want %d", code, protocol.CloseLoginTimeout)
	}
	r.Send(protocol.Request{Op: protocol.OpLogout})
	r.Expect(protocol.EvLogout)
	if code := expectCloseWithin(t, r.WS, 30*time.Second); code != protocol.CloseLoginTimeout {
		t.Fatalf("a connection idle after its logout: close %d, want %d", code, protocol.CloseLoginTimeout)
	}
}
