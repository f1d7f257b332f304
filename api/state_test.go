package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-io/switchboard/api"
	"github.com/switchboard-io/switchboard/apps"
	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/node"
	"github.com/switchboard-io/switchboard/protocol"
)

func TestOnline_AnswersEachAccountInOrder(t *testing.T) {
	env := startAPI(t, testenv.Options{})
	env.LoginUser(t, 0, "alice")
	env.LoginUser(t, 1, "bob")
	a := apiClient(env, 1).do(t, "POST", "/online", map[string]any{"accounts": []string{"bob", "carol", "alice"}}).want(t, 200, 0)
	want := `{"accounts":[{"account":"bob","online":true},{"account":"carol","online":false},{"account":"alice","online":true}]}` + "\n"
	if a.raw != want {
		t.Fatalf("online = %s, want %s", a.raw, want)
	}
}

func TestOnline_256AccountsAnswerAndMoreAreRefused(t *testing.T) {
	env := startAPI(t, testenv.Options{})
	env.LoginUser(t, 0, "u7")
	accounts := make([]string, protocol.MaxAPIOnline+1)
	for i := range accounts {
		accounts[i] = fmt.Sprintf("u%d", i)
	}
	c := apiClient(env, 0)
	a := c.do(t, "POST", "/online", map[string]any{"accounts": accounts}).want(t, 400, protocol.WrongParam)
	t.Logf("257 accounts: %s", a.errorText())
	a = c.do(t, "POST", "/online", map[string]any{"accounts": accounts[:256]}).want(t, 200, 0)
	list := a.body["accounts"].([]any)
	if len(list) != 256 {
		t.Fatalf("%d answers, want 256", len(list))
	}
	for i, v := range list {
		e := v.(map[string]any)
		if e["account"] != accounts[i] || e["online"] != (i == 7) {
			t.Fatalf("answer %d = %v", i, e)
		}
	}
}

func TestMembers_PagesAndCount(t *testing.T) {
	env := startAPI(t, testenv.Options{})
	joined(t, env, 0, "m1", "room")
	joined(t, env, 1, "m2", "room")
	joined(t, env, 0, "m3", "room")
	c := apiClient(env, 1)
	a := c.do(t, "GET", "/channels/room/members?limit=2", nil).want(t, 200, 0)
	if want := `{"channel":"room","count":3,"offset":0,"members":["m1","m2"]}` + "\n"; a.raw != want {
		t.Fatalf("page 1 = %s, want %s", a.raw, want)
	}
	a = c.do(t, "GET", "/channels/room/members?limit=2&offset=2", nil).want(t, 200, 0)
	if want := `{"channel":"room","count":3,"offset":2,"members":["m3"]}` + "\n"; a.raw != want {
		t.Fatalf("page 2 = %s, want %s", a.raw, want)
	}
	a = c.do(t, "GET", "/channels/nobody-here/members", nil).want(t, 200, 0)
	if want := `{"channel":"nobody-here","count":0,"offset":0,"members":[]}` + "\n"; a.raw != want {
		t.Fatalf("empty channel = %s", a.raw)
	}
	c.do(t, "GET", fmt.Sprintf("/channels/room/members?limit=%d", protocol.MaxAPIPage), nil).want(t, 200, 0)
	c.do(t, "GET", fmt.Sprintf("/channels/room/members?limit=%d", protocol.MaxAPIPage+1), nil).want(t, 400, protocol.WrongParam)
	c.do(t, "GET", "/channels/room/members?limit=abc", nil).want(t, 400, protocol.WrongParam)
	c.do(t, "GET", "/channels/room/members?offset=-1", nil).want(t, 400, protocol.WrongParam)
}

