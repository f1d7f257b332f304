package e2e_test

import (
	"encoding/json"
	"maps"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/switchboard-io/switchboard/handlers"
	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
	"github.com/switchboard-io/switchboard/subjects"
)

// uattr asks u for account's attribute name and returns its value.
func uattr(t *testing.T, u *testenv.User, account, name string) string {
	t.Helper()
	if account == u.Account {
		u.GetAttr(name)
	} else {
		u.GetUserAttr(account, name)
	}
	return u.Wait(t, protocol.EvUserAttrResult, func(e protocol.Event) bool {
		return e.Account == account && e.Name == name
	}).Value
}

// uattrs asks u for all of account's attributes and decodes the JSON
// object that onUserAttrAllResult carries.
func uattrs(t *testing.T, u *testenv.User, account string) map[string]string {
	t.Helper()
	if account == u.Account {
		u.GetAttrAll()
	} else {
		u.GetUserAttrAll(account)
	}
	v := u.Wait(t, protocol.EvUserAttrAllResult, testenv.Account(account)).Value
	var attrs map[string]string
	if err := json.Unmarshal([]byte(v), &attrs); err != nil || attrs == nil {
		t.Fatalf("onUserAttrAllResult value %q is not a JSON object of strings: %v", v, err)
	}
	return attrs
}

func TestUserAttr_SetAndReadAcrossEdges(t *testing.T) {
	env := testenv.Start(t, testenv.Options{Edges: 2, Workers: 2})
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 1, "bob")

	alice.SetAttr("color", "blue")
	alice.SetAttr("size", "10")
	alice.SetAttr("color", "green") // the last write wins
	if v := uattr(t, alice, "alice", "color"); v != "green" {
		t.Fatalf("getAttr(color) = %q, want green", v)
	}
	want := map[string]string{"color": "green", "size": "10"}
	if got := uattrs(t, alice, "alice"); !maps.Equal(got, want) {
		t.Fatalf("getAttrAll = %v, want %v", got, want)
	}
	// Another user on another edge reads the same.
	if v := uattr(t, bob, "alice", "size"); v != "10" {
		t.Fatalf("getUserAttr(alice, size) = %q, want 10", v)
	}
	if got := uattrs(t, bob, "alice"); !maps.Equal(got, want) {
		t.Fatalf("getUserAttrAll(alice) = %v, want %v", got, want)
	}
	// Nobody's attributes but their owner's change.
	if got := uattrs(t, bob, "bob"); len(got) != 0 {
		t.Fatalf("bob's attributes = %v, want none", got)
	}
}

func TestUserAttr_EmptyValueDeletes(t *testing.T) {
	env := testenv.Start(t, testenv.Options{Edges: 2, Workers: 2})
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 1, "bob")
	alice.SetAttr("a", "1")
	alice.SetAttr("b", "2")
	alice.SetAttr("a", "")
	if got := uattrs(t, alice, "alice"); !maps.Equal(got, map[string]string{"b": "2"}) {
		t.Fatalf("after deleting a: %v", got)
	}
	alice.SetAttr("b", "")
	alice.SetAttr("never-set", "") // deleting what is not there is no error
	// setAttr has no callback: alice's own read, handled after her writes,
	// says when bob may look.
	if got := uattrs(t, alice, "alice"); len(got) != 0 {
		t.Fatalf("after deleting everything, alice sees %v", got)
	}
	if v := uattr(t, bob, "alice", "a"); v != "" {
		t.Fatalf("a deleted attribute reads %q", v)
	}
	if got := uattrs(t, bob, "alice"); len(got) != 0 {
		t.Fatalf("after deleting everything: %v", got)
	}
	if n := alice.Count(protocol.EvError); n != 0 {
		t.Fatalf("deleting gave %d onError", n)
	}
}

func TestUserAttr_KeptAcrossLogoutAndReadableOffline(t *testing.T) {
	env := testenv.Start(t, testenv.Options{Edges: 2, Workers: 2})
	alice := env.LoginUser(t, 0, "alice")
	alice.SetAttr("status", "away")
	if v := uattr(t, alice, "alice", "status"); v != "away" {
		t.Fatalf("status = %q", v)
	}
	alice.Logout()
	alice.Wait(t, protocol.EvLogout)

	bob := env.LoginUser(t, 1, "bob")
	if v := uattr(t, bob, "alice", "status"); v != "away" {
		t.Fatalf("offline alice's status seen by bob = %q, want away", v)
	}
	alice2 := env.LoginUser(t, 1, "alice")
	if v := uattr(t, alice2, "alice", "status"); v != "away" {
		t.Fatalf("status after logging in again = %q, want away", v)
	}
	// An account that never set anything, or never logged in, has none.
	if got := uattrs(t, bob, "nobody"); len(got) != 0 {
		t.Fatalf("nobody's attributes = %v", got)
	}
	if v := uattr(t, bob, "nobody", "x"); v != "" {
		t.Fatalf("nobody's x = %q", v)
	}
}

