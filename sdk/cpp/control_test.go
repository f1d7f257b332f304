package cpp_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/node"
)

// control does for the C++ suite what it cannot do itself: drain an edge
// as SIGTERM would, start it again on its address, and end a session
// through the server API. It listens on loopback (SWITCHBOARD_CONTROL_URL):
//
//	POST /drain?edge=N    the edge asks its clients to move, then stops
//	POST /start?edge=N    a drained edge starts again on the same address
//	POST /kick?account=A  the server API's kick: A's session ends
//
// Each answers 204, or an error with its text.
type control struct {
	t   testing.TB
	env *testenv.Env
	mu  sync.Mutex // env.Edges and stopped
	// stopped holds the address of each drained edge, until it starts again.
	stopped map[int]string
}

// startControl serves the control endpoint until the test ends.
func startControl(t testing.TB, env *testenv.Env) string {
	c := &control{t: t, env: env, stopped: map[int]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /drain", c.drain)
	mux.HandleFunc("POST /start", c.start)
	mux.HandleFunc("POST /kick", c.kick)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// edge returns the edge index of a request, checked.
func (c *control) edge(w http.ResponseWriter, r *http.Request) (int, bool) {
	i, err := strconv.Atoi(r.URL.Query().Get("edge"))
	if err != nil || i < 0 || i >= len(c.env.Edges) {
		http.Error(w, "edge: want 0 to "+strconv.Itoa(len(c.env.Edges)-1), http.StatusBadRequest)
		return 0, false
	}
	return i, true
}

func (c *control) drain(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i, ok := c.edge(w, r)
	if !ok {
		return
	}
	if _, gone := c.stopped[i]; gone {
		http.Error(w, "edge already drained", http.StatusConflict)
		return
	}
	u, err := url.Parse(c.env.URL(i))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	// What a SIGTERM does (cmd/switchboard): Close asks every client to
	// move and waits for them, up to the edge's DrainTimeout.
	ctx, cancel := context.WithTimeout(r.Context(), 60*time.Second)
	defer cancel()
	if err := c.env.Edges[i].Close(ctx); err != nil {
		http.Error(w, "drain: "+err.Error(), http.StatusInternalServerError)
		return
	}
	c.stopped[i] = u.Host
	w.WriteHeader(http.StatusNoContent)
}

// start starts a drained edge again with the test configuration, on the
// address its clients know; it answers 204 for an edge that runs.
func (c *control) start(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i, ok := c.edge(w, r)
	if !ok {
		return
	}
	addr, gone := c.stopped[i]
	if !gone {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	n, err := node.Start(context.Background(), node.Config{
		NATSServer: c.env.NATS, Memory: true, Edge: true, Listen: addr,
		EdgeConfig: testenv.EdgeConfig(), Log: testenv.Logger(c.t),
	})
	if err != nil {
		http.Error(w, "start: "+err.Error(), http.StatusInternalServerError)
		return
	}
	c.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = n.Close(ctx)
	})
	c.env.Edges[i] = n
	delete(c.stopped, i)
	w.WriteHeader(http.StatusNoContent)
}

// kick ends a session through edge 0's server API, as an app server would.
func (c *control) kick(w http.ResponseWriter, r *http.Request) {
	account := r.URL.Query().Get("account")
	if account == "" {
		http.Error(w, "account: missing", http.StatusBadRequest)
		return
	}
	u := fmt.Sprintf("%s/api/v1/apps/%s/users/%s/kick", c.env.APIURL(0), testenv.App.ID, url.PathEscape(account))
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, u, nil)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	req.Header.Set("Authorization", "Bearer "+testenv.App.APISecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, "kick: "+err.Error(), http.StatusBadGateway)
		return
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		http.Error(w, "kick: server API answered "+resp.Status, http.StatusBadGateway)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
