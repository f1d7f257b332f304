package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboard-io/switchboard/token"
)

// TestProcess_ExitStatusesAreTheDocumented runs the built program, as
// docs/tokens.md tells scripts to (bin/sbtoken): 0 for a valid token, 1 for
// an invalid one, 2 for a usage error. The in-process tests cannot see
// whether main passes run's code on to the process.
func TestProcess_ExitStatusesAreTheDocumented(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go build")
	}
	bin := filepath.Join(t.TempDir(), "sbtoken")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	valid := token.GenerateV2(app, cert, "alice", time.Now().Add(time.Hour).Unix())
	for _, tt := range []struct {
		name string
		args []string
		want int
	}{
		{"valid token", []string{"-app", app, "-account", "alice", "-verify", valid}, exitOK},
		{"invalid token", []string{"-app", app, "-account", "bob", "-verify", valid}, exitInvalid},
		{"unknown flag", []string{"-no-such-flag"}, exitUsage},
		{"missing account", []string{"-app", app}, exitUsage},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(bin, tt.args...)
			cmd.Env = append(os.Environ(), envCert+"="+cert)
			err := cmd.Run()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.want {
				t.Fatalf("exit status %d, want %d", code, tt.want)
			}
		})
	}
}
