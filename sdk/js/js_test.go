// Package sigjs_test runs the browser SDK's Node test suite (test/*.test.mjs,
// Node's built-in runner) against a real Switchboard: an embedded NATS with
// JetStream, a worker and an edge (internal/testenv), a TCP proxy in front of
// the edge that the suite can cut, and two WebSocket servers that are not
// Switchboard edges of this protocol.
package sigjs_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	sigjs "github.com/switchboard-io/switchboard/sdk/js"

	"github.com/switchboard-io/switchboard/internal/testenv"
)

// TestVersion_MatchesModule checks that the Go constant the edge serves the
// SDK under is the version getSDKVersion() returns.
func TestVersion_MatchesModule(t *testing.T) {
	src, err := sigjs.Files.ReadFile("agorasig.mjs")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^const VERSION = "([^"]+)";`).FindSubmatch(src)
	if m == nil {
		t.Fatal(`agorasig.mjs has no line const VERSION = "…";`)
	}
	if string(m[1]) != sigjs.Version {
		t.Fatalf("agorasig.mjs says version %s, sigjs.Version is %s", m[1], sigjs.Version)
	}
	for _, name := range []string{"agorasig.js", "agorasig.d.ts"} {
		if b, err := sigjs.Files.ReadFile(name); err != nil || len(b) == 0 {
			t.Fatalf("%s is not embedded: %v", name, err)
		}
	}
}

// TestNode runs the Node suite. Without node it fails under CI and skips
// elsewhere.
func TestNode(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the Node suite")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node not found: the browser SDK's suite needs Node 20 or later (Debian's nodejs)")
		}
		t.Skip("node not found: install Node 20 or later (Debian's nodejs) to run the browser SDK's suite")
	}
	files, err := filepath.Glob("test/*.test.mjs")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files in sdk/js/test: %v", err)
	}

	env := testenv.Start(t, testenv.Options{})
	proxy := testenv.NewProxy(t, env.URL(0))
	control := serve(t, controlHandler(proxy))
	badVersion := serve(t, fakeEdge(`{"ev":"hello","v":2,"ping":10000}`))
	notSwitchboard := serve(t, fakeEdge(`{"type":"welcome"}`))

	args := append([]string{"--experimental-websocket", "--test", "--test-reporter=spec"}, files...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Env = append(os.Environ(),
		"SWITCHBOARD_URL="+env.URL(0),
		"SWITCHBOARD_APP="+testenv.App.ID,
		"SWITCHBOARD_APP_CERT="+testenv.App.Certificate,
		"SWITCHBOARD_STRICT_APP="+testenv.StrictApp.ID,
		"SWITCHBOARD_PROXY_URL="+proxy.URL(),
		"SWITCHBOARD_PROXY_CONTROL=http://"+control,
		"SWITCHBOARD_BAD_VERSION_URL=ws://"+badVersion+"/ws",
		"SWITCHBOARD_NOT_SWITCHBOARD_URL=ws://"+notSwitchboard+"/ws",
	)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	start := time.Now()
	err = cmd.Run()
	t.Logf("node --test (%d files) took %s", len(files), time.Since(start).Round(time.Millisecond))
	if err != nil {
		t.Fatalf("node --test: %v\n%s", err, out.String())
	}
	if testing.Verbose() {
		t.Log(out.String())
	}
}

// controlHandler lets the suite cut the proxy's connections (POST /drop)
// and refuse new ones (POST /refuse?on=1, /refuse?on=0).
func controlHandler(p *testenv.Proxy) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /drop", func(w http.ResponseWriter, r *http.Request) {
		p.Drop()
	})
	mux.HandleFunc("POST /refuse", func(w http.ResponseWriter, r *http.Request) {
		p.Refuse(r.URL.Query().Get("on") == "1")
	})
	return mux
}

// fakeEdge accepts a WebSocket with Switchboard's subprotocol, sends first
// as its first frame, and then reads until the client goes.
func fakeEdge(first string) http.Handler {
	up := websocket.Upgrader{Subprotocols: []string{"switchboard.v1"}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		if ws.WriteMessage(websocket.TextMessage, []byte(first)) != nil {
			return
		}
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	})
}

// serve runs h on a loopback port for the rest of the test and returns its
// host:port.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String()
}
