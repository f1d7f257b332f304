package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-io/switchboard/handlers"
	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
)

// Channel tests run on two edges and two workers on one NATS, with members
// on both edges, unless a test says otherwise.

func chanEnv(t *testing.T) *testenv.Env {
	t.Helper()
	return testenv.Start(t, testenv.Options{Edges: 2, Workers: 2})
}

// chJoin joins u to ch and returns its onChannelUserList, after
// onChannelJoined.
func chJoin(t *testing.T, u *testenv.User, ch string) protocol.Event {
	t.Helper()
	u.ChannelJoin(ch)
	u.Wait(t, protocol.EvChannelJoined, testenv.Channel(ch))
	return u.Wait(t, protocol.EvChannelUserList, testenv.Channel(ch))
}

// chEvents returns what u was told about ch since its last onChannelJoined:
// the events of the kinds given, in order.
func chEvents(u *testenv.User, ch string, kinds ...string) []protocol.Event {
	var out []protocol.Event
	for _, e := range u.Events() {
		if e.ChannelID != ch {
			continue
		}
		if e.Ev == protocol.EvChannelJoined {
			out = out[:0]
		}
		if slices.Contains(kinds, e.Ev) {
			out = append(out, e)
		}
	}
	return out
}

// chView replays what u was told about ch's members: its user list, then
// each join and leave after it. A join of a member or a leave of a
// non-member is an error: the view must be exact, not merely end right.
func chView(u *testenv.User, ch string) (map[string]bool, error) {
	var view map[string]bool
	for _, e := range chEvents(u, ch, protocol.EvChannelUserList, protocol.EvChannelUserJoined, protocol.EvChannelUserLeaved) {
		switch e.Ev {
		case protocol.EvChannelUserList:
			view = map[string]bool{}
			for _, a := range e.Accounts {
				view[a] = true
			}
			if e.N != len(e.Accounts) {
				return nil, fmt.Errorf("user list of %d names says n=%d", len(e.Accounts), e.N)
			}
		case protocol.EvChannelUserJoined:
			if view == nil || view[e.Account] {
				return nil, fmt.Errorf("told %s joined while in the view", e.Account)
			}
			view[e.Account] = true
		case protocol.EvChannelUserLeaved:
			if !view[e.Account] {
				return nil, fmt.Errorf("told %s left while not in the view", e.Account)
			}
			delete(view, e.Account)
		}
	}
	return view, nil
}

// eventually polls cond until it holds, failing the test with what cond
// last said after testenv.WaitTimeout.
func eventually(t *testing.T, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(testenv.WaitTimeout)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", testenv.WaitTimeout, why)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func setOf(accounts ...string) map[string]bool {
	m := map[string]bool{}
	for _, a := range accounts {
		m[a] = true
	}
	return m
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func attr(name, value, typ string) func(protocol.Event) bool {
	return func(e protocol.Event) bool { return e.Name == name && e.Value == value && e.Type == typ }
}

func TestJoin_JoinerGetsListThenAttrsAndOthersSeeTheJoin(t *testing.T) {
	env := chanEnv(t)
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 1, "bob")
	carol := env.LoginUser(t, 0, "carol")

	list := chJoin(t, alice, "room")
	if list.N != 1 || !slices.Equal(list.Accounts, []string{"alice"}) {
		t.Fatalf("alice's user list = %+v", list)
	}
	alice.Wait(t, protocol.EvChannelAttrUpdated, testenv.Channel("room"), attr("_member_num", "1", "update"))
	alice.ChannelSetAttr("room", "topic", "go")
	alice.Wait(t, protocol.EvChannelAttrUpdated, testenv.Channel("room"), attr("topic", "go", "update"))

	chJoin(t, bob, "room")
	bob.Wait(t, protocol.EvChannelAttrUpdated, testenv.Channel("room"), attr("topic", "go", "update"))
	got := chEvents(bob, "room", protocol.EvChannelJoined, protocol.EvChannelUserList, protocol.EvChannelAttrUpdated)
	want := []string{
		"onChannelJoined ",
		"onChannelUserList alice,bob",
		"onChannelAttrUpdated _member_num=2",
		"onChannelAttrUpdated topic=go",
	}
	var seen []string
	for _, e := range got {
		switch e.Ev {
		case protocol.EvChannelUserList:
			seen = append(seen, fmt.Sprintf("%s %s", e.Ev, joinNames(e.Accounts)))
		case protocol.EvChannelAttrUpdated:
			seen = append(seen, fmt.Sprintf("%s %s=%s", e.Ev, e.Name, e.Value))
		default:
			seen = append(seen, e.Ev+" ")
		}
	}
	if !slices.Equal(seen, want) {
		t.Fatalf("bob's join, in order:\n got %q\nwant %q", seen, want)
	}
	alice.Wait(t, protocol.EvChannelUserJoined, testenv.Channel("room"), testenv.Account("bob"))

	// carol's join reaches both; by then bob would have had his own.
	chJoin(t, carol, "room")
	alice.Wait(t, protocol.EvChannelUserJoined, testenv.Channel("room"), testenv.Account("carol"))
	bob.Wait(t, protocol.EvChannelUserJoined, testenv.Channel("room"), testenv.Account("carol"))
	if n := bob.Count(protocol.EvChannelUserJoined, testenv.Account("bob")); n != 0 {
		t.Fatalf("bob was told of his own join %d times", n)
	}
	for _, u := range []*testenv.User{alice, bob, carol} {
		if v, err := chView(u, "room"); err != nil || !mapsEqual(v, setOf("alice", "bob", "carol")) {
			t.Fatalf("%s's view of room = %v (%v)", u.Account, sortedKeys(v), err)
		}
	}
}

