package node_test

import (
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// logLines keeps what a node logs, one record a line, for tests that read
// what an operator would.
type logLines struct {
	mu    sync.Mutex
	lines []string
	grew  chan struct{}
}

func newLogLines() *logLines { return &logLines{grew: make(chan struct{})} }

// logger logs every level into l.
func (l *logLines) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// Write takes one record; the text handler writes each in one call.
func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.lines = append(l.lines, strings.TrimSpace(string(p)))
	close(l.grew)
	l.grew = make(chan struct{})
	l.mu.Unlock()
	return len(p), nil
}

// wait waits up to d for a line containing want.
func (l *logLines) wait(t *testing.T, want string, d time.Duration) string {
	t.Helper()
	deadline := time.After(d)
	for seen := 0; ; {
		l.mu.Lock()
		for ; seen < len(l.lines); seen++ {
			if strings.Contains(l.lines[seen], want) {
				line := l.lines[seen]
				l.mu.Unlock()
				return line
			}
		}
		grew := l.grew
		l.mu.Unlock()
		select {
		case <-grew:
		case <-deadline:
			l.mu.Lock()
			defer l.mu.Unlock()
			t.Fatalf("no log line with %q within %v:\n%s", want, d, strings.Join(l.lines, "\n"))
			return ""
		}
	}
}
