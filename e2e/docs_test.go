package e2e_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestReadme_LinksEveryDoc checks that README.md links every page of docs/,
// so that a newcomer finds each one from the first page.
func TestReadme_LinksEveryDoc(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	pages, err := filepath.Glob(filepath.Join("..", "docs", "*.md"))
	if err != nil || len(pages) == 0 {
		t.Fatalf("no docs found: %v", err)
	}
	for _, p := range pages {
		link := "](docs/" + filepath.Base(p) + ")"
		if !strings.Contains(string(readme), link) {
			t.Errorf("README.md does not link docs/%s", filepath.Base(p))
		}
	}
	for _, want := range []string{"/healthz", "/readyz", "/metrics"} {
		if !strings.Contains(string(readme), want) {
			t.Errorf("README.md does not say where %s is", want)
		}
	}
}

// TestReadme_GoExampleCompiles builds the Go example of README.md as a
// program of its own, so that the first code a newcomer copies compiles
// against the SDK as it is, and checks that it handles a message that
// could not be delivered.
func TestReadme_GoExampleCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go build")
	}
	t.Parallel()
	blocks := fencedBlocks(t, filepath.Join("..", "README.md"), "go")
	if len(blocks) != 1 {
		t.Fatalf("README.md has %d Go blocks, want 1", len(blocks))
	}
	src := blocks[0]
	if !strings.Contains(src, ") OnMessageSendError(") {
		t.Error("the README's example does not handle OnMessageSendError: it would say nothing when the peer is offline")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	// Built from the module's root, the file uses the module's SDK and
	// dependencies.
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "example"), filepath.Join(dir, "main.go"))
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the README's Go example does not build: %v\n%s", err, out)
	}
}

// TestDocs_ShellCommandsRunWhatExists checks the shell blocks of README.md,
// DEVELOPERS.md and docs/*.md: each command runs a make target of the
// Makefile, a command of cmd/ (`bin/NAME`, `go run ./cmd/NAME`) or a known
// outside tool, never a program that does not exist.
func TestDocs_ShellCommandsRunWhatExists(t *testing.T) {
	t.Parallel()
	makefile, err := os.ReadFile(filepath.Join("..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	var targets []string
	for _, m := range regexp.MustCompile(`(?m)^([a-z][a-z0-9-]*):`).FindAllStringSubmatch(string(makefile), -1) {
		targets = append(targets, m[1])
	}
	command := func(name string) bool {
		fi, err := os.Stat(filepath.Join("..", "cmd", name))
		return err == nil && fi.IsDir()
	}
	tools := []string{"apt-get", "c++", "cd", "cmake", "ctest", "curl", "docker", "export", "g++", "git", "go", "kind", "kubectl", "minikube", "nats", "openssl", "pkg-config", "stress-ng"}
	docs, _ := filepath.Glob(filepath.Join("..", "docs", "*.md"))
	docs = append(docs, filepath.Join("..", "README.md"), filepath.Join("..", "DEVELOPERS.md"))
	assignment := regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)
	for _, doc := range docs {
		for _, lang := range []string{"sh", "bash", "shell", "console"} {
			for _, block := range fencedBlocks(t, doc, lang) {
				continued := false
				for _, line := range strings.Split(block, "\n") {
					words := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "$ "))
					wasContinued := continued
					continued = strings.HasSuffix(strings.TrimSpace(line), `\`)
					if wasContinued || len(words) == 0 || strings.HasPrefix(words[0], "#") {
						continue
					}
					for len(words) > 0 && assignment.MatchString(words[0]) {
						words = words[1:] // VAR=value before the command
					}
					if len(words) == 0 {
						continue // an assignment only
					}
					prog, args := strings.TrimPrefix(words[0], "("), words[1:] // (cd dir && …)
					ok := true
					switch {
					case prog == "make":
						ok = len(args) > 0 && slices.Contains(targets, args[0])
					case strings.HasPrefix(prog, "bin/"):
						ok = command(strings.TrimPrefix(prog, "bin/"))
					case prog == "go" && len(args) > 1 && args[0] == "run" && strings.HasPrefix(args[1], "./cmd/"):
						ok = command(strings.TrimPrefix(args[1], "./cmd/"))
					default:
						ok = slices.Contains(tools, prog)
					}
					if !ok {
						t.Errorf("%s: %q runs %q, which is neither a make target, a command of cmd/ nor a known tool", filepath.Base(doc), strings.TrimSpace(line), prog)
					}
				}
			}
		}
	}
}

// fencedBlocks returns the contents of the ```lang blocks of a Markdown file.
func fencedBlocks(t *testing.T, path, lang string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var cur []string
	in := false
	for _, l := range strings.Split(string(b), "\n") {
		switch {
		case !in && l == "```"+lang:
			in, cur = true, nil
		case in && strings.HasPrefix(l, "```"):
			in = false
			out = append(out, strings.Join(cur, "\n")+"\n")
		case in:
			cur = append(cur, l)
		}
	}
	return out
}