func joinNames(a []string) string {
	s := ""
	for i, x := range a {
		if i > 0 {
			s += ","
		}
		s += x
	}
	return s
}

func mapsEqual(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func TestMessageChannelSend_ReachesEveryOtherMemberOnEveryEdge(t *testing.T) {
	env := chanEnv(t)
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 1, "bob")
	carol := env.LoginUser(t, 0, "carol")
	for _, u := range []*testenv.User{alice, bob, carol} {
		chJoin(t, u, "room")
	}
	alice.MessageChannelSend("room", "hello room", "m1")
	alice.Wait(t, protocol.EvMessageSendSuccess, testenv.MsgID("m1"))
	for _, u := range []*testenv.User{bob, carol} {
		got := u.Wait(t, protocol.EvMessageChannelReceive, testenv.Channel("room"), testenv.Msg("hello room"))
		if got.Account != "alice" {
			t.Fatalf("%s got the message from %q", u.Account, got.Account)
		}
	}
	// bob's reply reaches alice after hers would have: no echo.
	bob.MessageChannelSend("room", "hi alice", "m2")
	alice.Wait(t, protocol.EvMessageChannelReceive, testenv.Msg("hi alice"), testenv.Account("bob"))
	if n := alice.Count(protocol.EvMessageChannelReceive, testenv.Msg("hello room")); n != 0 {
		t.Fatalf("alice got her own message back %d times", n)
	}
	// An empty msgID is replaced, as for peer messages.
	carol.MessageChannelSend("room", "no id", "")
	if id := carol.Wait(t, protocol.EvMessageSendSuccess).MessageID; id == "" {
		t.Fatal("empty message ID in onMessageSendSuccess")
	}
}

func TestMessageChannelSend_InOrder(t *testing.T) {
	env := chanEnv(t)
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 1, "bob")
	chJoin(t, alice, "room")
	chJoin(t, bob, "room")
	const n = 50
	for i := 0; i < n; i++ {
		alice.MessageChannelSend("room", strconv.Itoa(i), "o"+strconv.Itoa(i))
	}
	bob.Wait(t, protocol.EvMessageChannelReceive, testenv.Msg(strconv.Itoa(n-1)))
	var got []string
	for _, e := range chEvents(bob, "room", protocol.EvMessageChannelReceive) {
		got = append(got, e.Msg)
	}
	for i, m := range got {
		if m != strconv.Itoa(i) {
			t.Fatalf("message %d arrived as %q (all: %v)", i, m, got)
		}
	}
	if len(got) != n {
		t.Fatalf("bob got %d messages, want %d", len(got), n)
	}
}