func TestUserAttr_LimitsAndBadInputFailAndChangeNothing(t *testing.T) {
	env := testenv.Start(t, testenv.Options{Edges: 2, Workers: 2})
	alice := env.LoginUser(t, 0, "alice")

	longest := strings.Repeat("n", protocol.MaxNameChars)
	biggest := strings.Repeat("v", protocol.MaxUserAttrBytes)
	alice.SetAttr(longest, biggest)
	alice.SetAttr("é✓", "unicode names are fine")

	tests := []struct {
		name string
		send func()
		op   string
		code int
	}{
		{"empty name", func() { alice.SetAttr("", "x") }, protocol.OpSetAttr, protocol.WrongParam},
		{"name with a space", func() { alice.SetAttr("a b", "x") }, protocol.OpSetAttr, protocol.WrongParam},
		{"name over 128 characters", func() { alice.SetAttr(longest+"n", "x") }, protocol.OpSetAttr, protocol.WrongParam},
		{"value over 1024 bytes", func() { alice.SetAttr("big", biggest+"v") }, protocol.OpSetAttr, protocol.LargeParam},
		{"unknown built-in", func() { alice.SetAttr("_mine", "x") }, protocol.OpSetAttr, protocol.WrongParam},
		{"_conn_timeout below 20", func() { alice.SetAttr(handlers.AttrConnTimeout, "19") }, protocol.OpSetAttr, protocol.WrongParam},
		{"_conn_timeout above 120", func() { alice.SetAttr(handlers.AttrConnTimeout, "121") }, protocol.OpSetAttr, protocol.WrongParam},
		{"_conn_timeout not a number", func() { alice.SetAttr(handlers.AttrConnTimeout, "soon") }, protocol.OpSetAttr, protocol.WrongParam},
		{"getAttr of a bad name", func() { alice.GetAttr("a b") }, protocol.OpGetAttr, protocol.WrongParam},
		{"getUserAttr of a bad account", func() { alice.GetUserAttr("b ob", "x") }, protocol.OpGetUserAttr, protocol.WrongParam},
		{"getUserAttrAll of an empty account", func() { alice.GetUserAttrAll("") }, protocol.OpGetUserAttrAll, protocol.WrongParam},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.send()
			got := alice.Wait(t, protocol.EvError, func(e protocol.Event) bool { return e.Name == tt.op })
			if got.Ecode != tt.code || got.Desc == "" {
				t.Fatalf("onError = %+v, want code %d with a description", got, tt.code)
			}
		})
	}
	want := map[string]string{longest: biggest, "é✓": "unicode names are fine"}
	if got := uattrs(t, alice, "alice"); !maps.Equal(got, want) {
		t.Fatalf("after the failures the attributes are %v, want only the two good ones", got)
	}
}

func TestUserAttr_AtMost100PerAccount(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	alice := env.LoginUser(t, 0, "alice")
	for i := 0; i < handlers.MaxUserAttrs; i++ {
		alice.SetAttr("k"+strconv.Itoa(i), "v")
	}
	alice.SetAttr("one-too-many", "v")
	alice.Wait(t, protocol.EvError, func(e protocol.Event) bool { return e.Name == protocol.OpSetAttr }, testenv.Code(protocol.LargeParam))
	// Changing or deleting one of them still works, and frees a place.
	alice.SetAttr("k0", "changed")
	alice.SetAttr("k1", "")
	alice.SetAttr("one-more", "fits")
	got := uattrs(t, alice, "alice")
	if len(got) != handlers.MaxUserAttrs || got["k0"] != "changed" || got["one-more"] != "fits" {
		t.Fatalf("%d attributes, k0=%q, one-more=%q", len(got), got["k0"], got["one-more"])
	}
	if n := alice.Count(protocol.EvError); n != 1 {
		t.Fatalf("%d onError, want only the one for the 101st attribute", n)
	}
}

