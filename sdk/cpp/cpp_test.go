// Package cpp_test builds the C++ SDK (sdk/cpp, CMake) and runs its
// GoogleTest suite with ctest against a real Switchboard: an embedded NATS
// with JetStream, a worker and two edges on free ports (internal/testenv),
// and a control endpoint (control_test.go) through which the suite drains
// an edge or ends a session.
//
// TestCpp builds and runs the plain configuration. With SB_CPP_SANITIZE=1 it
// runs the suite instead under AddressSanitizer + UndefinedBehaviorSanitizer
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
	cxx      string // the compiler; empty: CMake's default (g++ on Debian)
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
		// The plain configuration is make test's; this run is the
		// sanitizers' alone. They build with Clang: from nothing on two
		// cores, building both at once took GCC 211 s (ASan+UBSan) and
		// 161 s (TSan), Clang 81 s and 95 s. The plain build and the
		// header test keep GCC's side covered.
		configs = []config{
			{name: "clang-asan", sanitize: "address", cxx: "clang++", env: []string{
				"ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1",
				"UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1",
			}},
			{name: "clang-tsan", sanitize: "thread", cxx: "clang++", env: []string{
				"TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1",
			}},
		}
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
	// Two edges: edge 0 serves the suite; edge 1 is the other end of the
	// tests of a move, of failover and of a refused resume, which drain
	// it (and start it again) through the control endpoint. API: the
	// control endpoint's kick goes through edge 0's server API.
	env := testenv.Start(t, testenv.Options{Edges: 2, API: true})
	controlURL := startControl(t, env)
	// wss://: one TLS front whose CA OpenSSL is told to trust, and one whose
	// certificate nobody vouches for.
	ca, caKey := newCA(t, "Switchboard test CA")
	other, otherKey := newCA(t, "unknown CA")
	tlsEnv := []string{
		"SWITCHBOARD_WSS_URL=" + startTLSFront(t, env.URL(0), leaf(t, ca, caKey)),
		"SWITCHBOARD_WSS_UNTRUSTED_URL=" + startTLSFront(t, env.URL(0), leaf(t, other, otherKey)),
		"SSL_CERT_FILE=" + writeCA(t, ca),
	}
	for i, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			start := time.Now()
			envs := append([]string{
				"SWITCHBOARD_URL=" + env.URL(0),
				"SWITCHBOARD_URL_EDGE1=" + env.URL(1),
				"SWITCHBOARD_CONTROL_URL=" + controlURL,
				"SWITCHBOARD_APP=" + testenv.App.ID,
				"SWITCHBOARD_APP_CERT=" + testenv.App.Certificate,
			}, c.env...)
			envs = append(envs, tlsEnv...)
			if err := run(filepath.Join(src, "build", c.name), envs, "ctest", "--output-on-failure", "--timeout", "600"); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: configure+build %s, ctest %s", c.name, built[i].Round(time.Second), time.Since(start).Round(time.Second))
		})
	}
	if configs[0].name != "plain" || errs[0] != nil {
		return
	}
	appEnv := []string{"SWITCHBOARD_URL=" + env.URL(0), "SWITCHBOARD_APP=" + testenv.App.ID}
	t.Run("installed", func(t *testing.T) { testInstalled(t, src, appEnv) })
	t.Run("header", func(t *testing.T) { testHeader(t, src) })
}

