package e2e_test

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboard-io/switchboard/edge"
	"github.com/switchboard-io/switchboard/handlers"
	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
	"github.com/switchboard-io/switchboard/sdk"
	"github.com/switchboard-io/switchboard/token"
)

// queryStatus asks u for account's status and waits for the answer.
func queryStatus(t *testing.T, u *testenv.User, account string) string {
	t.Helper()
	u.QueryUserStatus(account)
	return u.Wait(t, protocol.EvQueryUserStatusResult, func(e protocol.Event) bool { return e.Name == account }).Status
}

func TestLogin_SucceedsAndShowsOnline(t *testing.T) {
	env := testenv.Start(t, testenv.Options{Edges: 2})
	alice := env.LoginUser(t, 0, "alice")
	if got := alice.GetStatus(); got != 2 {
		t.Fatalf("GetStatus = %d, want 2", got)
	}
	if !alice.IsOnline() {
		t.Fatal("IsOnline = false after onLoginSuccess")
	}
	bob := env.LoginUser(t, 1, "bob")
	if s := queryStatus(t, bob, "alice"); s != "1" {
		t.Fatalf("alice's status seen from the other edge = %q, want 1", s)
	}
	if s := queryStatus(t, bob, "carol"); s != "0" {
		t.Fatalf("carol's status = %q, want 0", s)
	}
	if v := alice.GetSdkVersion(); v != 1010400000 {
		t.Fatalf("GetSdkVersion = %d, want 1010400000", v)
	}
}

func TestLogin_TokenChecks(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	app := testenv.StrictApp
	future := time.Now().Add(time.Hour).Unix()
	past := time.Now().Add(-time.Minute).Unix()
	tests := []struct {
		name, appID, account, token string
		want                        int // 0 for success
	}{
		{"valid v1", app.ID, "u1", token.GenerateV1(app.ID, app.Certificate, "u1", future), 0},
		{"valid v2", app.ID, "u2", token.GenerateV2(app.ID, app.Certificate, "u2", future), 0},
		{"another account's token", app.ID, "u3", token.GenerateV1(app.ID, app.Certificate, "someone", future), protocol.LoginTokenWrong},
		{"wrong certificate", app.ID, "u4", token.GenerateV1(app.ID, "not-the-certificate", "u4", future), protocol.LoginTokenWrong},
		{"expired", app.ID, "u5", token.GenerateV1(app.ID, app.Certificate, "u5", past), protocol.LoginTokenExpired},
		{"garbage", app.ID, "u6", "1:x:y", protocol.LoginTokenWrong},
		{"no token where not allowed", app.ID, "u7", "_no_need_token", protocol.LoginTokenWrong},
		{"unknown app", "no-such-app", "u8", "_no_need_token", protocol.LoginTokenWrong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := testenv.NewUser(t, tt.account, env.URL(0))
			u.Login(tt.appID, tt.account, tt.token, 0, "")
			if tt.want == 0 {
				u.Wait(t, protocol.EvLoginSuccess)
				return
			}
			u.Wait(t, protocol.EvLoginFailed, testenv.Code(tt.want))
			if s := u.GetStatus(); s != 0 {
				t.Fatalf("GetStatus after a failed login = %d, want 0", s)
			}
		})
	}
}

func TestLogin_ElsewhereKicksTheFirstSession(t *testing.T) {
	env := testenv.Start(t, testenv.Options{Edges: 2, Workers: 2})
	first := env.LoginUser(t, 0, "alice")
	second := env.LoginUser(t, 1, "alice")
	first.Wait(t, protocol.EvLogout, testenv.Code(protocol.LogoutKicked))
	if s := first.GetStatus(); s != 0 {
		t.Fatalf("kicked client's status = %d, want 0", s)
	}
	// The new session is the one that receives.
	bob := env.LoginUser(t, 0, "bob")
	bob.MessageInstantSend("alice", 0, "to the new one", "k1")
	second.Wait(t, protocol.EvMessageInstantReceive, testenv.Msg("to the new one"))
	bob.Wait(t, protocol.EvMessageSendSuccess, testenv.MsgID("k1"))
	if n := first.Count(protocol.EvReconnecting); n != 0 {
		t.Fatalf("kicked client tried to reconnect %d times", n)
	}
	if n := first.Count(protocol.EvMessageInstantReceive); n != 0 {
		t.Fatalf("kicked client received %d messages", n)
	}
}