func TestMessageChannelSend_WithoutJoiningFails_ForceSucceeds(t *testing.T) {
	env := chanEnv(t)
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 1, "bob")
	outsider := env.LoginUser(t, 1, "outsider")
	chJoin(t, alice, "room")
	chJoin(t, bob, "room")

	outsider.MessageChannelSend("room", "let me in", "n1")
	outsider.Wait(t, protocol.EvMessageSendError, testenv.MsgID("n1"), testenv.Code(protocol.SendMessageOther))
	outsider.MessageChannelSendForce("room", "forced", "f1")
	outsider.Wait(t, protocol.EvMessageSendSuccess, testenv.MsgID("f1"))
	for _, u := range []*testenv.User{alice, bob} {
		got := u.Wait(t, protocol.EvMessageChannelReceive, testenv.Msg("forced"))
		if got.Account != "outsider" || got.ChannelID != "room" {
			t.Fatalf("%s got %+v", u.Account, got)
		}
	}
	if n := alice.Count(protocol.EvMessageChannelReceive, testenv.Msg("let me in")); n != 0 {
		t.Fatal("a refused message was delivered")
	}
	// The outsider is still not a member.
	outsider.ChannelQueryUserIsIn("room", "outsider")
	if got := outsider.Wait(t, protocol.EvChannelQueryUserIsIn); got.IsIn != 0 {
		t.Fatalf("force send made the sender a member: %+v", got)
	}
}

func TestLeave_TellsTheOthersAndStopsDelivery(t *testing.T) {
	env := chanEnv(t)
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 1, "bob")
	chJoin(t, alice, "room")
	chJoin(t, bob, "room")
	if n := env.Edges[1].Edge.Stats().Channels; n != 1 {
		t.Fatalf("edge 1 follows %d channels, want 1", n)
	}
	bob.ChannelLeave("room")
	bob.Wait(t, protocol.EvChannelLeaved, testenv.Channel("room"), testenv.Code(protocol.LeaveChannelByUser))
	alice.Wait(t, protocol.EvChannelUserLeaved, testenv.Channel("room"), testenv.Account("bob"))
	// bob's edge has no member left there, and follows the channel no more.
	if n := env.Edges[1].Edge.Stats().Channels; n != 0 {
		t.Fatalf("edge 1 still follows %d channels after its last member left", n)
	}
	alice.ChannelQueryUserNum("room")
	if got := alice.Wait(t, protocol.EvChannelQueryUserNumResult); got.Num != 1 || got.Ecode != 0 {
		t.Fatalf("members after bob left: %+v", got)
	}
	// Leaving again, or a channel never joined, is harmless.
	bob.ChannelLeave("room")
	bob.Wait(t, protocol.EvChannelLeaved, testenv.Channel("room"), testenv.Code(protocol.LeaveChannelByUser))
	bob.ChannelLeave("elsewhere")
	bob.Wait(t, protocol.EvChannelLeaved, testenv.Channel("elsewhere"), testenv.Code(protocol.LeaveChannelByUser))
	alice.MessageChannelSend("room", "after", "a1")
	alice.Wait(t, protocol.EvMessageSendSuccess, testenv.MsgID("a1"))
	alice.ChannelSetAttr("room", "k", "v")
	alice.Wait(t, protocol.EvChannelAttrUpdated, attr("k", "v", "update"))
	if n := alice.Count(protocol.EvChannelUserLeaved, testenv.Account("bob")); n != 1 {
		t.Fatalf("alice was told %d times that bob left", n)
	}
}

func TestJoin_TwiceIsHarmless(t *testing.T) {
	env := chanEnv(t)
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 1, "bob")
	chJoin(t, bob, "room")
	chJoin(t, alice, "room")
	bob.Wait(t, protocol.EvChannelUserJoined, testenv.Account("alice"))
	// The second join answers again, from a fresh snapshot, and tells no one.
	list := chJoin(t, alice, "room")
	if list.N != 2 || !mapsEqual(setOf(list.Accounts...), setOf("alice", "bob")) {
		t.Fatalf("second join's user list = %+v", list)
	}
	alice.Wait(t, protocol.EvChannelAttrUpdated, attr("_member_num", "2", "update"))
	bob.ChannelSetAttr("room", "after", "join")
	bob.Wait(t, protocol.EvChannelAttrUpdated, attr("after", "join", "update"))
	alice.Wait(t, protocol.EvChannelAttrUpdated, attr("after", "join", "update"))
	if n := bob.Count(protocol.EvChannelUserJoined, testenv.Account("alice")); n != 1 {
		t.Fatalf("bob was told %d times that alice joined", n)
	}
	// One leave takes her out.
	alice.ChannelLeave("room")
	alice.Wait(t, protocol.EvChannelLeaved, testenv.Channel("room"))
	bob.Wait(t, protocol.EvChannelUserLeaved, testenv.Account("alice"))
	bob.ChannelQueryUserIsIn("room", "alice")
	if got := bob.Wait(t, protocol.EvChannelQueryUserIsIn); got.IsIn != 0 {
		t.Fatalf("alice still in after one leave: %+v", got)
	}
}