// The API writes a channel's attributes without being a member, and the
// members see each write as from any member.
func TestChannelAttrs_MembersSeeTheAPIsWrites(t *testing.T) {
	env := startAPI(t, testenv.Options{})
	bob := joined(t, env, 1, "bob", "room")
	c := apiClient(env, 0)

	a := c.do(t, "PUT", "/channels/room/attrs/topic", map[string]string{"value": "launch"}).want(t, 200, 0)
	if want := `{"channel":"room","name":"topic","value":"launch"}` + "\n"; a.raw != want {
		t.Fatalf("PUT = %s", a.raw)
	}
	bob.Wait(t, protocol.EvChannelAttrUpdated, func(e protocol.Event) bool {
		return e.ChannelID == "room" && e.Name == "topic" && e.Value == "launch" && e.Type == protocol.AttrUpdate
	})
	c.do(t, "PUT", "/channels/room/attrs/color", map[string]string{"value": "blue"}).want(t, 200, 0)
	a = c.do(t, "GET", "/channels/room/attrs", nil).want(t, 200, 0)
	if want := `{"channel":"room","attrs":{"_member_num":"1","color":"blue","topic":"launch"}}` + "\n"; a.raw != want {
		t.Fatalf("GET = %s, want %s", a.raw, want)
	}
	c.do(t, "DELETE", "/channels/room/attrs/topic", nil).want(t, 200, 0)
	bob.Wait(t, protocol.EvChannelAttrUpdated, func(e protocol.Event) bool {
		return e.Name == "topic" && e.Type == protocol.AttrDel
	})
	c.do(t, "DELETE", "/channels/room/attrs", nil).want(t, 200, 0)
	bob.Wait(t, protocol.EvChannelAttrUpdated, func(e protocol.Event) bool { return e.Type == protocol.AttrClear })
	a = c.do(t, "GET", "/channels/room/attrs", nil).want(t, 200, 0)
	if want := `{"channel":"room","attrs":{"_member_num":"1"}}` + "\n"; a.raw != want {
		t.Fatalf("GET after clear = %s", a.raw)
	}

	// The rules of the attributes hold for the API too, and a refused
	// write changes nothing.
	c.do(t, "PUT", "/channels/room/attrs/_member_num", map[string]string{"value": "9"}).want(t, 409, protocol.GeneralFailed)
	c.do(t, "PUT", "/channels/_agora_user_online/attrs/x", map[string]string{"value": "9"}).want(t, 409, protocol.GeneralFailed)
	c.do(t, "PUT", "/channels/room/attrs/_sendmsg_limit", map[string]string{"value": "many"}).want(t, 400, protocol.WrongParam)
	c.do(t, "PUT", "/channels/room/attrs/big", map[string]string{"value": string(make([]byte, protocol.MaxChanAttrBytes+1))}).want(t, 413, protocol.LargeParam)
	a = c.do(t, "GET", "/channels/room/attrs", nil).want(t, 200, 0)
	if want := `{"channel":"room","attrs":{"_member_num":"1"}}` + "\n"; a.raw != want {
		t.Fatalf("GET after refused writes = %s", a.raw)
	}
}

func TestUserAttrs_SetReadDelete(t *testing.T) {
	env := startAPI(t, testenv.Options{})
	alice := env.LoginUser(t, 1, "alice")
	c := apiClient(env, 0)
	c.do(t, "PUT", "/users/bob/attrs/city", map[string]string{"value": "Lisbon"}).want(t, 200, 0)
	a := c.do(t, "GET", "/users/bob/attrs", nil).want(t, 200, 0)
	if want := `{"account":"bob","attrs":{"city":"Lisbon"}}` + "\n"; a.raw != want {
		t.Fatalf("GET = %s", a.raw)
	}
	// A client reads what the API wrote.
	alice.GetUserAttr("bob", "city")
	alice.Wait(t, protocol.EvUserAttrResult, func(e protocol.Event) bool { return e.Account == "bob" && e.Value == "Lisbon" })
	c.do(t, "DELETE", "/users/bob/attrs/city", nil).want(t, 200, 0)
	a = c.do(t, "GET", "/users/bob/attrs", nil).want(t, 200, 0)
	if want := `{"account":"bob","attrs":{}}` + "\n"; a.raw != want {
		t.Fatalf("GET after delete = %s", a.raw)
	}
	c.do(t, "PUT", "/users/bob/attrs/_conn_timeout", map[string]string{"value": "5"}).want(t, 400, protocol.WrongParam)
	c.do(t, "PUT", "/users/bob/attrs/city", map[string]string{"value": ""}).want(t, 400, protocol.WrongParam)
	c.do(t, "PUT", "/users/bob/attrs/city", map[string]string{"value": string(make([]byte, protocol.MaxUserAttrBytes+1))}).want(t, 413, protocol.LargeParam)
}

