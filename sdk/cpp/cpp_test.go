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
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
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

	src, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	// The configurations build at once: one build alone keeps both cores
	// busy only part of the time (connection.cpp, Beast with and without
	// TLS, compiles for most of a minute on its own), so the sanitizer
	// builds together take about the time of the larger one.
	built := make([]time.Duration, len(configs))
	errs := make([]error, len(configs))
	var wg sync.WaitGroup
	for i, c := range configs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			errs[i] = build(src, c)
			built[i] = time.Since(start)
		}()
	}
	wg.Wait()
	env := testenv.Start(t, testenv.Options{})
	for i, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			start := time.Now()
			envs := append([]string{
				"SWITCHBOARD_URL=" + env.URL(0),
				"SWITCHBOARD_APP=" + testenv.App.ID,
				"SWITCHBOARD_APP_CERT=" + testenv.App.Certificate,
			}, c.env...)
			if err := run(filepath.Join(src, "build", c.name), envs, "ctest", "--output-on-failure", "--timeout", "600"); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: configure+build %s, ctest %s", c.name, built[i].Round(time.Second), time.Since(start).Round(time.Second))
		})
	}
}

// build configures and builds one configuration in build/NAME.
func build(src string, c config) error {
	dir := filepath.Join(src, "build", c.name)
	buildType := "Debug"
	flags := "-O0 -g"
	switch c.sanitize {
	case "thread":
		// -O1 keeps ThreadSanitizer's code fast enough and its stacks readable.
		buildType, flags = "RelWithDebInfo", "-O1 -g1"
	case "address":
		// -O0: GCC takes four times as long to build Beast with
		// ASan+UBSan at -O1 (measured: 285 s against 78 s for
		// connection.cpp), and the suite runs in seconds either way.
		// -g1 (line tables) for both sanitizers: reports keep file and
		// line, and GCC spends 15 % less (measured on connection.cpp).
		buildType, flags = "RelWithDebInfo", "-O0 -g1"
	}
	if err := run(src, nil, "cmake", "-S", src, "-B", dir,
		"-DCMAKE_BUILD_TYPE="+buildType,
		"-DCMAKE_CXX_FLAGS_"+strings.ToUpper(buildType)+"="+flags,
		"-DSANITIZE="+c.sanitize,
		"-DSWITCHBOARD_SIG_EXAMPLES="+onFor(c.sanitize == "")); err != nil {
		return err
	}
	return run(src, nil, "cmake", "--build", dir, "-j", strconv.Itoa(runtime.NumCPU()))
}

// run runs a command in dir; its error carries the command's output.
func run(dir string, env []string, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %v: %v\n%s", name, args, err, out.String())
	}
	return nil
}

func onFor(b bool) string {
	if b {
		return "ON"
	}
	return "OFF"
}