func TestQuery_UserNumAndIsInForAnyChannel(t *testing.T) {
	env := chanEnv(t)
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 1, "bob")
	outsider := env.LoginUser(t, 1, "outsider")
	chJoin(t, alice, "room")
	chJoin(t, bob, "room")

	outsider.ChannelQueryUserNum("room")
	if got := outsider.Wait(t, protocol.EvChannelQueryUserNumResult, testenv.Channel("room")); got.Num != 2 || got.Ecode != 0 {
		t.Fatalf("user num of room = %+v", got)
	}
	outsider.ChannelQueryUserNum("nowhere")
	if got := outsider.Wait(t, protocol.EvChannelQueryUserNumResult, testenv.Channel("nowhere")); got.Num != 0 || got.Ecode != 0 {
		t.Fatalf("user num of an unknown channel = %+v", got)
	}
	for _, q := range []struct {
		ch, account string
		want        int
	}{{"room", "alice", 1}, {"room", "bob", 1}, {"room", "outsider", 0}, {"nowhere", "alice", 0}} {
		outsider.ChannelQueryUserIsIn(q.ch, q.account)
		got := outsider.Wait(t, protocol.EvChannelQueryUserIsIn, testenv.Channel(q.ch), testenv.Account(q.account))
		if got.IsIn != q.want {
			t.Fatalf("is %s in %s: %d, want %d", q.account, q.ch, got.IsIn, q.want)
		}
	}
}

func TestAttrs_SetDelClearReachEveryMember(t *testing.T) {
	env := chanEnv(t)
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 1, "bob")
	chJoin(t, alice, "room")
	chJoin(t, bob, "room")
	both := []*testenv.User{alice, bob}

	bob.ChannelSetAttr("room", "a", "1")
	for _, u := range both {
		u.Wait(t, protocol.EvChannelAttrUpdated, testenv.Channel("room"), attr("a", "1", "update"))
	}
	alice.ChannelSetAttr("room", "a", "2")
	alice.ChannelSetAttr("room", "b", "x")
	alice.ChannelDelAttr("room", "a")
	for _, u := range both {
		u.Wait(t, protocol.EvChannelAttrUpdated, attr("a", "2", "update"))
		u.Wait(t, protocol.EvChannelAttrUpdated, attr("b", "x", "update"))
		u.Wait(t, protocol.EvChannelAttrUpdated, attr("a", "", "del"))
	}
	bob.ChannelClearAttr("room")
	for _, u := range both {
		u.Wait(t, protocol.EvChannelAttrUpdated, testenv.Channel("room"), attr("", "", "clear"))
	}
	// A joiner after the clear gets only what the system keeps.
	carol := env.LoginUser(t, 1, "carol")
	chJoin(t, carol, "room")
	carol.Wait(t, protocol.EvChannelAttrUpdated, attr("_member_num", "3", "update"))
	carol.ChannelSetAttr("room", "c", "y")
	carol.Wait(t, protocol.EvChannelAttrUpdated, attr("c", "y", "update"))
	attrs := chEvents(carol, "room", protocol.EvChannelAttrUpdated)
	if len(attrs) != 2 {
		t.Fatalf("carol's attribute callbacks: %+v", attrs)
	}
	// A value of 8096 bytes is the most.
	longest := strings.Repeat("v", protocol.MaxChanAttrBytes)
	alice.ChannelSetAttr("room", "longest", longest)
	bob.Wait(t, protocol.EvChannelAttrUpdated, attr("longest", longest, "update"))
}

