package edge_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
)

// TestPlainGET_SaysWhatTheEndpointIs: a browser or curl opening the
// WebSocket URL as a page learns what the endpoint is, which subprotocol
// to use and where the protocol is written down, with 426 Upgrade Required
// and the Upgrade header that status must carry.
func TestPlainGET_SaysWhatTheEndpointIs(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	url := "http" + strings.TrimPrefix(env.URL(0), "ws")
	c := http.Client{Timeout: testenv.WaitTimeout}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusUpgradeRequired {
		t.Errorf("GET %s: HTTP %d, want 426", url, resp.StatusCode)
	}
	if up := resp.Header.Get("Upgrade"); !strings.EqualFold(up, "websocket") {
		t.Errorf("Upgrade header = %q, want websocket", up)
	}
	for _, want := range []string{"WebSocket", protocol.Subprotocol, "docs/protocol.md"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("answer to a plain GET does not mention %q:\n%s", want, body)
		}
	}
}