// A session that ends between the workers' answer to its login and the
// moment the edge attaches it to the connection (here: a login elsewhere
// kicks it) must still reach the client: onLoginSuccess, then onLogout(103)
// and the kick's close, never a client left believing it is logged in.
func TestLogin_KickedBeforeItsLoginIsAnsweredStillHearsOfBoth(t *testing.T) {
	var hold atomic.Bool
	hold.Store(true)
	reached, release := make(chan struct{}), make(chan struct{})
	env := testenv.Start(t, testenv.Options{Edges: 2, Edge: func(c *edge.Config) {
		c.LoginHook = func(_, account string) {
			if account == "alice" && hold.CompareAndSwap(true, false) {
				close(reached)
				<-release
			}
		}
	}})
	first := testenv.Dial(t, env.URL(0))
	first.Send(protocol.Request{Op: protocol.OpLogin, AppID: testenv.App.ID, Account: "alice", Token: "_no_need_token"})
	select {
	case <-reached:
	case <-time.After(testenv.WaitTimeout):
		t.Fatal("the first login never reached the edge's hook")
	}
	testenv.Dial(t, env.URL(1)).Login("alice")
	eventually(t, func() (bool, string) {
		n := env.Edges[0].Edge.Stats().Sessions
		return n == 0, strconv.Itoa(n) + " sessions on the first edge, want 0 after the kick"
	})
	close(release)

	if ev := first.Next(); ev.Ev != protocol.EvLoginSuccess {
		t.Fatalf("first event %+v, want onLoginSuccess", ev)
	}
	if ev := first.Next(); ev.Ev != protocol.EvLogout || ev.Ecode != protocol.LogoutKicked {
		t.Fatalf("after onLoginSuccess: %+v, want onLogout(%d)", ev, protocol.LogoutKicked)
	}
	if code := first.ExpectClose(); code != protocol.CloseKicked {
		t.Fatalf("close %d, want %d", code, protocol.CloseKicked)
	}
}

func TestLogin_WhileLoggedInIsIgnored(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	alice := env.LoginUser(t, 0, "alice")
	alice.Login(testenv.App.ID, "alice", "_no_need_token", 0, "")
	alice.QueryUserStatus("alice")
	alice.Wait(t, protocol.EvQueryUserStatusResult)
	if n := alice.Count(protocol.EvLoginSuccess) + alice.Count(protocol.EvLoginFailed) + alice.Count(protocol.EvLogout); n != 1 {
		t.Fatalf("a second login changed something: %+v", alice.Events())
	}
}

func TestLogin_TokenExpiringWhileOnlineLogsOut105(t *testing.T) {
	env := testenv.Start(t, testenv.Options{Edges: 2})
	app := testenv.StrictApp
	expiry := time.Now().Add(2 * time.Second).Unix()
	u := testenv.NewUser(t, "shortlived", env.URL(0))
	u.Login(app.ID, "shortlived", token.GenerateV1(app.ID, app.Certificate, "shortlived", expiry), 0, "")
	u.Wait(t, protocol.EvLoginSuccess)
	u.Wait(t, protocol.EvLogout, testenv.Code(protocol.LogoutTokenExpired))
	if s := u.GetStatus(); s != 0 {
		t.Fatalf("status after expiry = %d, want 0", s)
	}
	observer := env.LoginUser(t, 1, "observer")
	if s := queryStatus(t, observer, "shortlived"); s != "0" {
		t.Fatalf("expired user's status = %q, want 0", s)
	}
}

func TestLogout_EndsTheSession(t *testing.T) {
	env := testenv.Start(t, testenv.Options{Edges: 2})
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 1, "bob")
	alice.Logout()
	alice.Wait(t, protocol.EvLogout, testenv.Code(protocol.LogoutUser))
	if s := alice.GetStatus(); s != 0 {
		t.Fatalf("status after logout = %d, want 0", s)
	}
	if s := queryStatus(t, bob, "alice"); s != "0" {
		t.Fatalf("alice's status after logout = %q, want 0", s)
	}
	// A request after logout fails locally with 1003.
	alice.QueryUserStatus("bob")
	alice.Wait(t, protocol.EvError, testenv.Code(protocol.NotLoggedIn))
	// And the same client can log in again.
	alice.Login(testenv.App.ID, "alice", "_no_need_token", 0, "")
	alice.Wait(t, protocol.EvLoginSuccess)
	if s := queryStatus(t, bob, "alice"); s != "1" {
		t.Fatalf("alice's status after logging in again = %q, want 1", s)
	}
}

