// Package demo is Switchboard's demo page: a small chat app in plain HTML,
// CSS and JavaScript on the browser SDK, embedded in the edge and served at
// /demo/ when the edge is told to (node.Config.Demo; docs/demo.md). It logs
// in with _no_need_token, so it belongs on development servers and on apps
// made for it, never on an app whose users' accounts matter.
//
// Package demo serves files; it knows nothing of sessions or NATS.
package demo

import (
	"bytes"
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
	"path"
	"time"
)

// Prefix is where an edge serves the page.
const Prefix = "/demo/"

//go:embed index.html app.js style.css
var files embed.FS

// Config is what the page needs to know of its server.
type Config struct {
	// AppID is the app the page logs in to, with _no_need_token.
	AppID string `json:"appId"`
	// WSPath is the edge's WebSocket path on the page's own host.
	WSPath string `json:"wsPath"`
	// SDK is the path of the SDK's ES module on the page's own host.
	SDK string `json:"sdk"`
}

// Handler serves the page's files under Prefix, and its configuration as
// Prefix + "config.json".
func Handler(cfg Config) http.Handler {
	conf, err := json.Marshal(cfg)
	if err != nil {
		panic(err) // three strings always marshal
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'self'; connect-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
		name := path.Clean("/" + r.URL.Path[len(Prefix)-1:])[1:]
		switch name {
		case "config.json":
			h.Set("Content-Type", "application/json")
			_, _ = w.Write(conf)
			return
		case "":
			name = "index.html"
		}
		body, err := fs.ReadFile(files, name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
	})
}
