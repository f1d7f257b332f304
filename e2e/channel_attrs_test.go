package e2e_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/switchboard-io/switchboard/protocol"
)

// Channel attributes are written by members only, within a count and a
// total size (docs/channels.md).

func TestAttrs_OnlyMembersWrite(t *testing.T) {
	env := chanEnv(t)
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 1, "bob")
	chJoin(t, alice, "room")

	refused := func(what string, write func()) {
		t.Helper()
		write()
		if got := bob.Wait(t, protocol.EvError); got.Ecode != protocol.GeneralFailed || got.Name != what || got.Desc != "not a member of the channel" {
			t.Fatalf("%s by a non-member: %+v, want onError %d", what, got, protocol.GeneralFailed)
		}
	}
	refused("channelSetAttr", func() { bob.ChannelSetAttr("room", "_sendmsg_limit", "1") })
	refused("channelDelAttr", func() { bob.ChannelDelAttr("room", "topic") })
	refused("channelClearAttr", func() { bob.ChannelClearAttr("room") })

	// Once in, bob writes; after leaving, no more.
	chJoin(t, bob, "room")
	bob.ChannelSetAttr("room", "topic", "by bob")
	alice.Wait(t, protocol.EvChannelAttrUpdated, attr("topic", "by bob", "update"))
	bob.ChannelLeave("room")
	bob.Wait(t, protocol.EvChannelLeaved, func(e protocol.Event) bool { return e.ChannelID == "room" })
	refused("channelSetAttr", func() { bob.ChannelSetAttr("room", "topic", "after leaving") })
	// Alice's own write comes after bob's refused one, which changed nothing.
	alice.ChannelSetAttr("room", "marker", "m")
	alice.Wait(t, protocol.EvChannelAttrUpdated, attr("marker", "m", "update"))
	for _, e := range chEvents(alice, "room", protocol.EvChannelAttrUpdated) {
		if e.Name == "_sendmsg_limit" || e.Value == "after leaving" || e.Type == protocol.AttrClear {
			t.Fatalf("a non-member's write reached the channel: %+v", e)
		}
	}
}

func TestAttrs_CountAndBytesAreBounded(t *testing.T) {
	env := chanEnv(t)
	alice := env.LoginUser(t, 0, "alice")
	chJoin(t, alice, "room")
	per := protocol.MaxChanAttrsTotalBytes / protocol.MaxChanAttrs
	for i := 0; i < protocol.MaxChanAttrs; i++ {
		name := fmt.Sprintf("k%02d", i)
		value := strings.Repeat("v", per-len(name))
		alice.ChannelSetAttr("room", name, value)
		alice.Wait(t, protocol.EvChannelAttrUpdated, attr(name, value, "update"))
	}
	alice.ChannelSetAttr("room", "one-more", "v")
	if got := alice.Wait(t, protocol.EvError); got.Ecode != protocol.LargeParam || got.Name != protocol.OpChannelSetAttr {
		t.Fatalf("attribute %d: %+v, want onError 1005", protocol.MaxChanAttrs+1, got)
	}
	alice.ChannelSetAttr("room", "k00", strings.Repeat("v", per))
	if got := alice.Wait(t, protocol.EvError); got.Ecode != protocol.LargeParam {
		t.Fatalf("a value over the total: %+v, want onError 1005", got)
	}
	// Built-ins still go in, and a delete makes room again.
	alice.ChannelSetAttr("room", "_userNotification", "0")
	alice.Wait(t, protocol.EvChannelAttrUpdated, attr("_userNotification", "0", "update"))
	alice.ChannelDelAttr("room", "k00")
	alice.Wait(t, protocol.EvChannelAttrUpdated, func(e protocol.Event) bool { return e.Name == "k00" && e.Type == protocol.AttrDel })
	alice.ChannelSetAttr("room", "one-more", "v")
	alice.Wait(t, protocol.EvChannelAttrUpdated, attr("one-more", "v", "update"))

	// A newcomer gets them all in its join.
	bob := env.LoginUser(t, 1, "bob")
	chJoin(t, bob, "room")
	bob.Wait(t, protocol.EvChannelAttrUpdated, attr("one-more", "v", "update"))
	if got := len(chEvents(bob, "room", protocol.EvChannelAttrUpdated)); got != protocol.MaxChanAttrs+2 {
		t.Fatalf("bob joined to %d attributes, want %d", got, protocol.MaxChanAttrs+2)
	}
}