// A kick ends the session: the client hears the reason in onError, then
// onLogout(100); the others in its channels see it leave, and it is
// offline.
func TestKick_ClientSeesReasonThenLogout(t *testing.T) {
	env := startAPI(t, testenv.Options{})
	mallory := joined(t, env, 1, "mallory", "room")
	bob := joined(t, env, 0, "bob", "room")
	c := apiClient(env, 0)

	a := c.do(t, "POST", "/users/mallory/kick", map[string]string{"reason": "spamming the lobby"}).want(t, 200, 0)
	if a.body["result"] != api.ResultKicked {
		t.Fatalf("result %v", a.body["result"])
	}
	mallory.Wait(t, protocol.EvLogout, testenv.Code(protocol.LogoutOther))
	evs := mallory.Events()
	reason, logout := -1, -1
	for i, e := range evs {
		switch {
		case e.Ev == protocol.EvError && e.Name == "kick" && e.Ecode == protocol.General && e.Desc == "spamming the lobby":
			reason = i
		case e.Ev == protocol.EvLogout:
			logout = i
		}
	}
	if reason < 0 || reason > logout {
		t.Fatalf("want onError(kick, 1000, reason) before onLogout(100): %v", evs)
	}
	bob.Wait(t, protocol.EvChannelUserLeaved, testenv.Account("mallory"))
	o := c.do(t, "POST", "/online", map[string]any{"accounts": []string{"mallory"}}).want(t, 200, 0)
	if want := `{"accounts":[{"account":"mallory","online":false}]}` + "\n"; o.raw != want {
		t.Fatalf("online after kick = %s", o.raw)
	}
	m := c.do(t, "GET", "/channels/room/members", nil).want(t, 200, 0)
	if want := `{"channel":"room","count":1,"offset":0,"members":["bob"]}` + "\n"; m.raw != want {
		t.Fatalf("members after kick = %s", m.raw)
	}
	// Not online any more: 404 with LOGOUT_E_ALREADY_LOGOUT.
	c.do(t, "POST", "/users/mallory/kick", nil).want(t, 404, protocol.LogoutAlready)
}

// A kick without a reason sends no onError.
func TestKick_WithoutReason(t *testing.T) {
	env := startAPI(t, testenv.Options{})
	eve := env.LoginUser(t, 0, "eve")
	apiClient(env, 1).do(t, "POST", "/users/eve/kick", nil).want(t, 200, 0)
	eve.Wait(t, protocol.EvLogout, testenv.Code(protocol.LogoutOther))
	if n := eve.Count(protocol.EvError); n != 0 {
		t.Fatalf("%d onError without a reason: %v", n, eve.Events())
	}
}

// A token the API issues logs the account in, in both versions.
func TestToken_LogsIn(t *testing.T) {
	env := startAPI(t, testenv.Options{})
	c := apiClient(env, 0)
	for _, version := range []int{1, 2} {
		a := c.do(t, "POST", "/users/dave/token", map[string]any{"ttl": 3600, "version": version}).want(t, 200, 0)
		tok, _ := a.body["token"].(string)
		if !strings.HasPrefix(tok, fmt.Sprintf("%d:%s:", version, testenv.App.ID)) {
			t.Fatalf("token %q", tok)
		}
		u := testenv.NewUser(t, "dave", env.URL(1))
		u.Login(testenv.App.ID, "dave", tok, 0, "")
		u.Wait(t, protocol.EvLoginSuccess)
		u.Logout()
		u.Wait(t, protocol.EvLogout)
	}
	a := c.do(t, "POST", "/users/dave/token", map[string]any{"expires": 1893456000}).want(t, 200, 0)
	if a.body["expires"] != float64(1893456000) {
		t.Fatalf("expires = %v", a.body["expires"])
	}
	c.do(t, "POST", "/users/dave/token", map[string]any{"version": 3}).want(t, 400, protocol.WrongParam)
	c.do(t, "POST", "/users/dave/token", map[string]any{"expires": 1000}).want(t, 400, protocol.WrongParam)
	c.do(t, "POST", "/users/dave/token", map[string]any{"expires": 1893456000, "ttl": 60}).want(t, 400, protocol.WrongParam)
	c.do(t, "POST", "/users/"+api.SystemAccount+"/token", nil).want(t, 400, protocol.WrongParam)

	// The development app has no certificate: no tokens.
	dev := client{base: env.APIURL(0), app: "switchboard-dev", secret: "switchboard-dev-secret"}
	dev.do(t, "POST", "/users/dave/token", nil).want(t, 409, protocol.GeneralFailed)
}

