package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// notInTheServer are what only tests, the benchmark or the Kubernetes
// check need: a fresh `make run` must not download or compile them.
var notInTheServer = []string{
	"k8s.io/",
	"sigs.k8s.io/",
	"github.com/getkin/kin-openapi",
	"github.com/chromedp/",
	"github.com/HdrHistogram/",
	"github.com/switchboard-io/switchboard/bench",
	"github.com/switchboard-io/switchboard/sdk",
	"github.com/switchboard-io/switchboard/deploy/",
	"github.com/switchboard-io/switchboard/internal/testenv",
	"testing",
}

// servedFiles are packages under those prefixes that the edge does need:
// the browser SDK it serves at /sdk/, files that import nothing but embed.
var servedFiles = []string{"github.com/switchboard-io/switchboard/sdk/js"}

// TestBuild_EdgeNeedsNoTestOnlyModules: the edge binary's dependencies
// hold nothing that only tests, the benchmark or the Kubernetes check use.
func TestBuild_EdgeNeedsNoTestOnlyModules(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if slices.Contains(servedFiles, pkg) {
			continue
		}
		for _, bad := range notInTheServer {
			under := strings.HasSuffix(bad, "/") && strings.HasPrefix(pkg, bad)
			if pkg == bad || under || strings.HasPrefix(pkg, bad+"/") {
				t.Errorf("cmd/edge depends on %s, which only tests, the benchmark or the Kubernetes check need", pkg)
			}
		}
	}
}
