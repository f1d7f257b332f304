package api_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-io/switchboard/edge"
	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/node"
	"github.com/switchboard-io/switchboard/protocol"
)

// A missing secret, a wrong one, another app's, and an unknown app all get
// the same 401: nothing tells which apps exist. Nothing is sent.
func TestAuth_EveryFailureIsTheSame401(t *testing.T) {
	env := startAPI(t, testenv.Options{})
	bob := env.LoginUser(t, 0, "bob")
	good := apiClient(env, 0)
	cases := map[string]client{
		"missing":         {base: good.base, app: good.app},
		"wrong":           {base: good.base, app: good.app, secret: "testapp-api-secreT"},
		"another app's":   {base: good.base, app: good.app, secret: "switchboard-dev-secret"},
		"unknown app":     {base: good.base, app: "no-such-app", secret: good.secret},
		"unknown app too": {base: good.base, app: "no-such-app", secret: "anything-at-all-here"},
		"no secret set":   {base: good.base, app: testenv.StrictApp.ID, secret: ""},
	}
	var first string
	for name, c := range cases {
		a := c.do(t, "POST", "/users/bob/messages", map[string]string{"msg": "should not arrive"})
		if a.status != http.StatusUnauthorized {
			t.Fatalf("%s: status %d: %s", name, a.status, a.raw)
		}
		if first == "" {
			first = a.raw
		}
		if a.raw != first {
			t.Fatalf("%s: body %s differs from %s", name, a.raw, first)
		}
	}
	t.Logf("401 body: %s", first)
	// A request that is let in, after them all, is the first bob gets.
	good.do(t, "POST", "/users/bob/messages", map[string]string{"msg": "the real one"}).want(t, 200, 0)
	bob.Wait(t, protocol.EvMessageInstantReceive, testenv.Msg("the real one"))
	if n := bob.Count(protocol.EvMessageInstantReceive); n != 1 {
		t.Fatalf("bob got %d messages: %v", n, bob.Events())
	}
	// A bearer of the right secret in the wrong scheme is not let in.
	req, _ := http.NewRequest("GET", good.url("/users/bob/attrs"), nil)
	req.Header.Set("Authorization", "Basic "+good.secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("Basic: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestBadInput_MalformedBodies(t *testing.T) {
	env := startAPI(t, testenv.Options{})
	c := apiClient(env, 0)
	for _, tc := range []struct{ body, says string }{
		{`{"msg": "x"`, "JSON"},
		{`not json`, "JSON"},
		{`[1,2]`, "object"},
		{`{"msg": 7}`, `"msg"`},
		{`{"msg": "x", "priority": 1}`, `"priority"`},
		{`{"msg": "x"} {"msg": "y"}`, "after"},
		{``, "body"},
	} {
		a := c.do(t, "POST", "/users/bob/messages", tc.body).want(t, 400, protocol.WrongParam)
		if !strings.Contains(a.errorText(), tc.says) {
			t.Errorf("%q: error %q does not say %s", tc.body, a.errorText(), tc.says)
		}
	}
	c.do(t, "POST", "/online", `{"accounts": "alice"}`).want(t, 400, protocol.WrongParam)
	c.do(t, "PUT", "/channels/room/attrs/topic", `{"val": "x"}`).want(t, 400, protocol.WrongParam)
	// A body over the largest request is refused before it is read whole.
	a := c.do(t, "POST", "/users/bob/messages", `{"msg": "`+strings.Repeat("z", 70<<10)+`"}`).want(t, 413, protocol.LargeParam)
	t.Logf("70 KiB body: %s", a.errorText())
}

// Names that break the API's rules get 400 with 1004, naming the field,
// and change nothing.
func TestBadInput_NamesThatBreakTheRules(t *testing.T) {
	env := startAPI(t, testenv.Options{})
	bob := joined(t, env, 0, "bob", "room")
	c := apiClient(env, 0)
	long := strings.Repeat("n", 129)
	for _, tc := range []struct {
		method, path string
		body         any
		field        string
	}{
		{"POST", "/users/bad%20name/messages", map[string]string{"msg": "x"}, "account"},
		{"POST", "/users/" + long + "/messages", map[string]string{"msg": "x"}, "account"},
		{"POST", "/users/bob/messages", map[string]string{"from": "a b", "msg": "x"}, "from"},
		{"POST", "/channels/bad%09chan/messages", map[string]string{"msg": "x"}, "channel"},
		{"POST", "/online", map[string]any{"accounts": []string{"ok", "e\u0301"}}, "accounts[1]"},
		{"GET", "/channels/a%20b/members", nil, "channel"},
		{"PUT", "/channels/room/attrs/a%20b", map[string]string{"value": "x"}, "name"},
		{"DELETE", "/users/bob/attrs/" + long, nil, "name"},
		{"POST", "/users/%E2%80%8Bspace/kick", nil, "account"},
		{"POST", "/users/a%20b/token", nil, "account"},
	} {
		a := c.do(t, tc.method, tc.path, tc.body).want(t, 400, protocol.WrongParam)
		if !strings.HasPrefix(a.errorText(), tc.field+" ") {
			t.Errorf("%s %s: error %q does not name %s", tc.method, tc.path, a.errorText(), tc.field)
		}
	}
	// Bob heard of none of it.
	for _, ev := range []string{protocol.EvMessageInstantReceive, protocol.EvMessageChannelReceive, protocol.EvLogout} {
		if bob.Count(ev) != 0 {
			t.Fatalf("bob got %s: %v", ev, bob.Events())
		}
	}
}

// Unknown paths and methods answer JSON and tell nothing.
func TestBadInput_UnknownEndpoint(t *testing.T) {
	env := startAPI(t, testenv.Options{})
	c := apiClient(env, 0)
	c.do(t, "GET", "/nothing", nil).want(t, 404, 0)
	c.do(t, "POST", "/channels/room/nothing", nil).want(t, 404, 0)
}

// The API has per-app and per-sender rates; over them is 429 and nothing
// is sent.
func TestRateLimits(t *testing.T) {
	env := startAPI(t, testenv.Options{
		Edge:      func(c *edge.Config) { c.UserRate = 5 },
		APIConfig: func(c *node.Config) { c.API.Rate = 40 },
	})
	bob := env.LoginUser(t, 1, "bob")
	c := apiClient(env, 0)

	// Per sender: 20 messages from alice at once, 5 a second.
	codes := burst(t, 20, func() (answer, error) {
		return c.send("POST", "/users/bob/messages", map[string]string{"from": "alice", "msg": "m"})
	})
	if codes[200] == 0 || codes[429] == 0 || codes[200]+codes[429] != 20 {
		t.Fatalf("per-sender burst: %v", codes)
	}
	t.Logf("per-sender burst of 20 at 5/s: %v", codes)
	// Every 200 was acknowledged by bob; no 429 reached him. The callbacks
	// run in order: once the last message's has, the others' have.
	c.do(t, "POST", "/users/bob/messages", map[string]string{"msg": "last"}).want(t, 200, 0)
	bob.Wait(t, protocol.EvMessageInstantReceive, testenv.Msg("last"))
	if n := bob.Count(protocol.EvMessageInstantReceive, testenv.Account("alice")); n != codes[200] {
		t.Fatalf("bob got %d messages from alice, the API delivered %d", n, codes[200])
	}

	// Per app: 100 reads at once, 40 a second.
	codes = burst(t, 100, func() (answer, error) { return c.send("GET", "/users/bob/attrs", nil) })
	if codes[429] == 0 || codes[200]+codes[429] != 100 {
		t.Fatalf("per-app burst: %v", codes)
	}
	t.Logf("per-app burst of 100 at 40/s: %v", codes)
}

// burst runs n calls at once and counts their statuses, checking that each
// 429 carries a code and a text.
func burst(t *testing.T, n int, call func() (answer, error)) map[int]int {
	t.Helper()
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := call()
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			codes[a.status]++
			if a.status == 429 && (a.errorText() == "" || a.body["code"] == nil) {
				t.Errorf("429 without code or text: %s", a.raw)
			}
		}()
	}
	wg.Wait()
	return codes
}

