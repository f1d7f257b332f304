package bench

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// progress shows one status line while a scenario runs: rewritten in place
// on a terminal, printed every few seconds elsewhere (logs, CI).
type progress struct {
	mu      sync.Mutex
	w       io.Writer
	tty     bool
	shown   int
	printed time.Time
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) show(line string) {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		pad := ""
		if n := p.shown - len(line); n > 0 {
			pad = strings.Repeat(" ", n)
		}
		fmt.Fprintf(p.w, "\r%s%s", line, pad)
		p.shown = len(line)
		return
	}
	if time.Since(p.printed) >= 5*time.Second {
		fmt.Fprintln(p.w, line)
		p.printed = time.Now()
	}
}

// clear ends the status line.
func (p *progress) clear() {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.shown > 0 {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.shown))
		p.shown = 0
	}
	p.printed = time.Time{}
}

// spinner frames show that the tool is alive when no number moves.
var spinner = []string{"|", "/", "-", `\`}

func (x *run) progressLine(phase string, t, prev map[string]int64, dt, elapsed time.Duration, spin int) string {
	rate := func(k string) string {
		if prev == nil || dt <= 0 {
			return "…"
		}
		return group(float64(t[k]-prev[k])/dt.Seconds(), 0)
	}
	n := group(float64(x.spec.users()), 0)
	var body string
	switch phase {
	case "setup":
		switch x.spec.Scenario {
		case Login:
			body = fmt.Sprintf("%s/%s connected (%s/s)", group(float64(t[cDialed]), 0), n, rate(cDialed))
		case Fanout:
			body = fmt.Sprintf("%s/%s logged in, %s joined (%s/s), %s notices", group(float64(t[cLoggedIn]), 0), n,
				group(float64(t[cJoined]), 0), rate(cJoined), group(float64(t[cEvents]), 0))
		default:
			body = fmt.Sprintf("%s/%s logged in (%s/s)", group(float64(t[cLoggedIn]), 0), n, rate(cLoggedIn))
		}
	case "run":
		switch x.spec.Scenario {
		case Login:
			body = fmt.Sprintf("%s/%s logins (%s/s)", group(float64(t[cLoggedIn]), 0), n, rate(cLoggedIn))
		case Join:
			body = fmt.Sprintf("%s/%s joined (%s/s), %s settled, %s notices", group(float64(t[cJoined]), 0), n, rate(cJoined),
				group(float64(t[cSettled]), 0), group(float64(t[cEvents]), 0))
		default:
			body = fmt.Sprintf("sent %s (%s/s), received %s (%s/s)", group(float64(t[cSent]), 0), rate(cSent),
				group(float64(t[cReceived]), 0), rate(cReceived))
		}
	default:
		body = phase
	}
	if f := t[cFailed] + t[cSendErr]; f > 0 {
		body += fmt.Sprintf(", %s failed", group(float64(f), 0))
	}
	return fmt.Sprintf("%s %s %s: %s  %.0fs", spinner[spin%len(spinner)], x.spec.Scenario, phase, body, elapsed.Seconds())
}