func TestWebhookTest_WithoutWebhooksIs404(t *testing.T) {
	env := startAPI(t, testenv.Options{})
	a := apiClient(env, 0).do(t, "POST", "/webhooks/test", nil).want(t, 404, 0)
	if a.errorText() != "webhooks are not configured for this app" {
		t.Fatalf("error %q", a.errorText())
	}
}

// testerFunc is a WebhookTester of a test: the webhooks package provides
// the real one.
type testerFunc func(ctx context.Context, appID string) (string, error)

func (f testerFunc) Test(ctx context.Context, appID string) (string, error) { return f(ctx, appID) }

// The API hands the test to the app's WebhookTester and answers its event
// ID; a tester's failure is a generic 500 whose text stays in the log.
func TestWebhookTest_AnswersTheEventIDAndHidesFailures(t *testing.T) {
	var asked []string
	var mu sync.Mutex
	env := startAPI(t, testenv.Options{APIConfig: func(c *node.Config) {
		c.API.Webhooks = testerFunc(func(_ context.Context, appID string) (string, error) {
			mu.Lock()
			defer mu.Unlock()
			asked = append(asked, appID)
			switch len(asked) {
			case 1:
				return "evt-0001", nil
			case 2:
				return "", api.ErrNoWebhooks
			}
			return "", errors.New("dial tcp 10.0.0.7:443: connection refused (token=hunter2)")
		})
	}})
	c := apiClient(env, 0)
	a := c.do(t, "POST", "/webhooks/test", nil).want(t, 200, 0)
	if want := `{"eventId":"evt-0001"}` + "\n"; a.raw != want {
		t.Fatalf("answer %s", a.raw)
	}
	c.do(t, "POST", "/webhooks/test", nil).want(t, 404, 0)
	a = c.do(t, "POST", "/webhooks/test", nil).want(t, 500, 0)
	if want := `{"error":"internal error"}` + "\n"; a.raw != want {
		t.Fatalf("a failure leaks: %s", a.raw)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(asked, []string{testenv.App.ID, testenv.App.ID, testenv.App.ID}) {
		t.Fatalf("tester asked for %v", asked)
	}
}

// With the app's webhook configured, the webhook test and a kick reach a
// real receiver through the workers' deliveries: the test event with the
// ID the API answered, the kick as a logout with code 100.
func TestWebhookTest_ReachesTheAppsReceiver(t *testing.T) {
	events := make(chan map[string]any, 16)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev map[string]any
		if err := json.NewDecoder(r.Body).Decode(&ev); err == nil {
			events <- ev
		}
	}))
	t.Cleanup(recv.Close)
	hook := apps.App{ID: "hookapp", AllowNoToken: true, APISecret: "hookapp-api-secret",
		Webhook: apps.Webhook{URL: recv.URL, Secret: "hookapp-webhook-secret"}}
	env := startAPI(t, testenv.Options{Apps: []apps.App{hook}})
	c := client{base: env.APIURL(1), app: hook.ID, secret: hook.APISecret}

	a := c.do(t, "POST", "/webhooks/test", nil).want(t, 200, 0)
	id, _ := a.body["eventId"].(string)
	if id == "" {
		t.Fatalf("answer %s", a.raw)
	}
	waitEvent(t, events, func(ev map[string]any) bool { return ev["id"] == id && ev["type"] == "webhook.test" })

	raw := testenv.Dial(t, env.URL(0))
	raw.Send(protocol.Request{Op: protocol.OpLogin, AppID: hook.ID, Account: "mallory", Token: apps.NoToken})
	raw.Expect(protocol.EvLoginSuccess)
	c.do(t, "POST", "/users/mallory/kick", nil).want(t, 200, 0)
	raw.Expect(protocol.EvLogout)
	waitEvent(t, events, func(ev map[string]any) bool {
		return ev["type"] == apps.EventLogout && ev["account"] == "mallory" && ev["code"] == float64(protocol.LogoutOther)
	})
}

// waitEvent waits for a delivered event that match accepts.
func waitEvent(t *testing.T, events <-chan map[string]any, match func(map[string]any) bool) {
	t.Helper()
	deadline := time.After(testenv.WaitTimeout)
	for {
		select {
		case ev := <-events:
			if match(ev) {
				return
			}
		case <-deadline:
			t.Fatal("the receiver did not get the event")
		}
	}
}
