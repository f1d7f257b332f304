package api_test

import (
	"strings"
	"testing"

	"github.com/switchboard-io/switchboard/api"
	"github.com/switchboard-io/switchboard/edge"
	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
)

// A system message sent through one edge's API reaches a client on the
// other edge as onMessageInstantReceive from the system account, and the
// answer comes only after the client acknowledged it.
func TestPeerMessage_SystemMessageArrivesAsInstantReceive(t *testing.T) {
	env := startAPI(t, testenv.Options{})
	bob := env.LoginUser(t, 1, "bob")
	c := apiClient(env, 0)

	a := c.do(t, "POST", "/users/bob/messages", map[string]string{"msg": "maintenance at noon"}).want(t, 200, 0)
	if a.body["result"] != api.ResultDelivered {
		t.Fatalf("result %v, want delivered", a.body["result"])
	}
	bob.Wait(t, protocol.EvMessageInstantReceive, testenv.Account(api.SystemAccount), testenv.Msg("maintenance at noon"))

	a = c.do(t, "POST", "/users/bob/messages", map[string]string{"from": "alice", "msg": "hi from alice"}).want(t, 200, 0)
	if a.body["result"] != api.ResultDelivered {
		t.Fatalf("result %v", a.body["result"])
	}
	bob.Wait(t, protocol.EvMessageInstantReceive, testenv.Account("alice"), testenv.Msg("hi from alice"))
}

func TestPeerMessage_OfflineAccountAnswersOffline(t *testing.T) {
	env := startAPI(t, testenv.Options{})
	a := apiClient(env, 1).do(t, "POST", "/users/carol/messages", map[string]string{"msg": "anyone?"}).want(t, 200, 0)
	if a.body["result"] != api.ResultOffline {
		t.Fatalf("result %v, want offline", a.body["result"])
	}
}

func TestPeerMessage_Over8KBIsRefusedWith1005(t *testing.T) {
	env := startAPI(t, testenv.Options{})
	bob := env.LoginUser(t, 0, "bob")
	c := apiClient(env, 0)
	a := c.do(t, "POST", "/users/bob/messages", map[string]string{"msg": strings.Repeat("x", protocol.MaxMsgBytes+1)}).want(t, 413, protocol.LargeParam)
	if !strings.Contains(a.errorText(), "msg") {
		t.Errorf("error does not name msg: %s", a.raw)
	}
	// Exactly 8 KB goes through.
	c.do(t, "POST", "/users/bob/messages", map[string]string{"msg": strings.Repeat("y", protocol.MaxMsgBytes)}).want(t, 200, 0)
	bob.Wait(t, protocol.EvMessageInstantReceive, testenv.Msg(strings.Repeat("y", protocol.MaxMsgBytes)))
	// The refused one, had it gone out, would have arrived first.
	if n := bob.Count(protocol.EvMessageInstantReceive); n != 1 {
		t.Fatalf("bob got %d messages, want 1 (the 8 KB one)", n)
	}
}

// A channel message through the API reaches the members on every edge as
// onMessageChannelReceive, without the API joining.
func TestChannelMessage_ArrivesAsChannelReceive(t *testing.T) {
	env := startAPI(t, testenv.Options{})
	bob := joined(t, env, 0, "bob", "lobby")
	carol := joined(t, env, 1, "carol", "lobby")
	c := apiClient(env, 1)

	a := c.do(t, "POST", "/channels/lobby/messages", map[string]string{"msg": "welcome all"}).want(t, 200, 0)
	if a.body["result"] != api.ResultSent {
		t.Fatalf("result %v, want sent", a.body["result"])
	}
	for _, u := range []*testenv.User{bob, carol} {
		u.Wait(t, protocol.EvMessageChannelReceive, testenv.Channel("lobby"), testenv.Account(api.SystemAccount), testenv.Msg("welcome all"))
	}
	// As a named member: the member itself gets no echo, the others do.
	c.do(t, "POST", "/channels/lobby/messages", map[string]string{"from": "bob", "msg": "from bob"}).want(t, 200, 0)
	carol.Wait(t, protocol.EvMessageChannelReceive, testenv.Account("bob"), testenv.Msg("from bob"))
	// The API is not a member: the channel still has two.
	m := c.do(t, "GET", "/channels/lobby/members", nil).want(t, 200, 0)
	if m.body["count"] != float64(2) {
		t.Fatalf("members after the API's messages: %s", m.raw)
	}
}

func TestChannelMessage_SpecialChannelIsRefused(t *testing.T) {
	env := startAPI(t, testenv.Options{})
	apiClient(env, 0).do(t, "POST", "/channels/_agora_user_online/messages", map[string]string{"msg": "x"}).want(t, 409, protocol.SendMessageOther)
}

// A receiver that reads the message and never acknowledges it: the API
// answers 504 with 401, as the client's sender would get
// onMessageSendError(401), after the edge's MessageTimeout (3 s here).
func TestPeerMessage_UnacknowledgedIs504With401(t *testing.T) {
	env := startAPI(t, testenv.Options{})
	raw := testenv.Dial(t, env.URL(1))
	raw.Login("mute")
	a := apiClient(env, 0).do(t, "POST", "/users/mute/messages", map[string]string{"msg": "are you there?"}).want(t, 504, protocol.SendMessageTimeout)
	if !strings.Contains(a.errorText(), "acknowledge") {
		t.Fatalf("error %q", a.errorText())
	}
	// It did reach the connection; only the acknowledgement is missing.
	if ev := raw.Expect(protocol.EvMessageInstantReceive); ev.Msg != "are you there?" || !ev.Ack {
		t.Fatalf("the receiver got %+v", ev)
	}
}

// The guarantee is a client's: a message to an account whose connection
// dropped waits for its client to come back, and is answered delivered
// once the resumed client has acknowledged it, never offline.
func TestPeerMessage_WaitsForAReconnectingClient(t *testing.T) {
	env := startAPI(t, testenv.Options{Edge: func(c *edge.Config) { c.MessageTimeout = testenv.WaitTimeout }})
	proxy := testenv.NewProxy(t, env.URL(0))
	alice := testenv.NewUser(t, "alice", proxy.URL())
	alice.Login(testenv.App.ID, "alice", "_no_need_token", 0, "")
	alice.Wait(t, protocol.EvLoginSuccess)

	proxy.Refuse(true)
	proxy.Drop()
	alice.Wait(t, protocol.EvReconnecting)
	answered := make(chan answer, 1)
	go func() {
		a, err := apiClient(env, 1).send("POST", "/users/alice/messages", map[string]string{"msg": "while you were away"})
		if err != nil {
			t.Error(err)
		}
		answered <- a
	}()
	proxy.Refuse(false)
	alice.Wait(t, protocol.EvReconnected)
	alice.Wait(t, protocol.EvMessageInstantReceive, testenv.Msg("while you were away"))
	a := <-answered
	a.want(t, 200, 0)
	if a.body["result"] != api.ResultDelivered {
		t.Fatalf("result %v, want delivered", a.body["result"])
	}
	if n := alice.Count(protocol.EvMessageInstantReceive); n != 1 {
		t.Fatalf("alice got the message %d times", n)
	}
}
