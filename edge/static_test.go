package edge_test

import (
	"io"
	"io/fs"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard-io/switchboard/edge"
	"github.com/switchboard-io/switchboard/internal/testenv"
	sigjs "github.com/switchboard-io/switchboard/sdk/js"
)

// TestSDK_ServedVersionedAndUnversioned: an edge serves each of the SDK's
// embedded files under its versioned name, cacheable for a year, and under
// its plain name, revalidated every time (304 when unchanged), with the
// right type and CORS for pages of other origins.
func TestSDK_ServedVersionedAndUnversioned(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	base := "http" + strings.TrimPrefix(strings.TrimSuffix(env.URL(0), "/ws"), "ws")
	c := http.Client{Timeout: testenv.WaitTimeout}
	for _, tc := range []struct{ file, ctype string }{
		{"agorasig.mjs", "text/javascript; charset=utf-8"},
		{"agorasig.js", "text/javascript; charset=utf-8"},
		{"agorasig.d.ts", "application/typescript; charset=utf-8"},
		{"agorasig.d.mts", "application/typescript; charset=utf-8"},
	} {
		want, err := fs.ReadFile(sigjs.Files, tc.file)
		if err != nil {
			t.Fatal(err)
		}
		versioned := "/sdk/" + strings.Replace(tc.file, ".", "-"+sigjs.Version+".", 1)
		if got := edge.SDKPath(tc.file); got != versioned {
			t.Errorf("SDKPath(%q) = %q, want %q", tc.file, got, versioned)
		}
		for _, p := range []struct{ path, cache string }{
			{versioned, "public, max-age=31536000, immutable"},
			{"/sdk/" + tc.file, "no-cache"},
		} {
			resp, err := c.Get(base + p.path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || string(body) != string(want) {
				t.Fatalf("GET %s: %d, %d bytes; want 200 and the %d embedded bytes", p.path, resp.StatusCode, len(body), len(want))
			}
			for k, v := range map[string]string{
				"Content-Type":                tc.ctype,
				"Cache-Control":               p.cache,
				"Access-Control-Allow-Origin": "*",
				"X-Content-Type-Options":      "nosniff",
			} {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("GET %s: %s %q, want %q", p.path, k, got, v)
				}
			}
			etag := resp.Header.Get("ETag")
			req, _ := http.NewRequest(http.MethodGet, base+p.path, nil)
			req.Header.Set("If-None-Match", etag)
			resp, err = c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if etag == "" || resp.StatusCode != http.StatusNotModified {
				t.Errorf("GET %s with If-None-Match %s: %d, want 304", p.path, etag, resp.StatusCode)
			}
		}
	}
	for _, p := range []string{"/sdk/", "/sdk/agorasig-0.0.1.mjs", "/sdk/embed.go"} {
		resp, err := c.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
		}
	}
}

// TestSDK_OffWhenDisabled: with Config.SDK false the edge serves no /sdk/.
func TestSDK_OffWhenDisabled(t *testing.T) {
	env := testenv.Start(t, testenv.Options{Edge: func(c *edge.Config) { c.SDK = false }})
	base := "http" + strings.TrimPrefix(strings.TrimSuffix(env.URL(0), "/ws"), "ws")
	c := http.Client{Timeout: testenv.WaitTimeout}
	resp, err := c.Get(base + edge.SDKPath("agorasig.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET the SDK with Config.SDK false: %d, want 404", resp.StatusCode)
	}
}