// jsonField returns field key of the JSON object s, as text.
func jsonField(s, key string) string {
	var m map[string]any
	if json.Unmarshal([]byte(s), &m) != nil {
		return ""
	}
	switch v := m[key].(type) {
	case string:
		return v
	case float64:
		return strconv.Itoa(int(v))
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

func TestAttrs_UserNotificationZeroSilencesJoinsAndLeaves(t *testing.T) {
	env := chanEnv(t)
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 1, "bob")
	chJoin(t, alice, "quiet")
	alice.ChannelSetAttr("quiet", "_userNotification", "0")
	alice.Wait(t, protocol.EvChannelAttrUpdated, attr("_userNotification", "0", "update"))
	chJoin(t, bob, "quiet")
	bob.ChannelLeave("quiet")
	bob.Wait(t, protocol.EvChannelLeaved, testenv.Channel("quiet"))
	// Anything bob's join and leave sent alice would arrive before this
	// (bob, no longer a member, joins again to write it).
	chJoin(t, bob, "quiet")
	bob.ChannelSetAttr("quiet", "done", "1")
	alice.Wait(t, protocol.EvChannelAttrUpdated, attr("done", "1", "update"))
	if n := len(chEvents(alice, "quiet", protocol.EvChannelUserJoined, protocol.EvChannelUserLeaved)); n != 0 {
		t.Fatalf("alice was told of %d joins and leaves with _userNotification 0", n)
	}
}

func TestLogout_LeavesEveryChannel603(t *testing.T) {
	env := chanEnv(t)
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 1, "bob")
	for _, ch := range []string{"one", "two", "three"} {
		chJoin(t, alice, ch)
	}
	chJoin(t, bob, "one")
	chJoin(t, bob, "three")
	// A message in a channel bob is not in does not reach him.
	alice.MessageChannelSend("two", "only two", "t1")
	alice.MessageChannelSend("one", "in one", "o1")
	bob.Wait(t, protocol.EvMessageChannelReceive, testenv.Msg("in one"))
	if n := bob.Count(protocol.EvMessageChannelReceive, testenv.Msg("only two")); n != 0 {
		t.Fatal("bob got a message of a channel he is not in")
	}

	alice.Logout()
	alice.Wait(t, protocol.EvLogout, testenv.Code(protocol.LogoutUser))
	var order []string
	for _, e := range alice.Events() {
		switch e.Ev {
		case protocol.EvChannelLeaved:
			if e.Ecode != protocol.LeaveChannelLogout {
				t.Fatalf("left %s with %d, want 603", e.ChannelID, e.Ecode)
			}
			order = append(order, e.ChannelID)
		case protocol.EvLogout:
			order = append(order, "logout")
		}
	}
	if !slices.Equal(order, []string{"one", "two", "three", "logout"}) {
		t.Fatalf("alice's leaves and logout, in order: %v", order)
	}
	bob.Wait(t, protocol.EvChannelUserLeaved, testenv.Channel("one"), testenv.Account("alice"))
	bob.Wait(t, protocol.EvChannelUserLeaved, testenv.Channel("three"), testenv.Account("alice"))
	bob.ChannelQueryUserNum("two")
	if got := bob.Wait(t, protocol.EvChannelQueryUserNumResult, testenv.Channel("two")); got.Num != 0 {
		t.Fatalf("two after alice logged out: %+v", got)
	}
}

func TestKick_LeavesTheOldSessionsChannels(t *testing.T) {
	env := chanEnv(t)
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 1, "bob")
	chJoin(t, alice, "room")
	chJoin(t, bob, "room")

	again := env.LoginUser(t, 1, "alice")
	alice.Wait(t, protocol.EvLogout, testenv.Code(protocol.LogoutKicked))
	leaved := alice.Wait(t, protocol.EvChannelLeaved, testenv.Channel("room"))
	if leaved.Ecode != protocol.LeaveChannelKicked {
		t.Fatalf("kicked session left with %d, want 601", leaved.Ecode)
	}
	var order []string
	for _, e := range alice.Events() {
		if e.Ev == protocol.EvChannelLeaved || e.Ev == protocol.EvLogout {
			order = append(order, e.Ev)
		}
	}
	if !slices.Equal(order, []string{protocol.EvChannelLeaved, protocol.EvLogout}) {
		t.Fatalf("kicked session's callbacks: %v", order)
	}
	bob.Wait(t, protocol.EvChannelUserLeaved, testenv.Channel("room"), testenv.Account("alice"))
	// The new session is in no channel until it joins.
	again.ChannelQueryUserIsIn("room", "alice")
	if got := again.Wait(t, protocol.EvChannelQueryUserIsIn); got.IsIn != 0 {
		t.Fatalf("the new session inherited the channel: %+v", got)
	}
	chJoin(t, again, "room")
	bob.Wait(t, protocol.EvChannelUserJoined, testenv.Account("alice"))
}

