package e2e_test

import (
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
)

func TestProcesses_EdgeAndWorkerTalkOnlyThroughNATS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries")
	}
	t.Parallel()
	edgeBin, workerBin := testenv.Binary(t, "edge"), testenv.Binary(t, "worker")
	// NATS with a user and password, as on Kubernetes.
	ns, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoSigs: true,
		Username: "switchboard", Password: "s3cret-for-tests",
	})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server did not start")
	}
	t.Cleanup(ns.Shutdown)

	env := []string{
		"NATS_URL=" + ns.ClientURL(),
		"NATS_USER=switchboard",
		"NATS_PASSWORD=s3cret-for-tests",
		"SB_APP_ID=" + testenv.App.ID,
		"SB_APP_CERTIFICATE=" + testenv.App.Certificate,
		"SB_APP_ALLOW_NO_TOKEN=true",
		"SB_LISTEN=127.0.0.1:0",
	}
	testenv.StartProcess(t, "worker", workerBin, env).WaitLine(t, "worker running", 30*time.Second)
	url := testenv.URLFrom(testenv.StartProcess(t, "edge", edgeBin, env).WaitLine(t, "WebSocket URL:", 30*time.Second))

	alice := testenv.NewUser(t, "alice", url)
	alice.Login(testenv.App.ID, "alice", "_no_need_token", 0, "")
	alice.Wait(t, protocol.EvLoginSuccess)
	bob := testenv.NewUser(t, "bob", url)
	bob.Login(testenv.App.ID, "bob", "_no_need_token", 0, "")
	bob.Wait(t, protocol.EvLoginSuccess)
	alice.MessageInstantSend("bob", 0, "across processes", "p1")
	bob.Wait(t, protocol.EvMessageInstantReceive, testenv.Account("alice"), testenv.Msg("across processes"))
	alice.Wait(t, protocol.EvMessageSendSuccess, testenv.MsgID("p1"))
}

func TestProcesses_EmbeddedDefaultStartsAndStops(t *testing.T) {
	if testing.Short() {
		t.Skip("builds binaries")
	}
	t.Parallel()
	p := testenv.StartProcess(t, "edge", testenv.Binary(t, "edge"), []string{
		"NATS_URL=", "SB_APP_ID=", "SB_APPS_FILE=",
		"SB_LISTEN=127.0.0.1:0", "SB_DATA_DIR=" + t.TempDir(),
	})
	p.WaitLine(t, "switchboard-dev", 30*time.Second)
	url := testenv.URLFrom(p.WaitLine(t, "WebSocket URL:", 30*time.Second))
	u := testenv.NewUser(t, "dev", url)
	u.Login("switchboard-dev", "dev", "_no_need_token", 0, "")
	u.Wait(t, protocol.EvLoginSuccess)
	if err := p.Terminate(15 * time.Second); err != nil {
		t.Fatalf("embedded default did not stop cleanly: %v", err)
	}
}
