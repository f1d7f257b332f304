package e2e_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
)

// TestConcurrency_JoinsAndLeavesAgreeExactly has 200 users on two edges join
// and leave one channel at the same time, through two workers. Afterwards
// the member list in KV, _member_num, and what every remaining member was
// told (its user list, then each join and leave) agree exactly. The channel
// never has more than 200 members, so that every user list is complete.
func TestConcurrency_JoinsAndLeavesAgreeExactly(t *testing.T) {
	t.Parallel()
	env := chanEnv(t)
	const ch = "crowd"
	group := func(name string, n int) []*testenv.User {
		us := make([]*testenv.User, n)
		for i := range us {
			account := name + strconv.Itoa(i)
			us[i] = testenv.NewUser(t, account, env.URL(i%2))
			us[i].Login(testenv.App.ID, account, "_no_need_token", 0, "")
		}
		return us
	}
	stayers := group("stay", 40)   // in before, still in after
	leavers := group("leave", 40)  // in before, leave during
	joiners := group("join", 60)   // join during, still in after
	flickers := group("flick", 60) // join and leave twice during
	all := slices.Concat(stayers, leavers, joiners, flickers)
	for _, u := range all {
		u.Wait(t, protocol.EvLoginSuccess)
	}
	for _, u := range slices.Concat(stayers, leavers) {
		u.ChannelJoin(ch)
	}
	for _, u := range slices.Concat(stayers, leavers) {
		u.Wait(t, protocol.EvChannelJoined, testenv.Channel(ch))
	}

	// All at once: every request is sent before any answer is awaited.
	for i := 0; i < 60; i++ {
		joiners[i].ChannelJoin(ch)
		f := flickers[i]
		f.ChannelJoin(ch)
		f.ChannelLeave(ch)
		f.ChannelJoin(ch)
		f.ChannelLeave(ch)
		if i < len(leavers) {
			leavers[i].ChannelLeave(ch)
		}
	}
	for _, u := range joiners {
		u.Wait(t, protocol.EvChannelJoined, testenv.Channel(ch))
	}
	for _, u := range leavers {
		u.Wait(t, protocol.EvChannelLeaved, testenv.Channel(ch))
	}
	for _, u := range flickers {
		u.Wait(t, protocol.EvChannelLeaved, testenv.Channel(ch))
		u.Wait(t, protocol.EvChannelLeaved, testenv.Channel(ch))
	}

	want := map[string]bool{}
	for _, u := range slices.Concat(stayers, joiners) {
		want[u.Account] = true
	}
	// The member list.
	members, _, err := env.Workers[0].Store.ChannelMembers(context.Background(), testenv.App.ID, ch)
	if err != nil {
		t.Fatal(err)
	}
	if len(members) != len(want) || !mapsEqual(setOf(members...), want) {
		t.Fatalf("member list has %d (%d distinct), want %d", len(members), len(setOf(members...)), len(want))
	}
	// _member_num and the count, as an outsider and a newcomer see them.
	observer := env.LoginUser(t, 1, "observer")
	observer.ChannelQueryUserNum(ch)
	if got := observer.Wait(t, protocol.EvChannelQueryUserNumResult); got.Num != len(want) {
		t.Fatalf("channelQueryUserNum = %d, want %d", got.Num, len(want))
	}
	list := chJoin(t, observer, ch)
	num := observer.Wait(t, protocol.EvChannelAttrUpdated, testenv.Channel(ch), func(e protocol.Event) bool { return e.Name == "_member_num" })
	want["observer"] = true
	if num.Value != strconv.Itoa(len(want)) || list.N != len(want) || !mapsEqual(setOf(list.Accounts...), want) {
		t.Fatalf("newcomer got _member_num %s and a list of %d, want %d", num.Value, list.N, len(want))
	}
	// Every remaining member's view, once the observer's join reached it.
	for _, u := range slices.Concat(stayers, joiners) {
		eventually(t, func() (bool, string) {
			v, err := chView(u, ch)
			if err != nil {
				return false, fmt.Sprintf("%s: %v", u.Account, err)
			}
			missing, extra := diff(want, v)
			return len(missing)+len(extra) == 0, fmt.Sprintf("%s's view lacks %v and has %v too", u.Account, missing, extra)
		})
	}
}