func TestDisconnect_PastConnTimeoutLeaves604(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.Options{
		Edges: 2, Workers: 2,
		Worker: func(c *handlers.Config) { c.ConnTimeout = 1 },
	})
	proxy := testenv.NewProxy(t, env.URL(0))
	alice := testenv.NewUser(t, "alice", proxy.URL())
	alice.Login(testenv.App.ID, "alice", "_no_need_token", 0, "")
	alice.Wait(t, protocol.EvLoginSuccess)
	bob := env.LoginUser(t, 1, "bob")
	watcher := env.LoginUser(t, 1, "watcher")
	chJoin(t, watcher, handlers.ChannelChannelEvent)
	chJoin(t, alice, "room")
	chJoin(t, bob, "room")

	proxy.Refuse(true)
	proxy.Drop()
	bob.Wait(t, protocol.EvChannelUserLeaved, testenv.Channel("room"), testenv.Account("alice"))
	leave := watcher.Wait(t, protocol.EvMessageChannelReceive, testenv.Account("alice"), func(e protocol.Event) bool {
		return jsonField(e.Msg, "event") == "leave"
	})
	if jsonField(leave.Msg, "ecode") != strconv.Itoa(protocol.LeaveChannelDisconn) {
		t.Fatalf("leave after a drop reported as %s, want ecode 604", leave.Msg)
	}
	bob.ChannelQueryUserIsIn("room", "alice")
	if got := bob.Wait(t, protocol.EvChannelQueryUserIsIn); got.IsIn != 0 {
		t.Fatalf("alice still in room after her conn timeout: %+v", got)
	}
	// Her SDK logs in again when it gets through, and joins room again.
	proxy.Refuse(false)
	alice.Wait(t, protocol.EvReconnected)
	bob.Wait(t, protocol.EvChannelUserJoined, testenv.Channel("room"), testenv.Account("alice"))
}

func TestAutoUpdateNum_PushesMemberNum(t *testing.T) {
	t.Parallel()
	env := chanEnv(t)
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 1, "bob")
	chJoin(t, alice, "counted")
	alice.ChannelSetAttr("counted", "_auto_update_num", "1")
	alice.Wait(t, protocol.EvChannelAttrUpdated, attr("_auto_update_num", "1", "update"))
	chJoin(t, bob, "counted")
	bob.Wait(t, protocol.EvChannelAttrUpdated, attr("_auto_update_num", "1", "update"))
	for _, u := range []*testenv.User{alice, bob} {
		u.WaitFor(t, 5*time.Second, protocol.EvChannelAttrUpdated, testenv.Channel("counted"), attr("_member_num", "2", "update"))
	}
	// Turning it off stops the pushes: after the del, at most one already
	// on its way arrives.
	alice.ChannelSetAttr("counted", "_auto_update_num", "0")
	bob.Wait(t, protocol.EvChannelAttrUpdated, attr("_auto_update_num", "0", "update"))
	off := bob.Count(protocol.EvChannelAttrUpdated, attr("_member_num", "2", "update"))
	alice.ChannelSetAttr("counted", "later", "x")
	bob.WaitFor(t, 5*time.Second, protocol.EvChannelAttrUpdated, attr("later", "x", "update"))
	if n := bob.Count(protocol.EvChannelAttrUpdated, attr("_member_num", "2", "update")); n > off+1 {
		t.Fatalf("_member_num still pushed after _auto_update_num 0: %d, then %d", off, n)
	}
}

