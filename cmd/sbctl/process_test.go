package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
	"github.com/switchboard-io/switchboard/token"
)

// sbctlRun is one run of the built binary.
type sbctlRun struct {
	stdout, stderr string
	code           int
}

// runner runs bin against the API of edge 0 of env as testenv.App.
func runner(t *testing.T, env *testenv.Env) func(args ...string) sbctlRun {
	bin := testenv.Binary(t, "sbctl")
	base := []string{
		"SBCTL_URL=" + env.APIURL(0), "SBCTL_APP=" + testenv.App.ID, "SBCTL_SECRET=" + testenv.App.APISecret,
	}
	return func(args ...string) sbctlRun {
		t.Helper()
		return runBin(t, bin, base, args...)
	}
}

func runBin(t *testing.T, bin string, env []string, args ...string) sbctlRun {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := sbctlRun{stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return r
}

func (r sbctlRun) want(t *testing.T, code int) sbctlRun {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, code, r.stdout, r.stderr)
	}
	return r
}

func TestSbctl_EveryCommandAgainstARealServer(t *testing.T) {
	env := testenv.Start(t, testenv.Options{Edges: 2, API: true})
	bob := env.LoginUser(t, 1, "bob")
	bob.ChannelJoin("lobby")
	bob.Wait(t, protocol.EvChannelJoined)
	sbctl := runner(t, env)

	// online: a table, or the API's JSON.
	r := sbctl("online", "bob", "carol").want(t, exitOK)
	if want := "ACCOUNT  ONLINE\nbob      yes\ncarol    no\n"; r.stdout != want {
		t.Fatalf("online table:\n%s\nwant:\n%s", r.stdout, want)
	}
	r = sbctl("-o", "json", "online", "bob").want(t, exitOK)
	if want := `{"accounts":[{"account":"bob","online":true}]}` + "\n"; r.stdout != want {
		t.Fatalf("online json: %s", r.stdout)
	}

	// send: delivered (0), offline (3).
	r = sbctl("send", "-to", "bob", "hello from ops").want(t, exitOK)
	if r.stdout != "delivered\n" {
		t.Fatalf("send: %q", r.stdout)
	}
	bob.Wait(t, protocol.EvMessageInstantReceive, testenv.Msg("hello from ops"), testenv.Account("_system"))
	r = sbctl("send", "hello?", "-to", "carol").want(t, exitNotFound)
	if r.stdout != "offline\n" {
		t.Fatalf("send offline: %q", r.stdout)
	}

	// publish reaches the channel.
	sbctl("publish", "-from", "ops", "lobby", "deploy done").want(t, exitOK)
	bob.Wait(t, protocol.EvMessageChannelReceive, testenv.Account("ops"), testenv.Msg("deploy done"))

	// members, attrs, user-attrs.
	r = sbctl("members", "lobby").want(t, exitOK)
	if want := "#  MEMBER\n1  bob\n1 of 1 members of lobby\n"; r.stdout != want {
		t.Fatalf("members:\n%s", r.stdout)
	}
	c := apiReq{env: env}
	c.put(t, "/channels/lobby/attrs/topic", `{"value":"launch day"}`)
	c.put(t, "/users/bob/attrs/city", `{"value":"Lisbon"}`)
	r = sbctl("attrs", "lobby").want(t, exitOK)
	if want := "NAME         VALUE\n_member_num  1\ntopic        launch day\n"; r.stdout != want {
		t.Fatalf("attrs:\n%s", r.stdout)
	}
	r = sbctl("user-attrs", "bob", "-o", "json").want(t, exitOK)
	if want := `{"account":"bob","attrs":{"city":"Lisbon"}}` + "\n"; r.stdout != want {
		t.Fatalf("user-attrs json: %s", r.stdout)
	}

	// token through the server logs in; offline with -cert-file too.
	r = sbctl("token", "-version", "2", "dave").want(t, exitOK)
	tok := strings.TrimSpace(r.stdout)
	if _, err := token.Verify(tok, testenv.App.ID, testenv.App.Certificate, "dave", time.Now()); err != nil {
		t.Fatalf("token from the server %q: %v", tok, err)
	}
	certFile := filepath.Join(t.TempDir(), "cert")
	if err := os.WriteFile(certFile, []byte(testenv.App.Certificate+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Offline needs no server: point it at nothing.
	r = runBin(t, testenv.Binary(t, "sbctl"), []string{"SBCTL_URL=http://127.0.0.1:1", "SBCTL_SECRET="},
		"token", "-app", testenv.App.ID, "-cert-file", certFile, "-ttl", "1h", "erin").want(t, exitOK)
	tok = strings.TrimSpace(r.stdout)
	exp, err := token.Verify(tok, testenv.App.ID, testenv.App.Certificate, "erin", time.Now())
	if err != nil || exp < time.Now().Add(59*time.Minute).Unix() {
		t.Fatalf("offline token %q: %v, expires %d", tok, err, exp)
	}
	u := testenv.NewUser(t, "erin", env.URL(0))
	u.Login(testenv.App.ID, "erin", tok, 0, "")
	u.Wait(t, protocol.EvLoginSuccess)

	// kick: 0, then 3 as it is no longer online.
	r = sbctl("kick", "-reason", "maintenance", "bob").want(t, exitOK)
	if r.stdout != "kicked\n" {
		t.Fatalf("kick: %q", r.stdout)
	}
	bob.Wait(t, protocol.EvLogout, testenv.Code(protocol.LogoutOther))
	r = sbctl("kick", "bob").want(t, exitNotFound)
	if !strings.Contains(r.stderr, "not online") || !strings.Contains(r.stderr, "108") {
		t.Fatalf("kick of no session: %q", r.stderr)
	}

	// webhook test without webhooks: 3, saying so.
	r = sbctl("webhook", "test").want(t, exitNotFound)
	if !strings.Contains(r.stderr, "webhooks are not configured") {
		t.Fatalf("webhook test: %q", r.stderr)
	}
}

func TestSbctl_FailuresAndUsage(t *testing.T) {
	env := testenv.Start(t, testenv.Options{API: true})
	sbctl := runner(t, env)
	bin := testenv.Binary(t, "sbctl")

	// Usage errors: 2, before anything is sent.
	for _, args := range [][]string{
		{}, {"nonsense"}, {"online"}, {"send", "msg"}, {"publish", "lobby"},
		{"members", "a", "b"}, {"-o", "yaml", "online", "a"}, {"token", "-version", "3", "a"},
		{"webhook", "fire"}, {"-no-such-flag", "online", "a"},
	} {
		r := sbctl(args...)
		if r.code != exitUsage || r.stdout != "" {
			t.Errorf("sbctl %v: exit %d, stdout %q; want 2 and nothing", args, r.code, r.stdout)
		}
	}
	// A wrong secret: 1, with the server's words.
	r := runBin(t, bin, []string{"SBCTL_URL=" + env.APIURL(0), "SBCTL_APP=" + testenv.App.ID, "SBCTL_SECRET=wrong"}, "online", "a").want(t, exitFailed)
	if !strings.Contains(r.stderr, "401") || strings.Contains(r.stderr, testenv.App.APISecret) {
		t.Fatalf("wrong secret: %q", r.stderr)
	}
	// A request the API refuses: 1, with its code.
	r = sbctl("members", "-limit", "5000", "lobby").want(t, exitFailed)
	if !strings.Contains(r.stderr, "1004") {
		t.Fatalf("page too large: %q", r.stderr)
	}
	// -o json still prints the API's error body for scripts.
	r = sbctl("-o", "json", "members", "-limit", "5000", "lobby").want(t, exitFailed)
	var body map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &body); err != nil || body["code"] != float64(1004) {
		t.Fatalf("json error body %q: %v", r.stdout, err)
	}
	// No server: 1.
	runBin(t, bin, []string{"SBCTL_URL=http://127.0.0.1:1", "SBCTL_APP=x", "SBCTL_SECRET=y"}, "online", "a").want(t, exitFailed)
	// No secret for an app other than the development one: 1, saying so.
	r = runBin(t, bin, []string{"SBCTL_URL=" + env.APIURL(0), "SBCTL_APP=testapp", "SBCTL_SECRET="}, "online", "a").want(t, exitFailed)
	if !strings.Contains(r.stderr, "SBCTL_SECRET") {
		t.Fatalf("no secret: %q", r.stderr)
	}
}

// apiReq sets state up through the API directly.
type apiReq struct{ env *testenv.Env }

func (a apiReq) put(t *testing.T, path, body string) {
	t.Helper()
	req, err := http.NewRequest("PUT", a.env.APIURL(0)+"/api/v1/apps/"+testenv.App.ID+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testenv.App.APISecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT %s: %d", path, resp.StatusCode)
	}
}
