// Package cpp_test builds the C++ SDK (sdk/cpp, CMake) and runs its
// GoogleTest suite with ctest against a real Switchboard: an embedded NATS
// with JetStream, a worker and an edge on a free port (internal/testenv).
//
// TestCpp builds and runs the plain configuration. With SB_CPP_SANITIZE=1 it
// also runs the suite under AddressSanitizer + UndefinedBehaviorSanitizer
// (LeakSanitizer included) and under ThreadSanitizer (make test-cpp-sanitize).
// Build directories live in sdk/cpp/build/ (git-ignored) and are reused, so
// a second run only rebuilds what changed.
package cpp_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-io/switchboard/internal/testenv"
)

type config struct {
	name     string
	sanitize string // CMake SANITIZE: "", "address" or "thread"
	env      []string
}

func TestCpp(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the C++ SDK")
	}
	for _, tool := range []string{"cmake", "ctest", "c++"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: run .ci/install-cpp-deps (cmake, g++, Boost, OpenSSL, nlohmann-json, GoogleTest)", tool)
		}
	}
	configs := []config{{name: "plain"}}
	if os.Getenv("SB_CPP_SANITIZE") == "1" {
		configs = append(configs,
			config{name: "asan", sanitize: "address", env: []string{
				"ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1",
				"UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1",
			}},
			config{name: "tsan", sanitize: "thread", env: []string{
				"TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1",
			}},
		)
	}

	env := testenv.Start(t, testenv.Options{})
	src, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			build := filepath.Join(src, "build", c.name)
			start := time.Now()
			buildType := "Debug"
			flags := "-O0 -g"
			switch c.sanitize {
			case "thread":
				// -O1 keeps ThreadSanitizer's code fast enough and its stacks readable.
				buildType, flags = "RelWithDebInfo", "-O1 -g"
			case "address":
				// -O0: GCC takes four times as long to build Beast with
				// ASan+UBSan at -O1 (measured: 285 s against 78 s for
				// connection.cpp), and the suite runs in seconds either way.
				buildType, flags = "RelWithDebInfo", "-O0 -g"
			}
			run(t, src, nil, "cmake", "-S", src, "-B", build,
				"-DCMAKE_BUILD_TYPE="+buildType,
				"-DCMAKE_CXX_FLAGS_"+strings.ToUpper(buildType)+"="+flags,
				"-DSANITIZE="+c.sanitize,
				"-DSWITCHBOARD_SIG_EXAMPLES="+onFor(c.sanitize == ""))
			run(t, src, nil, "cmake", "--build", build, "-j", strconv.Itoa(runtime.NumCPU()))
			built := time.Since(start)
			envs := append([]string{
				"SWITCHBOARD_URL=" + env.URL(0),
				"SWITCHBOARD_APP=" + testenv.App.ID,
				"SWITCHBOARD_APP_CERT=" + testenv.App.Certificate,
			}, c.env...)
			run(t, build, envs, "ctest", "--output-on-failure", "--timeout", "600")
			t.Logf("%s: configure+build %s, ctest %s", c.name, built.Round(time.Second), (time.Since(start) - built).Round(time.Second))
		})
	}
}

// run runs a command in dir and fails the test with its output if it fails.
func run(t *testing.T, dir string, env []string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out.String())
	}
}

func onFor(b bool) string {
	if b {
		return "ON"
	}
	return "OFF"
}
