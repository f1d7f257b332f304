package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-io/switchboard/internal/testenv"
)

// TestEmbeddedDefault_PrintsAndServesTheDemo: the embedded default (what
// `make run` starts) prints the demo page's URL, serves the page there and
// the SDK it loads, and sends / to it; with SB_DEMO=false it does none of
// that and still serves the SDK.
func TestEmbeddedDefault_PrintsAndServesTheDemo(t *testing.T) {
	c := http.Client{
		Timeout:       testenv.WaitTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	get := func(url string) (int, string, http.Header) {
		t.Helper()
		resp, err := c.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), resp.Header
	}

	p := startProc(t, "", embeddedEnv(t.TempDir()), testenv.Binary(t, "edge"))
	line := p.waitLine(t, "demo page:", time.Minute)
	i := strings.Index(line, "http://")
	if i < 0 {
		t.Fatalf("no URL in %q", line)
	}
	demo := strings.Fields(line[i:])[0]
	if !strings.HasSuffix(demo, "/demo/") {
		t.Fatalf("demo URL %q does not end in /demo/", demo)
	}
	if code, body, _ := get(demo); code != http.StatusOK || !strings.Contains(body, `data-testid="login-account"`) {
		t.Fatalf("GET %s: %d, want the demo page:\n%s", demo, code, body)
	}
	code, body, _ := get(demo + "config.json")
	if code != http.StatusOK || !strings.Contains(body, `"appId":"switchboard-dev"`) || !strings.Contains(body, `"sdk":"/sdk/agorasig-`) {
		t.Fatalf("GET config.json: %d %s, want the development app and the versioned SDK", code, body)
	}
	base := strings.TrimSuffix(demo, "/demo/")
	if code, _, h := get(base + "/"); code != http.StatusFound || h.Get("Location") != "/demo/" {
		t.Errorf("GET /: %d to %q, want 302 to /demo/", code, h.Get("Location"))
	}
	if code, _, h := get(base + "/sdk/agorasig.mjs"); code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/javascript") {
		t.Errorf("GET /sdk/agorasig.mjs: %d %s", code, h.Get("Content-Type"))
	}

	off := startProc(t, "", append(embeddedEnv(t.TempDir()), "SB_DEMO=false"), testenv.Binary(t, "edge"))
	url := testenv.URLFrom(off.waitLine(t, "WebSocket URL:", time.Minute))
	base = "http" + strings.TrimSuffix(strings.TrimPrefix(url, "ws"), "/ws")
	if off.has("demo page") {
		t.Errorf("with SB_DEMO=false the edge still prints a demo page:\n%s", off.output())
	}
	if code, _, _ := get(base + "/demo/"); code != http.StatusNotFound {
		t.Errorf("GET /demo/ with SB_DEMO=false: %d, want 404", code)
	}
	if code, _, _ := get(base + "/sdk/agorasig.mjs"); code != http.StatusOK {
		t.Errorf("GET /sdk/agorasig.mjs with SB_DEMO=false: %d, want 200", code)
	}
}
