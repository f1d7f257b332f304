package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-io/switchboard/token"
)

const (
	app  = "app1"
	cert = "0123456789abcdef0123456789abcdef"
)

var now = time.Unix(1700000000, 0)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

var withCert = env(map[string]string{envCert: cert})

// sbtoken runs the command at now and returns its exit code and output.
func sbtoken(t *testing.T, getenv func(string) string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = runAt(args, getenv, &out, &errOut, now)
	if strings.Contains(out.String()+errOut.String(), cert) {
		t.Errorf("output contains the certificate:\n%s%s", out.String(), errOut.String())
	}
	return code, out.String(), errOut.String()
}

func TestGenerate(t *testing.T) {
	certFile := filepath.Join(t.TempDir(), "cert")
	if err := os.WriteFile(certFile, []byte(cert+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	day := now.Add(24 * time.Hour).Unix()

	tests := []struct {
		name   string
		getenv func(string) string
		args   []string
		want   string
	}{
		{"defaults: v1, 24h", withCert, []string{"-app", app, "-account", "alice"},
			token.GenerateV1(app, cert, "alice", day)},
		{"v2", withCert, []string{"-app", app, "-account", "alice", "-version", "2"},
			token.GenerateV2(app, cert, "alice", day)},
		{"ttl 0 never expires", withCert, []string{"-app", app, "-account", "alice", "-ttl", "0"},
			token.GenerateV1(app, cert, "alice", 0)},
		{"ttl 90s", withCert, []string{"-app", app, "-account", "alice", "-ttl", "90s"},
			token.GenerateV1(app, cert, "alice", now.Unix()+90)},
		{"cert file, trailing newline dropped", env(nil), []string{"-app", app, "-account", "Zoë", "-cert-file", certFile},
			token.GenerateV1(app, cert, "Zoë", day)},
		{"cert file wins over env", env(map[string]string{envCert: "other"}), []string{"-app", app, "-account", "alice", "-cert-file", certFile},
			token.GenerateV1(app, cert, "alice", day)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := sbtoken(t, tt.getenv, tt.args...)
			if code != exitOK || out != tt.want+"\n" {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %q", code, out, errOut, tt.want)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	later := now.Add(time.Hour).Unix()
	tests := []struct {
		name     string
		tok      string
		account  string
		wantCode int
		wantOut  string
	}{
		{"v1 valid", token.GenerateV1(app, cert, "alice", later), "alice", exitOK,
			"valid: expires at 2023-11-14T23:13:20Z (Unix 1700003600) (in 1h0m0s)\n"},
		{"v2 valid", token.GenerateV2(app, cert, "alice", later), "alice", exitOK, "valid: expires"},
		{"never expires", token.GenerateV2(app, cert, "alice", 0), "alice", exitOK, "valid: never expires\n"},
		{"expired", token.GenerateV1(app, cert, "alice", now.Unix()-120), "alice", exitInvalid,
			"invalid: expired at 2023-11-14T22:11:20Z (Unix 1699999880) (2m0s ago)\n"},
		{"wrong account", token.GenerateV1(app, cert, "alice", later), "bob", exitInvalid, "invalid: token: bad signature\n"},
		{"wrong app", token.GenerateV1("app2", cert, "alice", later), "alice", exitInvalid, "invalid: token: issued for another app\n"},
		{"malformed", "1:app1:soon:abc", "alice", exitInvalid, "invalid: token: malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := sbtoken(t, withCert, "-app", app, "-account", tt.account, "-verify", tt.tok)
			if code != tt.wantCode || !strings.HasPrefix(out, tt.wantOut) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %d, %q", code, out, errOut, tt.wantCode, tt.wantOut)
			}
			if tt.wantCode != exitOK && strings.Contains(out, tt.tok) {
				t.Errorf("output repeats the token: %q", out)
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name    string
		getenv  func(string) string
		args    []string
		wantErr string
	}{
		{"no app", withCert, []string{"-account", "a"}, "-app and -account are required"},
		{"no account", withCert, []string{"-app", app}, "-app and -account are required"},
		{"no certificate", env(nil), []string{"-app", app, "-account", "a"}, "no certificate"},
		{"blank certificate", env(map[string]string{envCert: " \n"}), []string{"-app", app, "-account", "a"}, "no certificate"},
		{"missing cert file", env(nil), []string{"-app", app, "-account", "a", "-cert-file", filepath.Join(t.TempDir(), "nope")}, "reading -cert-file"},
		{"certificate as a flag is refused", env(nil), []string{"-app", app, "-account", "a", "-cert", cert}, "flag provided but not defined: -cert"},
		{"bad version", withCert, []string{"-app", app, "-account", "a", "-version", "3"}, "-version must be 1 or 2"},
		{"negative ttl", withCert, []string{"-app", app, "-account", "a", "-ttl", "-1h"}, "-ttl must be 0"},
		{"sub-second ttl", withCert, []string{"-app", app, "-account", "a", "-ttl", "500ms"}, "-ttl must be 0"},
		{"bad ttl", withCert, []string{"-app", app, "-account", "a", "-ttl", "soon"}, "invalid value"},
		{"stray argument", withCert, []string{"-app", app, "-account", "a", "extra"}, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := sbtoken(t, tt.getenv, tt.args...)
			if code != exitUsage || out != "" || !strings.Contains(errOut, tt.wantErr) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %d and %q", code, out, errOut, exitUsage, tt.wantErr)
			}
		})
	}
}

func TestHelpExplainsCertificateSource(t *testing.T) {
	code, out, errOut := sbtoken(t, withCert, "-h")
	if code != exitOK || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	for _, want := range []string{"SB_APP_CERTIFICATE", "-cert-file", "shell history", "-verify", "never expires"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("usage lacks %q:\n%s", want, errOut)
		}
	}
}

// run is what main calls; check it is wired to the real clock.
func TestRun_UsesTheClock(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run([]string{"-app", app, "-account", "a", "-ttl", "1h"}, withCert, &out, &errOut)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	exp, err := token.Verify(strings.TrimSpace(out.String()), app, cert, "a", time.Now())
	if err != nil || exp < time.Now().Add(59*time.Minute).Unix() {
		t.Fatalf("Verify = %d, %v", exp, err)
	}
}
