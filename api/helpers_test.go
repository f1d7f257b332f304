package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"

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
	status      int
	body        map[string]any
	raw         string
	contentType string
}

// path is the app's URL of p, whose segments are escaped by the caller.
func (c client) url(p string) string {
	return c.base + "/api/v1/apps/" + url.PathEscape(c.app) + p
}

// do sends body (marshalled unless it is a string) and reads the answer,
// failing the test if there is none. Only the test's goroutine calls it;
// others call send.
func (c client) do(t testing.TB, method, p string, body any) answer {
	t.Helper()
	a, err := c.send(method, p, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, p, err)
	}
	if ct := a.contentType; ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q", method, p, ct)
	}
	return a
}

// send is do that returns its failure.
func (c client) send(method, p string, body any) (answer, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return answer{}, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, c.url(p), rd)
	if err != nil {
		return answer{}, err
	}
	if c.secret != "" {
		req.Header.Set("Authorization", "Bearer "+c.secret)
	}
	hc := &http.Client{Timeout: 2 * testenv.WaitTimeout}
	resp, err := hc.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	a := answer{status: resp.StatusCode, raw: string(data), contentType: resp.Header.Get("Content-Type")}
	if err := json.Unmarshal(data, &a.body); err != nil {
		return a, fmt.Errorf("%d, body not JSON: %q", resp.StatusCode, data)
	}
	return a, nil
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