// diff returns what want has and got lacks, and what got has too many.
func diff(want, got map[string]bool) (missing, extra []string) {
	for k := range want {
		if !got[k] {
			missing = append(missing, k)
		}
	}
	for k := range got {
		if !want[k] {
			extra = append(extra, k)
		}
	}
	return missing, extra
}

// TestFanOut_OneSubscriptionPerChannelPerEdge: however many members an edge
// holds, it follows a channel with one NATS subscription, and stops when the
// last one leaves.
func TestFanOut_OneSubscriptionPerChannelPerEdge(t *testing.T) {
	env := chanEnv(t)
	var us []*testenv.User
	for i := 0; i < 20; i++ {
		u := env.LoginUser(t, 0, "m"+strconv.Itoa(i))
		chJoin(t, u, "big")
		us = append(us, u)
	}
	sender := env.LoginUser(t, 1, "sender")
	sender.MessageChannelSendForce("big", "to all", "all1")
	for _, u := range us {
		u.Wait(t, protocol.EvMessageChannelReceive, testenv.Msg("to all"))
	}
	if st := env.Edges[0].Edge.Stats(); st.Channels != 1 || st.Sessions != 20 {
		t.Fatalf("edge 0 stats = %+v, want 1 channel for 20 sessions", st)
	}
	if st := env.Edges[1].Edge.Stats(); st.Channels != 1 {
		t.Fatalf("edge 1 follows %d channels after a force send, want 1 for a while", st.Channels)
	}
	for _, u := range us {
		u.ChannelLeave("big")
		u.Wait(t, protocol.EvChannelLeaved)
	}
	if st := env.Edges[0].Edge.Stats(); st.Channels != 0 {
		t.Fatalf("edge 0 still follows %d channels", st.Channels)
	}
}

// attrView replays what u was told about ch's attributes since it joined,
// leaving out _member_num, which the system keeps.
func attrView(u *testenv.User, ch string) map[string]string {
	view := map[string]string{}
	for _, e := range chEvents(u, ch, protocol.EvChannelAttrUpdated) {
		switch {
		case e.Name == "_member_num":
		case e.Type == protocol.AttrUpdate:
			view[e.Name] = e.Value
		case e.Type == protocol.AttrDel:
			delete(view, e.Name)
		case e.Type == protocol.AttrClear:
			clear(view)
		}
	}
	return view
}

// TestConcurrency_AttributeWritesAgreeExactly: members on both edges set,
// delete and clear the same attributes at once, through two workers;
// afterwards every member's view of the attributes is the record's.
func TestConcurrency_AttributeWritesAgreeExactly(t *testing.T) {
	t.Parallel()
	env := chanEnv(t)
	const ch = "contested"
	var us []*testenv.User
	for i := 0; i < 20; i++ {
		u := env.LoginUser(t, i%2, "w"+strconv.Itoa(i))
		chJoin(t, u, ch)
		us = append(us, u)
	}
	for round := 0; round < 3; round++ {
		for i, u := range us {
			v := u.Account + "-" + strconv.Itoa(round)
			u.ChannelSetAttr(ch, "shared", v)
			u.ChannelSetAttr(ch, "own"+strconv.Itoa(i%5), v)
			if i%7 == round {
				u.ChannelClearAttr(ch)
			}
			if i%4 == round {
				u.ChannelDelAttr(ch, "own"+strconv.Itoa((i+1)%5))
			}
		}
	}
	// A user's requests are handled in order: the answer to a query after
	// its writes means they are done.
	for _, u := range us {
		u.ChannelQueryUserNum(ch)
	}
	for _, u := range us {
		u.Wait(t, protocol.EvChannelQueryUserNumResult)
	}
	rec, _, err := env.Workers[0].Store.ChannelAttributes(context.Background(), testenv.App.ID, ch)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range us {
		eventually(t, func() (bool, string) {
			view := attrView(u, ch)
			return fmt.Sprint(view) == fmt.Sprint(rec.Attrs), fmt.Sprintf("%s sees %v, the record holds %v", u.Account, view, rec.Attrs)
		})
	}
}
