// Package fault_test kills parts of a running Switchboard (3 NATS servers,
// 2 edges, 2 workers, all real processes) under the load of 100 or more SDK
// clients, and checks what the users see. It runs with SB_FAULT=1 (make
// fault; CI runs it).
package fault_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
)

const (
	fleetSize   = 100
	connTimeout = 20 * time.Second // SB_CONN_TIMEOUT in startCluster
)

func needFault(t *testing.T) {
	if os.Getenv("SB_FAULT") == "" {
		t.Skip("the fault suite runs with SB_FAULT=1 (make fault)")
	}
}

// observerOn returns a fleet client whose home is edge i.
func (f *fleet) observerOn(i int) *client {
	for _, c := range f.clients {
		if c.home == i {
			return c
		}
	}
	f.t.Fatalf("no client on edge %d", i)
	return nil
}

// noLeaves fails the test if any observer saw one of accounts leave the
// lobby or log out.
func noLeaves(t *testing.T, observers []*client, accounts map[string]bool) int {
	t.Helper()
	seen := 0
	for _, o := range observers {
		for _, e := range o.Events() {
			if e.Ev == protocol.EvChannelUserLeaved && e.ChannelID == lobby && accounts[e.Account] {
				seen++
				t.Errorf("%s saw %s leave the lobby", o.Account, e.Account)
			}
		}
	}
	return seen
}

func TestFault_KillEdge(t *testing.T) {
	needFault(t)
	c := startCluster(t, 2, 2)
	f := newFleet(t, c, fleetSize)

	// A few users on edge 0 whose network will not let them back.
	proxy := testenv.NewProxy(t, c.urls[0])
	var gone []*client
	for i := 0; i < 4; i++ {
		gone = append(gone, f.add(t, fmt.Sprintf("gone%d", i), 0, proxy.URL()))
	}
	for _, g := range gone {
		g.Wait(t, protocol.EvLoginSuccess)
		g.ChannelJoin(lobby)
		g.Wait(t, protocol.EvChannelJoined, testenv.Channel(lobby))
	}
	observer := f.observerOn(1)
	returning := map[string]bool{}
	var moved []*client
	for _, cl := range f.clients {
		if cl.home == 0 && cl.User.Account[:4] != "gone" {
			returning[cl.Account] = true
			moved = append(moved, cl)
		}
	}

	f.traffic(200 * time.Millisecond)
	time.Sleep(2 * time.Second) // load before the fault
	proxy.Refuse(true)
	killed := time.Now()
	c.edges[0].Kill()
	proxy.Drop()

	var worst time.Duration
	for _, cl := range moved {
		_, at := cl.WaitTimed(t, 15*time.Second, protocol.EvReconnected)
		worst = max(worst, at.Sub(killed))
	}
	if worst > 5*time.Second {
		t.Errorf("the slowest client was back %v after the kill, want within 5 s", worst)
	}
	time.Sleep(2 * time.Second) // load after the fault
	f.stopTraffic()
	f.settle(20 * time.Second)
	tl := f.tally()

	var slowestLeave time.Duration
	for _, g := range gone {
		_, at := observer.WaitTimed(t, connTimeout+10*time.Second-time.Since(killed), protocol.EvChannelUserLeaved,
			testenv.Channel(lobby), testenv.Account(g.Account))
		slowestLeave = max(slowestLeave, at.Sub(killed))
	}
	if slowestLeave > connTimeout+5*time.Second {
		t.Errorf("users that did not come back were seen to leave %v after the kill, want within %v", slowestLeave, connTimeout+5*time.Second)
	}
	noLeaves(t, f.clients, returning)
	report(t, "%d clients moved to the other edge, slowest back after %v; %d that did not come back were seen leaving within %v; %s",
		len(moved), worst.Round(time.Millisecond), len(gone), slowestLeave.Round(time.Millisecond), tl)
}

