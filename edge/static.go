package edge

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"io/fs"
	"net/http"
	"strings"
	"time"

	sigjs "github.com/switchboard-io/switchboard/sdk/js"
)

// Route is a page an edge serves beside its WebSocket endpoint, such as the
// demo (package demo). Pattern is an http.ServeMux pattern.
type Route struct {
	Pattern string
	Handler http.Handler
}

// SDKPrefix is where an edge serves the browser SDK (Config.SDK):
// /sdk/agorasig-<version>.mjs, .js, .d.ts and .d.mts never change and may be
// cached for a year; /sdk/agorasig.mjs, .js, .d.ts and .d.mts are the same
// files under a name that follows the edge's version, revalidated on every
// use.
const SDKPrefix = "/sdk/"

// SDKPath is the versioned path of one of the SDK's files ("agorasig.mjs").
func SDKPath(file string) string {
	base, ext, _ := strings.Cut(file, ".")
	return SDKPrefix + base + "-" + sigjs.Version + "." + ext
}

func (s *Server) mountStatic(mux *http.ServeMux) {
	if s.cfg.SDK {
		mux.Handle(SDKPrefix, SDKHandler())
	}
	for _, r := range s.cfg.Routes {
		mux.Handle(r.Pattern, r.Handler)
	}
}

// sdkFile is one file of the SDK, ready to serve.
type sdkFile struct {
	body        []byte
	contentType string
	etag        string
	immutable   bool
}

// SDKHandler serves the embedded browser SDK under SDKPrefix. The files are
// public code: any origin may load them (a page elsewhere importing the
// ES module needs CORS).
func SDKHandler() http.Handler {
	files := map[string]sdkFile{}
	for _, name := range []string{"agorasig.mjs", "agorasig.js", "agorasig.d.ts", "agorasig.d.mts"} {
		body, err := fs.ReadFile(sigjs.Files, name)
		if err != nil {
			panic("edge: the SDK's embedded " + name + " is missing: " + err.Error())
		}
		sum := sha256.Sum256(body)
		f := sdkFile{
			body:        body,
			contentType: contentType(name),
			etag:        `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`,
		}
		files[SDKPrefix+name] = f
		f.immutable = true
		files[SDKPath(name)] = f
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", f.contentType)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("ETag", f.etag)
		if f.immutable {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			// The unversioned name changes with the edge: a browser asks
			// each time, and gets 304 while the edge has not changed.
			h.Set("Cache-Control", "no-cache")
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
	})
}

func contentType(name string) string {
	switch {
	case strings.HasSuffix(name, ".d.ts"), strings.HasSuffix(name, ".d.mts"):
		return "application/typescript; charset=utf-8"
	default: // .mjs and .js
		return "text/javascript; charset=utf-8"
	}
}
