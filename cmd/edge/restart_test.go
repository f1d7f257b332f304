package main

import (
	"slices"
	"syscall"
	"testing"

	"github.com/switchboard-io/switchboard/protocol"
)

// TestEmbeddedDefault_KilledThenRestartedShowsNoOneOnline: users online
// when the embedded default was killed (no clean stop at all) are offline
// and out of their channels as soon as it has started again on the same
// data directory, not a session TTL and a _conn_timeout later.
func TestEmbeddedDefault_KilledThenRestartedShowsNoOneOnline(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries")
	}
	t.Parallel()
	dir := t.TempDir()
	p, url := startEmbedded(t, dir)
	alice := devLogin(t, url, "alice")
	alice.Send(protocol.Request{Op: protocol.OpChannelJoin, ChannelID: "room"})
	alice.Expect(protocol.EvChannelJoined)
	p.signalGroup(t, syscall.SIGKILL)
	p.exit(t, stopWithin)

	_, url = startEmbedded(t, dir)
	bob := devLogin(t, url, "bob")
	bob.Send(protocol.Request{Op: protocol.OpQueryUserStatus, Account: "alice"})
	if ev := bob.Expect(protocol.EvQueryUserStatusResult); ev.Status != "0" {
		t.Errorf("alice after the restart: status %q, want 0 (offline)", ev.Status)
	}
	bob.Send(protocol.Request{Op: protocol.OpChannelJoin, ChannelID: "room"})
	list := bob.Expect(protocol.EvChannelUserList)
	if !slices.Equal(list.Accounts, []string{"bob"}) {
		t.Errorf("room after the restart: members %v, want [bob]", list.Accounts)
	}
}
