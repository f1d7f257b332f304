package main

import (
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
)

// stopWithin bounds how long a stop may take in these tests. It is shorter
// than an edge's 20 s drain, which the embedded default must not wait for,
// and long for anything else even on a busy machine.
const stopWithin = 15 * time.Second

// TestMakeRun_SaysItBuildsAndCtrlCExitsZero runs `make run` as a newcomer
// does and presses Ctrl-C (SIGINT to the whole process group, make and the
// server alike): the first line says that it is building, the server starts,
// and after Ctrl-C make exits 0 with no warning logged.
func TestMakeRun_SaysItBuildsAndCtrlCExitsZero(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make here")
	}
	t.Parallel()
	p := startProc(t, repoRoot(t), embeddedEnv(t.TempDir()), "make", "--no-print-directory", "run", "BIN="+t.TempDir())
	url := testenv.URLFrom(p.waitLine(t, "WebSocket URL:", 5*time.Minute))
	if first := p.firstLine(); !strings.Contains(first, "building") {
		t.Errorf("first line of make run = %q, want it to say that it is building", first)
	}
	devLogin(t, url, "alice")
	checkPrintedAPICall(t, p.waitLine(t, "try: curl", time.Minute))
	p.signalGroup(t, syscall.SIGINT)
	// make itself gets the SIGINT too and, once the server has exited,
	// ends by it as every make does (the shell says 130, silently). What
	// must not happen is a failure: make reports a recipe's non-zero exit
	// status as "make: *** [...] Error N" and exits 2.
	if code := p.exit(t, stopWithin); code != 0 && !p.endedBy(syscall.SIGINT) {
		t.Errorf("make run after Ctrl-C exited %d, want 0 (or make ended by the SIGINT):\n%s", code, p.output())
	}
	if p.has("make: ***") {
		t.Errorf("make reported a failure after Ctrl-C:\n%s", p.output())
	}
	if !p.has("shutting down") {
		t.Errorf("the server did not stop on Ctrl-C:\n%s", p.output())
	}
	if w := p.warnings(); len(w) > 0 {
		t.Errorf("a clean stop logged warnings:\n%s", strings.Join(w, "\n"))
	}
}

// checkPrintedAPICall makes the server API call that make run prints
// ("try: curl -H '…' -d '…' URL") and checks that it says alice is online.
func checkPrintedAPICall(t *testing.T, line string) {
	t.Helper()
	parts := strings.Split(line, "'")
	fields := strings.Fields(line)
	if len(parts) < 5 || len(fields) == 0 {
		t.Fatalf("printed API call %q", line)
	}
	req, err := http.NewRequest("POST", fields[len(fields)-1], strings.NewReader(parts[3]))
	if err != nil {
		t.Fatal(err)
	}
	name, value, _ := strings.Cut(parts[1], ": ")
	req.Header.Set(name, value)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if want := `{"accounts":[{"account":"alice","online":true}]}` + "\n"; resp.StatusCode != 200 || string(body) != want {
		t.Fatalf("the printed API call answered %d %s, want 200 %s", resp.StatusCode, body, want)
	}
}

// TestEmbeddedDefault_StopsAtOnceAndTellsItsClients: the embedded default
// has no other edge to send clients to, so SIGTERM with two clients online,
// both in a channel, closes their connections with 1001 (going away)
// without first asking them to move, says so, and the process exits 0 at
// once, logging no warning.
func TestEmbeddedDefault_StopsAtOnceAndTellsItsClients(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries")
	}
	t.Parallel()
	p, url := startEmbedded(t, t.TempDir())
	var clients []*testenv.Raw
	for _, who := range []string{"alice", "bob"} {
		c := devLogin(t, url, who)
		c.Send(protocol.Request{Op: protocol.OpChannelJoin, ChannelID: "room"})
		c.Expect(protocol.EvChannelJoined)
		clients = append(clients, c)
	}
	p.signalGroup(t, syscall.SIGTERM)
	for _, c := range clients {
		code, events := closeCode(t, c, stopWithin)
		if code != websocket.CloseGoingAway {
			t.Errorf("close code on stop = %d, want %d (going away)", code, websocket.CloseGoingAway)
		}
		for _, ev := range events {
			if ev == protocol.EvMove {
				t.Errorf("a client was asked to move, but the embedded default has no other edge (events before the close: %v)", events)
			}
		}
	}
	if c := p.exit(t, stopWithin); c != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0:\n%s", c, p.output())
	}
	if !p.has("stopping: closing 2 clients") {
		t.Errorf("the stop did not say what it does with its client:\n%s", p.output())
	}
	if w := p.warnings(); len(w) > 0 {
		t.Errorf("a clean stop logged warnings:\n%s", strings.Join(w, "\n"))
	}
}

// TestEdge_TakenAddressFailsAtOnce: with SB_LISTEN taken, the process prints
// the bind error and exits non-zero, rather than hang.
func TestEdge_TakenAddressFailsAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries")
	}
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	env := append(embeddedEnv(t.TempDir()), "SB_LISTEN="+l.Addr().String())
	p := startProc(t, "", env, testenv.Binary(t, "edge"))
	if code := p.exit(t, time.Minute); code == 0 {
		t.Errorf("exit code with %s taken = 0, want non-zero", l.Addr())
	}
	if !p.has("address already in use") || !p.has(l.Addr().String()) {
		t.Errorf("output does not give the bind error for %s:\n%s", l.Addr(), p.output())
	}
}