func TestChannelTTL_EmptyChannelExpiresWithItsAttributes(t *testing.T) {
	t.Parallel()
	env := chanEnv(t)
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 1, "bob")
	store := env.Workers[0].Store
	ctx := context.Background()

	// Default _channel_ttl (2 hours): the attributes outlive the members.
	chJoin(t, alice, "lasting")
	alice.ChannelSetAttr("lasting", "topic", "stays")
	alice.Wait(t, protocol.EvChannelAttrUpdated, attr("topic", "stays", "update"))
	alice.ChannelLeave("lasting")
	alice.Wait(t, protocol.EvChannelLeaved, testenv.Channel("lasting"))
	chJoin(t, bob, "lasting")
	bob.Wait(t, protocol.EvChannelAttrUpdated, testenv.Channel("lasting"), attr("topic", "stays", "update"))

	chJoin(t, alice, "brief")
	alice.ChannelSetAttr("brief", "topic", "goes")
	alice.ChannelSetAttr("brief", "_channel_ttl", "2")
	alice.Wait(t, protocol.EvChannelAttrUpdated, attr("_channel_ttl", "2", "update"))
	alice.ChannelLeave("brief")
	alice.Wait(t, protocol.EvChannelLeaved, testenv.Channel("brief"))
	left := time.Now()
	if a, _, err := store.ChannelAttributes(ctx, testenv.App.ID, "brief"); err != nil || a.Attrs["topic"] != "goes" {
		t.Fatalf("attributes right after the last leave: %+v, %v", a, err)
	}
	eventually(t, func() (bool, string) {
		a, arev, err := store.ChannelAttributes(ctx, testenv.App.ID, "brief")
		_, mrev, merr := store.ChannelMembers(ctx, testenv.App.ID, "brief")
		return err == nil && merr == nil && arev == 0 && mrev == 0, fmt.Sprintf("attributes %+v (rev %d), member rev %d", a, arev, mrev)
	})
	if d := time.Since(left); d < time.Second {
		t.Fatalf("the channel went away %v after its last member, before its _channel_ttl", d)
	}
	chJoin(t, bob, "brief")
	bob.Wait(t, protocol.EvChannelAttrUpdated, testenv.Channel("brief"), attr("_member_num", "1", "update"))
	bob.ChannelSetAttr("brief", "marker", "m")
	bob.Wait(t, protocol.EvChannelAttrUpdated, attr("marker", "m", "update"))
	if got := chEvents(bob, "brief", protocol.EvChannelAttrUpdated); len(got) != 2 {
		t.Fatalf("the expired channel's attributes came back: %+v", got)
	}
}

func TestResume_ChannelFramesWaitForTheMemberAndNobodyNotices(t *testing.T) {
	env := chanEnv(t)
	proxy := testenv.NewProxy(t, env.URL(0))
	alice := testenv.NewUser(t, "alice", proxy.URL())
	alice.Login(testenv.App.ID, "alice", "_no_need_token", 0, "")
	alice.Wait(t, protocol.EvLoginSuccess)
	bob := env.LoginUser(t, 1, "bob")
	chJoin(t, alice, "room")
	chJoin(t, bob, "room")

	proxy.Refuse(true)
	proxy.Drop()
	alice.Wait(t, protocol.EvReconnecting)
	for i := 0; i < 5; i++ {
		bob.MessageChannelSend("room", "while away "+strconv.Itoa(i), "w"+strconv.Itoa(i))
	}
	bob.ChannelSetAttr("room", "topic", "missed")
	bob.Wait(t, protocol.EvChannelAttrUpdated, attr("topic", "missed", "update"))
	proxy.Refuse(false)
	alice.Wait(t, protocol.EvReconnected)
	alice.Wait(t, protocol.EvChannelAttrUpdated, attr("topic", "missed", "update"))
	var got []string
	for _, e := range chEvents(alice, "room", protocol.EvMessageChannelReceive) {
		got = append(got, e.Msg)
	}
	want := []string{"while away 0", "while away 1", "while away 2", "while away 3", "while away 4"}
	if !slices.Equal(got, want) {
		t.Fatalf("alice got %q after resuming, want %q", got, want)
	}
	// She never left: bob heard nothing, and she still sends and receives.
	alice.MessageChannelSend("room", "back", "b1")
	bob.Wait(t, protocol.EvMessageChannelReceive, testenv.Msg("back"))
	if n := len(chEvents(bob, "room", protocol.EvChannelUserLeaved, protocol.EvChannelUserJoined)); n != 0 {
		t.Fatalf("bob was told of %d joins and leaves during alice's reconnection", n)
	}
}
