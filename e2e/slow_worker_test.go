package e2e_test

import (
	"testing"
	"time"

	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
)

// TestSlowWorker_LoginJoinAndLeaveSucceedPastRequestTimeout: a worker that
// takes a login, a join or a leave up only after the edge's RequestTimeout
// and after the edge's next session refresh (a busy machine) makes the user
// wait, not fail: the edge waits for these up to MembershipTimeout, and
// refreshes only sessions a worker confirmed. They once failed with
// onLoginFailed(201) and onChannelJoinFailed(300) after RequestTimeout, and
// a login answered after a refresh was kicked by its own empty record.
func TestSlowWorker_LoginJoinAndLeaveSucceedPastRequestTimeout(t *testing.T) {
	t.Parallel()
	env := testenv.Start(t, testenv.Options{})
	ec := testenv.EdgeConfig()
	delay := max(ec.RequestTimeout, ec.SessionTTL/3) + time.Second
	testenv.SlowWorker(t, env, delay, protocol.OpLogin, protocol.OpChannelJoin, protocol.OpChannelLeave)

	u := testenv.NewUser(t, "patient", env.URL(0))
	u.Login(testenv.App.ID, "patient", "_no_need_token", 0, "")
	outcome(t, u, protocol.EvLoginSuccess, protocol.EvLoginFailed)
	u.ChannelJoin("queue")
	outcome(t, u, protocol.EvChannelJoined, protocol.EvChannelJoinFailed)
	u.ChannelLeave("queue")
	outcome(t, u, protocol.EvChannelLeaved, protocol.EvError)
}

// outcome waits for u's callback ok or failed, whichever comes first, and
// fails the test unless it is ok.
func outcome(t *testing.T, u *testenv.User, ok, failed string) {
	t.Helper()
	ev := u.Wait(t, "", func(e protocol.Event) bool { return e.Ev == ok || e.Ev == failed })
	if ev.Ev != ok {
		t.Fatalf("%s(%d) where %s was due: a slow worker made the request fail", ev.Ev, ev.Ecode, ok)
	}
}