func TestLogin2_UnreachableServiceFails201(t *testing.T) {
	u := testenv.NewUser(t, "alice", "ws://127.0.0.1:1/ws")
	u.Login2(testenv.App.ID, "alice", "_no_need_token", 0, "", 1, 2)
	u.Wait(t, protocol.EvLoginFailed, testenv.Code(protocol.LoginNet))
}

func TestReconnect_WithinConnTimeoutResumesAndLosesNothing(t *testing.T) {
	env := testenv.Start(t, testenv.Options{Edges: 2})
	proxy := testenv.NewProxy(t, env.URL(0))
	alice := testenv.NewUser(t, "alice", proxy.URL())
	alice.Login(testenv.App.ID, "alice", "_no_need_token", 0, "")
	alice.Wait(t, protocol.EvLoginSuccess)
	bob := env.LoginUser(t, 1, "bob")

	proxy.Refuse(true)
	proxy.Drop()
	alice.Wait(t, protocol.EvReconnecting)
	// While alice is away, she is still online to her peers, and a message
	// to her waits for her instead of failing.
	if s := queryStatus(t, bob, "alice"); s != "1" {
		t.Fatalf("alice's status while reconnecting = %q, want 1", s)
	}
	for i := 0; i < 5; i++ {
		bob.MessageInstantSend("alice", 0, "while away "+strconv.Itoa(i), "away"+strconv.Itoa(i))
	}
	proxy.Refuse(false)
	alice.Wait(t, protocol.EvReconnected)
	for i := 0; i < 5; i++ {
		alice.Wait(t, protocol.EvMessageInstantReceive, testenv.Msg("while away "+strconv.Itoa(i)))
		bob.Wait(t, protocol.EvMessageSendSuccess, testenv.MsgID("away"+strconv.Itoa(i)))
	}
	got := alice.Events()
	order := 0
	for _, e := range got {
		if e.Ev == protocol.EvMessageInstantReceive {
			if e.Msg != "while away "+strconv.Itoa(order) {
				t.Fatalf("message %d out of order: %q", order, e.Msg)
			}
			order++
		}
		if e.Ev == protocol.EvLogout || e.Ev == protocol.EvLoginSuccess && order > 0 {
			t.Fatalf("the session did not survive: %+v", e)
		}
	}
	if order != 5 {
		t.Fatalf("alice received %d messages, want exactly 5 (no duplicates)", order)
	}
	// The resumed session works both ways.
	alice.MessageInstantSend("bob", 0, "back", "back1")
	bob.Wait(t, protocol.EvMessageInstantReceive, testenv.Msg("back"), testenv.Account("alice"))
	alice.Wait(t, protocol.EvMessageSendSuccess, testenv.MsgID("back1"))
}

func TestDisconnect_PastConnTimeoutGoesOffline(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.Options{
		Edges:  2,
		Worker: func(c *handlers.Config) { c.ConnTimeout = 2 },
	})
	proxy := testenv.NewProxy(t, env.URL(0))
	alice := testenv.NewUser(t, "alice", proxy.URL())
	alice.Login(testenv.App.ID, "alice", "_no_need_token", 0, "")
	alice.Wait(t, protocol.EvLoginSuccess)
	bob := env.LoginUser(t, 1, "bob")

	proxy.Refuse(true)
	proxy.Drop()
	alice.Wait(t, protocol.EvReconnecting)
	deadline := time.Now().Add(testenv.WaitTimeout)
	for queryStatus(t, bob, "alice") != "0" {
		if time.Now().After(deadline) {
			t.Fatal("alice still online long after her conn timeout")
		}
	}
	// Coming back now is a fresh login, which the SDK makes by itself.
	proxy.Refuse(false)
	alice.Wait(t, protocol.EvReconnected)
	if s := queryStatus(t, bob, "alice"); s != "1" {
		t.Fatalf("alice's status after logging in again = %q, want 1", s)
	}
}

func TestSDK_TwoClientsInOneProcessAndTheSharedInstance(t *testing.T) {
	first, again := sdk.GetAgoraSDKInstance(testenv.App.ID), sdk.GetAgoraSDKInstance(testenv.App.ID)
	if first != again {
		t.Fatal("GetAgoraSDKInstance returned two instances")
	}
	env := testenv.Start(t, testenv.Options{})
	a := env.LoginUser(t, 0, "a")
	b := env.LoginUser(t, 0, "b")
	a.MessageInstantSend("b", 0, "ping", "p1")
	b.Wait(t, protocol.EvMessageInstantReceive, testenv.Msg("ping"), testenv.Account("a"))
	a.Wait(t, protocol.EvMessageSendSuccess, testenv.MsgID("p1"))
}