// testInstalled installs the plain build into a prefix and builds an app
// against it as the docs say (find_package with the shared and the static
// library, and pkg-config), then runs each build against the server.
func testInstalled(t *testing.T, src string, appEnv []string) {
	prefix := filepath.Join(src, "build", "prefix")
	consumer := filepath.Join(src, "build", "consumer")
	if err := os.RemoveAll(prefix); err != nil {
		t.Fatal(err)
	}
	steps := [][]string{
		{"cmake", "--install", filepath.Join(src, "build", "plain"), "--prefix", prefix},
		{"cmake", "-S", filepath.Join(src, "tests", "consumer"), "-B", consumer, "-DCMAKE_PREFIX_PATH=" + prefix},
		{"cmake", "--build", consumer, "-j", strconv.Itoa(runtime.NumCPU())},
	}
	for _, s := range steps {
		if err := run(src, nil, s[0], s[1:]...); err != nil {
			t.Fatal(err)
		}
	}
	// pkg-config, as docs/sdk-cpp.md shows it: the shared library.
	pcEnv := []string{"PKG_CONFIG_PATH=" + filepath.Join(prefix, "lib", "pkgconfig")}
	flags, err := output(src, pcEnv, "pkg-config", "--cflags", "--libs", "switchboard-sig")
	if err != nil {
		t.Fatal(err)
	}
	pcBin := filepath.Join(consumer, "consumer_pkgconfig")
	args := append([]string{"-std=c++17", "-o", pcBin, filepath.Join(src, "tests", "consumer", "consumer.cpp")}, strings.Fields(flags)...)
	if err := run(src, nil, "c++", args...); err != nil {
		t.Fatal(err)
	}
	libDir := "LD_LIBRARY_PATH=" + filepath.Join(prefix, "lib")
	for _, bin := range []string{"consumer_shared", "consumer_static", "consumer_pkgconfig"} {
		env := append([]string{"SWITCHBOARD_ACCOUNT=" + bin + "-" + strconv.FormatInt(time.Now().UnixNano(), 36), libDir}, appEnv...)
		if out, err := output(consumer, env, filepath.Join(consumer, bin)); err != nil || strings.TrimSpace(out) != "ok" {
			t.Errorf("%s: %v: %s", bin, err, out)
		}
	}
}

// testHeader compiles the header alone with every warning as an error, on
// GCC and on Clang: an app may build with either.
func testHeader(t *testing.T, src string) {
	for _, cxx := range []string{"g++", "clang++"} {
		if _, err := exec.LookPath(cxx); err != nil {
			if os.Getenv("CI") != "" || cxx == "g++" {
				t.Fatalf("%s not found: run .ci/install-cpp-deps", cxx)
			}
			t.Logf("skipping %s: not found (.ci/install-cpp-deps installs it)", cxx)
			continue
		}
		if err := run(src, nil, cxx, "-std=c++17", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-fsyntax-only",
			"-I", filepath.Join(src, "include", "switchboard"), filepath.Join(src, "tests", "header_syntax.cpp")); err != nil {
			t.Error(err)
		}
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
		// -O0: the suite runs in seconds either way, and a compiler
		// takes far longer to build Beast with ASan+UBSan at -O1 (GCC:
		// 285 s against 78 s for connection.cpp). -g1 (line tables) for
		// both sanitizers: reports keep file and line, for less work.
		buildType, flags = "RelWithDebInfo", "-O0 -g1"
	}
	args := []string{"-S", src, "-B", dir}
	if c.cxx != "" {
		// Set once, at the first configure: CMake wipes the cache of a
		// directory configured with another compiler, and the other
		// settings with it (hence a directory per compiler).
		args = append(args, "-DCMAKE_CXX_COMPILER="+c.cxx)
	}
	// ccache (.ci/install-cpp-deps installs it) keeps what a build
	// compiled, keyed by the preprocessed source and the flags, so a fresh
	// checkout builds in seconds what the one before built: measured, the
	// plain build took 78 s from nothing and 9 s in a second checkout at
	// another path. CCACHE_BASEDIR and CCACHE_NOHASHDIR keep the checkout's
	// path out of the key.
	launcher, env := "", []string(nil)
	if _, err := exec.LookPath("ccache"); err == nil {
		launcher = "ccache"
		env = []string{"CCACHE_BASEDIR=" + src, "CCACHE_NOHASHDIR=1"}
	}
	if err := run(src, nil, "cmake", append(args,
		"-DCMAKE_BUILD_TYPE="+buildType,
		"-DCMAKE_CXX_FLAGS_"+strings.ToUpper(buildType)+"="+flags,
		"-DCMAKE_CXX_COMPILER_LAUNCHER="+launcher,
		"-DSANITIZE="+c.sanitize,
		"-DSWITCHBOARD_SIG_EXAMPLES="+onFor(c.sanitize == ""))...); err != nil {
		return err
	}
	return run(src, env, "cmake", "--build", dir, "-j", strconv.Itoa(runtime.NumCPU()))
}

// output runs a command in dir and returns its standard output.
func output(dir string, env []string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%s %v: %v\n%s", name, args, err, stderr.String())
	}
	return string(out), nil
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