// A channel's own rate (_sendmsg_limit) holds for the API's messages, as
// for the clients': over it is 429 with 400, and nothing is sent.
func TestRateLimits_ChannelRateHoldsForTheAPI(t *testing.T) {
	env := startAPI(t, testenv.Options{})
	bob := joined(t, env, 1, "bob", "busy")
	c := apiClient(env, 0)
	c.do(t, "PUT", "/channels/busy/attrs/_sendmsg_limit", map[string]string{"value": "3"}).want(t, 200, 0)
	bob.Wait(t, protocol.EvChannelAttrUpdated, func(e protocol.Event) bool { return e.Name == "_sendmsg_limit" })

	codes := burst(t, 15, func() (answer, error) {
		return c.send("POST", "/channels/busy/messages", map[string]string{"msg": "burst"})
	})
	if codes[200] == 0 || codes[429] == 0 || codes[200]+codes[429] != 15 {
		t.Fatalf("channel burst: %v", codes)
	}
	t.Logf("a burst of 15 into a channel of 3/s: %v", codes)
	// A last message once the second is over (a refused one is not sent):
	// bob gets the channel's messages in order, so when it arrives, so
	// have all the burst's that were sent.
	deadline := time.Now().Add(testenv.WaitTimeout)
	for c.do(t, "POST", "/channels/busy/messages", map[string]string{"msg": "last"}).status == 429 {
		if time.Now().After(deadline) {
			t.Fatal("the channel's rate never let another message through")
		}
		time.Sleep(50 * time.Millisecond) // the rate's window is a second
	}
	bob.Wait(t, protocol.EvMessageChannelReceive, testenv.Msg("last"))
	if n := bob.Count(protocol.EvMessageChannelReceive, testenv.Msg("burst")); n != codes[200] {
		t.Fatalf("bob got %d of the burst, the API sent %d", n, codes[200])
	}
}