func TestFault_KillWorker(t *testing.T) {
	needFault(t)
	c := startCluster(t, 2, 2)
	f := newFleet(t, c, fleetSize)

	// Requests that need a worker, from every client, while a worker dies.
	issued := make([]int, len(f.clients))
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for round := 0; ; round++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			for i, cl := range f.clients {
				if (i+round)%5 == 0 {
					cl.QueryUserStatus(f.clients[(i+1)%len(f.clients)].Account)
					issued[i]++
				}
			}
		}
	}()
	// Invitations under way when the worker dies: nobody answers them, so
	// each must end by itself with a failure at its caller.
	var callers []*client
	for i := 0; i+1 < 20; i += 2 {
		caller, callee := f.clients[i], f.clients[i+1]
		caller.ChannelInviteUser2(fmt.Sprintf("call%d", i), callee.Account, `{"_require_peer_online":1}`)
		callers = append(callers, caller)
	}
	f.traffic(200 * time.Millisecond)
	time.Sleep(time.Second) // load before the fault
	c.workers[0].Kill()
	time.Sleep(3 * time.Second) // load after the fault
	close(stop)
	<-done
	f.stopTraffic()

	answered, total := 0, 0
	for i, cl := range f.clients {
		for n := 0; n < issued[i]; n++ {
			cl.WaitFor(t, 15*time.Second, "", func(e protocol.Event) bool {
				return e.Ev == protocol.EvQueryUserStatusResult || e.Ev == protocol.EvError && e.Name == protocol.OpQueryUserStatus
			})
			answered++
		}
		total += issued[i]
	}
	ended := 0
	for _, caller := range callers {
		caller.WaitFor(t, 30*time.Second, protocol.EvInviteFailed)
		ended++
	}
	f.settle(20 * time.Second)
	tl := f.tally()
	report(t, "%d of %d requests answered; %d of %d invitations ended by themselves; %s", answered, total, ended, len(callers), tl)
}

func TestFault_KillNATSServer(t *testing.T) {
	needFault(t)
	c := startCluster(t, 2, 2)
	f := newFleet(t, c, fleetSize)
	for _, cl := range f.clients {
		cl.SetAttr("home", fmt.Sprint(cl.home))
	}
	for _, cl := range f.clients {
		cl.GetAttr("home")
		cl.Wait(t, protocol.EvUserAttrResult)
	}
	f.traffic(200 * time.Millisecond)
	time.Sleep(time.Second) // load before the fault
	c.nats[1].proc.Kill()
	time.Sleep(3 * time.Second) // load after the fault

	// No KV data is lost: every attribute written before is read back.
	for _, cl := range f.clients {
		cl.GetAttr("home")
		e := cl.WaitFor(t, 20*time.Second, protocol.EvUserAttrResult)
		if e.Value != fmt.Sprint(cl.home) {
			t.Errorf("%s's attribute after the NATS server died = %q, want %q", cl.Account, e.Value, fmt.Sprint(cl.home))
		}
	}
	f.stopTraffic()
	f.settle(20 * time.Second)
	tl := f.tally()

	c.restartNATS(1)
	routes := waitRoutes(t, c.nats[1], 2, 30*time.Second)
	report(t, "killed NATS server %s rejoined with %d routes; %d attributes read back intact; %s",
		c.nats[1].name, routes, len(f.clients), tl)
}

// waitRoutes waits until a NATS server reports n routes.
func waitRoutes(t *testing.T, n *natsNode, want int, d time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/routez", n.monitor))
		if err == nil {
			var rz struct {
				NumRoutes int `json:"num_routes"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&rz)
			resp.Body.Close()
			if rz.NumRoutes >= want {
				return rz.NumRoutes
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has not rejoined the cluster within %v", n.name, d)
		}
		time.Sleep(200 * time.Millisecond) // polling the monitoring endpoint
	}
}

func TestFault_SIGTERMEdge(t *testing.T) {
	needFault(t)
	c := startCluster(t, 2, 2)
	f := newFleet(t, c, fleetSize)
	moving := map[string]bool{}
	var moved []*client
	for _, cl := range f.clients {
		if cl.home == 0 {
			moving[cl.Account] = true
			moved = append(moved, cl)
		}
	}
	f.traffic(200 * time.Millisecond)
	time.Sleep(time.Second) // load before the drain
	start := time.Now()
	if err := c.edges[0].Terminate(60 * time.Second); err != nil {
		t.Fatalf("edge did not drain and exit cleanly: %v", err)
	}
	drained := time.Since(start)
	var worst time.Duration
	for _, cl := range moved {
		_, at := cl.WaitTimed(t, 15*time.Second, protocol.EvReconnected)
		worst = max(worst, at.Sub(start))
	}
	time.Sleep(time.Second) // load after the drain
	f.stopTraffic()
	f.settle(20 * time.Second)
	tl := f.tally()
	noLeaves(t, f.clients, moving)
	for _, cl := range moved {
		if n := cl.Count(protocol.EvLogout); n != 0 {
			t.Errorf("%s was logged out by the drain", cl.Account)
		}
	}
	report(t, "edge drained in %v; %d clients moved, slowest after %v; %s", drained.Round(time.Millisecond), len(moved), worst.Round(time.Millisecond), tl)
	// A clean drain passes every answer on: a message reported failed
	// was not delivered, or its sender would send it again.
	if tl.failedDelivered > 0 {
		t.Errorf("%d peer messages were reported failed to their senders and delivered all the same", tl.failedDelivered)
	}
}