// offlineAfterDrop cuts u's connection (through proxy, which then refuses the
// client's reconnection) and returns how long the account stays online:
// until its presence feed says it left.
func offlineAfterDrop(t *testing.T, env *testenv.Env, proxy *testenv.Proxy, account string, within time.Duration) time.Duration {
	t.Helper()
	nc, err := nats.Connect("", nats.InProcessServer(env.NATS))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	left := make(chan struct{}, 1)
	sub, err := nc.Subscribe(subjects.Online(testenv.App.ID, account), func(m *nats.Msg) {
		if ev, err := testenv.Decode(m.Data); err == nil && ev.Ev == protocol.EvChannelUserLeaved {
			left <- struct{}{}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	proxy.Refuse(true)
	start := time.Now()
	proxy.Drop()
	select {
	case <-left:
		return time.Since(start)
	case <-time.After(within):
		t.Fatalf("%s still online %v after its connection dropped", account, within)
		return 0
	}
}

func TestConnTimeout_SetAttrAppliesToTheCurrentSession(t *testing.T) {
	t.Parallel()
	// The default stays 120 s: only the attribute can make it shorter.
	env := testenv.Start(t, testenv.Options{Edges: 2, Workers: 2})
	proxy := testenv.NewProxy(t, env.URL(0))
	alice := testenv.NewUser(t, "alice", proxy.URL())
	alice.Login(testenv.App.ID, "alice", "_no_need_token", 0, "")
	alice.Wait(t, protocol.EvLoginSuccess)
	alice.SetAttr(handlers.AttrConnTimeout, "20")
	if v := uattr(t, alice, "alice", handlers.AttrConnTimeout); v != "20" {
		t.Fatalf("_conn_timeout = %q", v)
	}
	gone := offlineAfterDrop(t, env, proxy, "alice", 60*time.Second)
	if gone < 19*time.Second {
		t.Fatalf("alice went offline %v after the drop, before her _conn_timeout of 20 s", gone)
	}
}

func TestConnTimeout_StoredAttrAppliesAtTheNextLogin(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.Options{Edges: 2, Workers: 2})
	first := env.LoginUser(t, 1, "alice")
	first.Invoke(handlers.InvokeUserSetAttr, `{"name":"_conn_timeout","value":"20"}`, "ct")
	if ret := first.Wait(t, protocol.EvInvokeRet, func(e protocol.Event) bool { return e.CallID == "ct" }); ret.Err != "" {
		t.Fatalf("invoke user_set_attr: %+v", ret)
	}
	first.Logout()
	first.Wait(t, protocol.EvLogout)

	proxy := testenv.NewProxy(t, env.URL(0))
	alice := testenv.NewUser(t, "alice", proxy.URL())
	alice.Login(testenv.App.ID, "alice", "_no_need_token", 0, "")
	alice.Wait(t, protocol.EvLoginSuccess)
	gone := offlineAfterDrop(t, env, proxy, "alice", 60*time.Second)
	if gone < 19*time.Second {
		t.Fatalf("alice went offline %v after the drop, before her _conn_timeout of 20 s", gone)
	}
}

// onError and onLog are general callbacks; they are tested here, beside the
// first operations (user attributes) whose failures have no callback of
// their own.

func TestOnError_CarriesTheGeneralCodes(t *testing.T) {
	env := testenv.Start(t, testenv.Options{Edges: 2, Workers: 2})
	// 1003: any request before login. The SDK answers it itself; a raw
	// client shows that the edge does too.
	raw := testenv.Dial(t, env.URL(0))
	raw.Send(protocol.Request{Op: protocol.OpGetAttr, Name: "x"})
	if ev := raw.Expect(protocol.EvError); ev.Ecode != protocol.NotLoggedIn || ev.Name != protocol.OpGetAttr {
		t.Fatalf("getAttr before login: %+v, want onError 1003", ev)
	}
	u := testenv.NewUser(t, "carol", env.URL(1))
	u.GetAttrAll()
	u.Wait(t, protocol.EvError, testenv.Code(protocol.NotLoggedIn))

	alice := env.LoginUser(t, 1, "alice")
	alice.GetAttr("bad name") // 1004
	alice.Wait(t, protocol.EvError, testenv.Code(protocol.WrongParam))
	alice.SetAttr("big", strings.Repeat("x", protocol.MaxUserAttrBytes+1)) // 1005
	alice.Wait(t, protocol.EvError, testenv.Code(protocol.LargeParam))
	alice.MessageDTMFSend(0, "1", "") // 1001: no SIP gateway
	alice.Wait(t, protocol.EvError, testenv.Code(protocol.GeneralFailed))
	// The session is unharmed.
	if v := uattr(t, alice, "alice", "big"); v != "" {
		t.Fatalf("a failed setAttr stored %d bytes", len(v))
	}
}

func TestOnLog_ReceivesTheSDKLinesWhenEnabled(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	quiet := testenv.NewUser(t, "quiet", env.URL(0))
	loud := testenv.NewUser(t, "loud", env.URL(0))
	loud.SetDoLog(true)
	quiet.Login(testenv.App.ID, "quiet", "_no_need_token", 0, "")
	loud.Login(testenv.App.ID, "loud", "_no_need_token", 0, "")
	line := loud.Wait(t, protocol.EvLog)
	if line.Desc == "" {
		t.Fatal("onLog with an empty line")
	}
	loud.Wait(t, protocol.EvLoginSuccess)
	// Lines come in order with the other callbacks: the connection's come
	// before onLoginSuccess, so by then quiet would have had one.
	quiet.Wait(t, protocol.EvLoginSuccess)
	if n := quiet.Count(protocol.EvLog); n != 0 {
		t.Fatalf("%d onLog with logging off", n)
	}
	// Turned off, the lines stop.
	loud.SetDoLog(false)
	n := loud.Count(protocol.EvLog)
	loud.Logout()
	loud.Wait(t, protocol.EvLogout)
	loud.Login(testenv.App.ID, "loud", "_no_need_token", 0, "")
	loud.Wait(t, protocol.EvLoginSuccess)
	if m := loud.Count(protocol.EvLog); m != n {
		t.Fatalf("%d more onLog after SetDoLog(false)", m-n)
	}
}
