package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
)

// client calls one edge's server API as testenv.App.
type client struct {
	base, app, secret string
}

func apiClient(env *testenv.Env, edge int) client {
	return client{base: env.APIURL(edge), app: testenv.App.ID, secret: testenv.App.APISecret}
}

// answer is an HTTP answer: its status and its JSON body.
type answer struct {
	status int
	body   map[string]any
	raw    string
}

// path is the app's URL of p, whose segments are escaped by the caller.
func (c client) url(p string) string {
	return c.base + "/api/v1/apps/" + url.PathEscape(c.app) + p
}

// do sends body (marshalled unless it is a string) and reads the answer.
func (c client) do(t testing.TB, method, p string, body any) answer {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, c.url(p), rd)
	if err != nil {
		t.Fatal(err)
	}
	if c.secret != "" {
		req.Header.Set("Authorization", "Bearer "+c.secret)
	}
	hc := &http.Client{Timeout: 2 * testenv.WaitTimeout}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{status: resp.StatusCode, raw: string(data)}
	if err := json.Unmarshal(data, &a.body); err != nil {
		t.Fatalf("%s %s: %d, body not JSON: %q", method, p, resp.StatusCode, data)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q", method, p, ct)
	}
	return a
}

// want fails unless the answer has status and, when code is not 0, that
// API code.
func (a answer) want(t testing.TB, status, code int) answer {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d; body %s", a.status, status, a.raw)
	}
	if code != 0 {
		if got, _ := a.body["code"].(float64); int(got) != code {
			t.Fatalf("code %v, want %d; body %s", a.body["code"], code, a.raw)
		}
	}
	if status >= 400 {
		if msg, _ := a.body["error"].(string); msg == "" {
			t.Fatalf("an error without text: %s", a.raw)
		}
	}
	return a
}

// errorText is the answer's error.
func (a answer) errorText() string {
	s, _ := a.body["error"].(string)
	return s
}

// startAPI runs two edges with the API, one worker.
func startAPI(t *testing.T, o testenv.Options) *testenv.Env {
	t.Helper()
	o.Edges, o.API = 2, true
	return testenv.Start(t, o)
}

// joined logs account in on edge i and joins channel.
func joined(t *testing.T, env *testenv.Env, edge int, account, channel string) *testenv.User {
	t.Helper()
	u := env.LoginUser(t, edge, account)
	u.ChannelJoin(channel)
	u.Wait(t, protocol.EvChannelJoined, testenv.Channel(channel))
	return u
}

var _ = time.Second
