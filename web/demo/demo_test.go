package demo_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchboard-io/switchboard/web/demo"
)

// TestHandler_ServesThePageAndNothingElse: the page's files with their
// types and a content security policy, its configuration, and 404 for
// anything else (the Go source beside them, paths that climb out).
func TestHandler_ServesThePageAndNothingElse(t *testing.T) {
	cfg := demo.Config{AppID: "demo-app", WSPath: "/ws", SDK: "/sdk/agorasig-1.4.0.mjs"}
	mux := http.NewServeMux()
	mux.Handle(demo.Prefix, demo.Handler(cfg))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	get := func(method, path string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	for _, tc := range []struct{ path, ctype, has string }{
		{"/demo/", "text/html; charset=utf-8", `data-testid="conn-state"`},
		{"/demo/app.js", "text/javascript; charset=utf-8", "channelInviteUser2"},
		{"/demo/style.css", "text/css; charset=utf-8", ".call-panel"},
	} {
		resp, body := get(http.MethodGet, tc.path)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != tc.ctype || !strings.Contains(body, tc.has) {
			t.Errorf("GET %s: %d %q, want 200 %q with %q", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), tc.ctype, tc.has)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("GET %s: Content-Security-Policy %q", tc.path, csp)
		}
	}
	resp, body := get(http.MethodGet, "/demo/config.json")
	var got demo.Config
	if err := json.Unmarshal([]byte(body), &got); err != nil || got != cfg || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("config.json: %s (%v), want %+v", body, err, cfg)
	}
	for _, p := range []string{"/demo/demo.go", "/demo/browser_test.go", "/demo/nope.html", "/demo/%2e%2e/demo.go"} {
		if resp, _ := get(http.MethodGet, p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
		}
	}
	if resp, _ := get(http.MethodPost, "/demo/"); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /demo/: %d, want 405", resp.StatusCode)
	}
}
