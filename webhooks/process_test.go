package webhooks_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/switchboard-io/switchboard/apps"
	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
	"github.com/switchboard-io/switchboard/webhooks"
)

// Receiver modes of the process test.
const (
	down = iota // every POST gets 503
	hang        // POSTs get no answer until the sender goes away
	up          // every POST gets 200
)

// TestWebhooks_ReceiverDownThenWorkerKilledMidDelivery is the whole story:
// real edge and worker processes against one NATS, SDK users who log in, get
// kicked, join, leave and log out while the receiver answers 503; then the
// worker that is delivering is killed with SIGKILL while the receiver holds
// its POST, and a new worker starts. Every event arrives, in order per
// account and per channel, every signature verifies, and the event that was
// under way when the worker died arrives again with the same ID and body.
func TestWebhooks_ReceiverDownThenWorkerKilledMidDelivery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries")
	}
	t.Parallel()
	edgeBin, workerBin := testenv.Binary(t, "edge"), testenv.Binary(t, "worker")
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(ns.Shutdown)

	rc := newReceiver(t)
	var mode atomic.Int32 // down
	hung := make(chan webhooks.Event, 1)
	rc.answer = func(w http.ResponseWriter, r *http.Request, ev webhooks.Event, try int) int {
		switch mode.Load() {
		case down:
			return http.StatusServiceUnavailable
		case hang:
			select {
			case hung <- ev:
			default:
			}
			<-r.Context().Done()
			return 0
		}
		return http.StatusOK
	}

	env := []string{
		"NATS_URL=" + ns.ClientURL(),
		"SB_KV_MEMORY=true",
		"SB_APP_ID=" + testenv.App.ID,
		"SB_APP_CERTIFICATE=" + testenv.App.Certificate,
		"SB_APP_ALLOW_NO_TOKEN=true",
		"SB_APP_WEBHOOK_URL=" + rc.URL + "/switchboard",
		"SB_APP_WEBHOOK_SECRET=" + secret,
		"SB_LISTEN=127.0.0.1:0",
		"SB_WEBHOOK_ACK_WAIT=2s",
		"SB_WEBHOOK_BACKOFF_BASE=100ms",
		"SB_WEBHOOK_BACKOFF_MAX=500ms",
	}
	workerA := testenv.StartProcess(t, "workerA", workerBin, env)
	workerA.WaitLine(t, "worker running", wait)
	url := testenv.URLFrom(testenv.StartProcess(t, "edge", edgeBin, env).WaitLine(t, "WebSocket URL:", wait))

	login := func(name, account string) *testenv.User {
		u := testenv.NewUser(t, name, url)
		u.Login(testenv.App.ID, account, "_no_need_token", 0, "")
		u.Wait(t, protocol.EvLoginSuccess)
		return u
	}
	join := func(u *testenv.User, ch string) {
		u.ChannelJoin(ch)
		u.Wait(t, protocol.EvChannelJoined, testenv.Channel(ch))
	}
	leave := func(u *testenv.User, ch string) {
		u.ChannelLeave(ch)
		u.Wait(t, protocol.EvChannelLeaved, testenv.Channel(ch))
	}
	logout := func(u *testenv.User) {
		u.Logout()
		u.Wait(t, protocol.EvLogout, testenv.Code(protocol.LogoutUser))
	}

	// While the receiver is down.
	alice1 := login("alice1", "alice")
	bob := login("bob", "bob")
	join(alice1, "room")
	join(bob, "room")
	leave(bob, "room")
	login("alice2", "alice") // kicks alice1
	alice1.Wait(t, protocol.EvLogout, testenv.Code(protocol.LogoutKicked))
	logout(bob)
	rc.waitFor(t, "retries while down", func(g []delivery) bool { return len(g) >= 3 })

	// The receiver takes the next POST and holds it; the worker sending it
	// is killed.
	mode.Store(hang)
	var inFlight webhooks.Event
	select {
	case inFlight = <-hung:
	case <-time.After(wait):
		t.Fatal("no delivery reached the receiver after it stopped answering 503")
	}
	workerA.Kill()
	mode.Store(up)
	testenv.StartProcess(t, "workerB", workerBin, env).WaitLine(t, "worker running", wait)

	// With the new worker.
	alice2 := login("alice3", "alice") // kicks alice2
	join(alice2, "room2")
	carol := login("carol", "carol")
	join(carol, "room")
	logout(carol)

	want := map[string][]string{
		"alice": {"login", "channel.join room", "channel.leave room 601", "logout 103", "login",
			"logout 103", "login", "channel.join room2"},
		"bob":   {"login", "channel.join room", "channel.leave room 602", "logout 101"},
		"carol": {"login", "channel.join room", "channel.leave room 603", "logout 101"},
	}
	total := 0
	for _, evs := range want {
		total += len(evs)
	}
	got := rc.waitFor(t, fmt.Sprintf("%d events delivered", total), func(g []delivery) bool {
		ids := map[string]bool{}
		for _, d := range g {
			if d.status == http.StatusOK {
				ids[d.ev.ID] = true
			}
		}
		return len(ids) >= total
	})

	// Every POST is signed; the same ID always carries the same body.
	bodies := map[string]string{}
	for _, d := range got {
		if err := webhooks.Verify(secret, d.sig, d.body, time.Now(), 5*time.Minute); err != nil {
			t.Errorf("delivery of %s: %v", d.ev.ID, err)
		}
		if b, ok := bodies[d.ev.ID]; ok && b != string(d.body) {
			t.Errorf("event %s arrived with two bodies:\n%s\n%s", d.ev.ID, b, d.body)
		}
		bodies[d.ev.ID] = string(d.body)
	}
	// The event under way when the worker died arrived again, and only
	// after that did anything later arrive.
	var order []webhooks.Event
	seen := map[string]bool{}
	for _, d := range got {
		if d.status == http.StatusOK && !seen[d.ev.ID] {
			seen[d.ev.ID] = true
			order = append(order, d.ev)
		}
	}
	if !seen[inFlight.ID] {
		t.Fatalf("the event under way when the worker died (%s %s) never arrived", inFlight.Type, inFlight.ID)
	}
	posts := 0
	for _, d := range got {
		if d.ev.ID == inFlight.ID {
			posts++
		}
	}
	if posts < 2 {
		t.Errorf("the event under way when the worker died was posted %d times, want it again after the kill", posts)
	}
	// In order per account and per channel, with nothing missing and
	// nothing extra.
	perAccount := map[string][]string{}
	perChannel := map[string][]string{}
	for _, ev := range order {
		if ev.App != testenv.App.ID {
			t.Errorf("event of app %q", ev.App)
		}
		s := ev.Type
		if ev.Channel != "" {
			s += " " + ev.Channel
			perChannel[ev.Channel] = append(perChannel[ev.Channel], ev.Type+" "+ev.Account)
		}
		if ev.Code != 0 {
			s += fmt.Sprint(" ", ev.Code)
		}
		perAccount[ev.Account] = append(perAccount[ev.Account], s)
	}
	for account, evs := range want {
		if g := strings.Join(perAccount[account], ", "); g != strings.Join(evs, ", ") {
			t.Errorf("%s's events:\n got %s\nwant %s", account, g, strings.Join(evs, ", "))
		}
	}
	if len(perAccount) != len(want) {
		t.Errorf("events of accounts %v", perAccount)
	}
	wantRoom := "channel.join alice, channel.join bob, channel.leave bob, channel.leave alice, channel.join carol, channel.leave carol"
	if g := strings.Join(perChannel["room"], ", "); g != wantRoom {
		t.Errorf("room's events:\n got %s\nwant %s", g, wantRoom)
	}
	if order[0].Type != apps.EventLogin || order[0].Account != "alice" {
		t.Errorf("first event %+v, want alice's login", order[0])
	}
	t.Logf("%d POSTs for %d events; %d while down or cut off", len(got), len(order), len(got)-len(order))
}
