package webhooks_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-io/switchboard/apps"
	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/node"
	"github.com/switchboard-io/switchboard/protocol"
	"github.com/switchboard-io/switchboard/token"
	"github.com/switchboard-io/switchboard/webhooks"
)

// startNode runs an edge and a worker in this process, for the test app
// with a webhook to rc, and returns the edge's WebSocket URL.
func startNode(t *testing.T, rc *receiver, connTimeout int, events ...string) string {
	t.Helper()
	ns := testenv.StartNATS(t)
	app := testenv.App
	sel, err := apps.ParseEvents(events)
	if err != nil {
		t.Fatal(err)
	}
	app.Webhook = apps.Webhook{URL: rc.URL, Secret: secret, Events: sel}
	reg, err := apps.NewRegistry(app)
	if err != nil {
		t.Fatal(err)
	}
	ec, wc := testenv.EdgeConfig(), testenv.WorkerConfig()
	ec.ConnTimeout, wc.ConnTimeout = connTimeout, connTimeout
	n, err := node.Start(context.Background(), node.Config{
		NATSServer: ns, Memory: true, Worker: true, Edge: true, Listen: "127.0.0.1:0",
		EdgeConfig: ec, WorkerConfig: wc, Apps: reg, Webhooks: fastRetries(), Log: quiet(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = n.Close(ctx)
	})
	return n.WebSocketURL()
}

// eventsOf lists the delivered events of account as "type channel code".
func eventsOf(got []delivery, account string) string {
	var out []string
	for _, d := range got {
		if d.ev.Account == account && d.status == http.StatusOK {
			s := d.ev.Type
			if d.ev.Channel != "" {
				s += " " + d.ev.Channel
			}
			if d.ev.Code != 0 {
				s += fmt.Sprintf(" %d %s", d.ev.Code, d.ev.Reason)
			}
			out = append(out, strings.TrimSpace(s))
		}
	}
	return strings.Join(out, ", ")
}

func TestEvents_TokenExpiryAndLostConnectionAreLogoutsWithTheirCodes(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t)
	url := startNode(t, rc, 2)
	app := testenv.App

	// A token that expires while its user is online: 105. Its 4 s leave
	// the login time on a busy machine.
	short := testenv.NewUser(t, "short", url)
	short.Login(app.ID, "short", token.GenerateV1(app.ID, app.Certificate, "short", time.Now().Add(4*time.Second).Unix()), 0, "")
	short.Wait(t, protocol.EvLoginSuccess)
	short.Wait(t, protocol.EvLogout, testenv.Code(protocol.LogoutTokenExpired))

	// A connection that drops and does not come back within
	// _conn_timeout: its channels are left with 604, then 102.
	proxy := testenv.NewProxy(t, url)
	lost := testenv.NewUser(t, "lost", proxy.URL())
	lost.Login(app.ID, "lost", "_no_need_token", 0, "")
	lost.Wait(t, protocol.EvLoginSuccess)
	lost.ChannelJoin("lobby")
	lost.Wait(t, protocol.EvChannelJoined)
	proxy.Refuse(true)
	proxy.Drop()

	want := map[string]string{
		"short": "login, logout 105 token_expired",
		"lost":  "login, channel.join lobby, channel.leave lobby 604, logout 102 connection_lost",
	}
	got := rc.waitFor(t, "both logouts", func(g []delivery) bool {
		return eventsOf(g, "short") == want["short"] && eventsOf(g, "lost") == want["lost"]
	})
	for _, d := range got {
		if err := webhooks.Verify(secret, d.sig, d.body, time.Now(), time.Minute); err != nil {
			t.Errorf("%s: %v", d.ev.ID, err)
		}
	}
}

func TestEvents_ChannelMessagesInOrderBetweenJoinsWhenSelected(t *testing.T) {
	t.Parallel()
	rc := newReceiver(t)
	url := startNode(t, rc, 20, apps.EventChannelJoin, apps.EventChannelLeave, apps.EventChannelMessage)
	login := func(account string) *testenv.User {
		u := testenv.NewUser(t, account, url)
		u.Login(testenv.App.ID, account, "_no_need_token", 0, "")
		u.Wait(t, protocol.EvLoginSuccess)
		u.ChannelJoin("talk")
		u.Wait(t, protocol.EvChannelJoined)
		return u
	}
	alice := login("alice")
	bob := login("bob")
	for i := 1; i <= 3; i++ {
		alice.MessageChannelSend("talk", fmt.Sprint("m", i), fmt.Sprint("id", i))
		bob.Wait(t, protocol.EvMessageChannelReceive, testenv.Msg(fmt.Sprint("m", i)))
	}
	alice.ChannelSetAttr("talk", "topic", "webhooks") // a frame on the channel subject that is no event
	alice.Wait(t, protocol.EvChannelAttrUpdated, func(e protocol.Event) bool { return e.Name == "topic" })
	bob.ChannelLeave("talk")
	bob.Wait(t, protocol.EvChannelLeaved)

	want := "channel.join alice, channel.join bob, channel.message alice m1, channel.message alice m2, " +
		"channel.message alice m3, channel.leave bob"
	var seq string
	got := rc.waitFor(t, "bob's leave", func(g []delivery) bool {
		var s []string
		for _, d := range g {
			e := d.ev
			s = append(s, strings.TrimSpace(e.Type+" "+e.Account+" "+e.Message))
		}
		seq = strings.Join(s, ", ")
		return len(g) > 0 && g[len(g)-1].ev.Type == apps.EventChannelLeave
	})
	if seq != want {
		t.Fatalf("events:\n got %s\nwant %s", seq, want)
	}
	var worst time.Duration
	for _, d := range got {
		worst = max(worst, d.at.Sub(time.UnixMilli(d.ev.Timestamp)))
	}
	t.Logf("%d events; the slowest reached the receiver %v after it happened", len(got), worst)
	for _, d := range got {
		if d.ev.Type == apps.EventChannelMessage && (d.ev.Channel != "talk" || d.ev.ID == "" || d.ev.Timestamp == 0) {
			t.Errorf("message event %+v", d.ev)
		}
		if err := webhooks.Verify(secret, d.sig, d.body, time.Now(), time.Minute); err != nil {
			t.Errorf("%s: %v", d.ev.ID, err)
		}
	}
}
