package fault_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/switchboard-io/switchboard/internal/testenv"
)

// natsNode is one nats-server process of the test cluster.
type natsNode struct {
	name    string
	port    int
	cluster int
	monitor int
	dir     string
	proc    *testenv.Process
}

func (n *natsNode) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", n.port) }

// cluster is 3 nats-servers with JetStream, and Switchboard edges and
// workers as separate processes against them.
type cluster struct {
	t       *testing.T
	nats    []*natsNode
	edges   []*testenv.Process
	urls    []string // WebSocket URL of each edge
	workers []*testenv.Process
	env     []string
}

// startCluster starts 3 NATS servers, then workers and edges.
func startCluster(t *testing.T, edges, workers int, extraEnv ...string) *cluster {
	t.Helper()
	c := &cluster{t: t}
	bin := testenv.Binary(t, "nats-server")
	for i := 0; i < 3; i++ {
		c.nats = append(c.nats, &natsNode{
			name:    fmt.Sprintf("n%d", i+1),
			port:    testenv.FreePort(t),
			cluster: testenv.FreePort(t),
			monitor: testenv.FreePort(t),
			dir:     filepath.Join(t.TempDir(), fmt.Sprintf("n%d", i+1)),
		})
	}
	for _, n := range c.nats {
		c.startNATS(bin, n)
	}
	for _, n := range c.nats {
		n.proc.WaitLine(t, "Server is ready", 30*time.Second)
	}
	c.waitJetStream()

	var urls []string
	for _, n := range c.nats {
		urls = append(urls, n.url())
	}
	c.env = append([]string{
		"NATS_URL=" + strings.Join(urls, ","),
		"SB_REPLICAS=3",
		"SB_APP_ID=" + testenv.App.ID,
		"SB_APP_CERTIFICATE=" + testenv.App.Certificate,
		"SB_APP_ALLOW_NO_TOKEN=true",
		"SB_LISTEN=127.0.0.1:0",
		"SB_CONN_TIMEOUT=20",
		"SB_INVITE_RING_TIMEOUT=5s",
	}, extraEnv...)
	for i := 0; i < workers; i++ {
		c.startWorker(i)
	}
	for i := 0; i < edges; i++ {
		c.startEdge(i)
	}
	return c
}

func (c *cluster) startNATS(bin string, n *natsNode) {
	var routes []string
	for _, o := range c.nats {
		if o != n {
			routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", o.cluster))
		}
	}
	n.proc = testenv.StartProcess(c.t, n.name, bin, nil,
		"-a", "127.0.0.1", "-p", fmt.Sprint(n.port), "-m", fmt.Sprint(n.monitor),
		"-js", "-sd", n.dir, "--server_name", n.name,
		"--cluster_name", "sb", "--cluster", fmt.Sprintf("nats://127.0.0.1:%d", n.cluster),
		"--routes", strings.Join(routes, ","),
	)
}

// restartNATS starts a killed server again on its old ports and store.
func (c *cluster) restartNATS(i int) {
	c.startNATS(testenv.Binary(c.t, "nats-server"), c.nats[i])
	c.nats[i].proc.WaitLine(c.t, "Server is ready", 30*time.Second)
}

// waitJetStream waits until the cluster has a JetStream meta leader.
func (c *cluster) waitJetStream() {
	c.t.Helper()
	nc, err := nats.Connect(c.nats[0].url())
	if err != nil {
		c.t.Fatal(err)
	}
	defer nc.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := nc.RequestWithContext(ctx, "$JS.API.INFO", nil)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("JetStream did not become ready: %v", err)
		}
	}
}

func (c *cluster) startWorker(i int) {
	p := testenv.StartProcess(c.t, fmt.Sprintf("worker%d", i), testenv.Binary(c.t, "worker"), c.env)
	p.WaitLine(c.t, "worker running", 60*time.Second)
	if i < len(c.workers) {
		c.workers[i] = p
	} else {
		c.workers = append(c.workers, p)
	}
}

func (c *cluster) startEdge(i int) {
	env := append([]string{fmt.Sprintf("SB_EDGE_ID=edge%d", i)}, c.env...)
	p := testenv.StartProcess(c.t, fmt.Sprintf("edge%d", i), testenv.Binary(c.t, "edge"), env)
	url := testenv.URLFrom(p.WaitLine(c.t, "WebSocket URL:", 60*time.Second))
	if i < len(c.edges) {
		c.edges[i], c.urls[i] = p, url
	} else {
		c.edges = append(c.edges, p)
		c.urls = append(c.urls, url)
	}
}
