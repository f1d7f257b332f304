package e2e_test

import (
	"context"
	"testing"

	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
)

// An edge whose lease lapsed (a busy machine delayed its renewal) is taken
// for dead, and a worker gives its sessions their _conn_timeout. The edge
// is alive: its next refresh takes the records back, and its users stay
// online with nothing lost. Before, every later refresh conflicted and the
// records expired under connected users (onLogout 102, close 4009).
func TestLeaseLapse_AnEdgeTakenForDeadKeepsItsSessions(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 0, "bob")
	store := env.Workers[0].Store
	ctx := context.Background()
	_, before, err := store.Session(ctx, testenv.App.ID, "alice")
	if err != nil {
		t.Fatal(err)
	}
	// What a worker does when it finds the edge's lease gone.
	n, err := store.OrphanSessions(ctx, env.Edges[0].Edge.ID())
	if err != nil || n != 2 {
		t.Fatalf("OrphanSessions = %d, %v; want 2 sessions", n, err)
	}
	_, orphaned, err := store.Session(ctx, testenv.App.ID, "alice")
	if err != nil || orphaned <= before {
		t.Fatalf("orphaning wrote nothing: revision %d, then %d (%v)", before, orphaned, err)
	}
	// The edge's next refresh (a third of the TTL) renews the record.
	eventually(t, func() (bool, string) {
		sess, rev, err := store.Session(ctx, testenv.App.ID, "alice")
		if err != nil {
			return false, err.Error()
		}
		return rev > orphaned && sess.Edge == env.Edges[0].Edge.ID(), "alice's record not renewed by her edge"
	})
	alice.MessageInstantSend("bob", 0, "still here", "m1")
	bob.Wait(t, protocol.EvMessageInstantReceive, testenv.Msg("still here"))
	alice.Wait(t, protocol.EvMessageSendSuccess, testenv.MsgID("m1"))
	if alice.Count(protocol.EvLogout) != 0 || bob.Count(protocol.EvLogout) != 0 {
		t.Fatal("a user was logged out")
	}
}
