package hostile

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
)

// rss is the test process's resident set size in bytes, from /proc: the
// embedded NATS server, the workers and the edges all live in it.
func rss(t testing.TB) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}

// peakRSS samples rss until stop is called, and returns the peak.
type peakRSS struct {
	peak atomic.Int64
	stop chan struct{}
	wg   sync.WaitGroup
}

func watchRSS(t testing.TB) *peakRSS {
	p := &peakRSS{stop: make(chan struct{})}
	p.peak.Store(rss(t))
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
			if v := rss(t); v > p.peak.Load() {
				p.peak.Store(v)
			}
		}
	}()
	return p
}

func (p *peakRSS) Stop() int64 {
	close(p.stop)
	p.wg.Wait()
	return p.peak.Load()
}

// reader reads a raw connection's events in the background, so that its
// edge never sees a slow consumer, and hands them to Expect.
type reader struct {
	t      testing.TB
	r      *testenv.Raw
	events chan protocol.Event
	closed chan int // the close code, once
}

func readAll(t testing.TB, r *testenv.Raw) *reader {
	rd := &reader{t: t, r: r, events: make(chan protocol.Event, 4096), closed: make(chan int, 1)}
	go func() {
		for {
			_ = r.WS.SetReadDeadline(time.Now().Add(time.Minute))
			_, data, err := r.WS.ReadMessage()
			if err != nil {
				code := -1
				if ce, ok := err.(*websocket.CloseError); ok {
					code = ce.Code
				}
				rd.closed <- code
				close(rd.events)
				return
			}
			ev, err := testenv.Decode(data)
			if err != nil {
				continue
			}
			if ev.Ack {
				// Acknowledge at once, as an SDK does for frames whose
				// sender waits.
				_ = r.WS.WriteJSON(protocol.Request{Op: protocol.OpAck, N: 1 << 62})
			}
			select {
			case rd.events <- ev:
			default: // the test does not look at this many
			}
		}
	}()
	return rd
}

// Expect returns the next event named ev (skipping others), failing the
// test after d.
func (rd *reader) Expect(ev string, d time.Duration) protocol.Event {
	rd.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case got, ok := <-rd.events:
			if !ok {
				rd.t.Fatalf("connection closed while waiting for %s", ev)
			}
			if got.Ev == ev {
				return got
			}
		case <-deadline:
			rd.t.Fatalf("no %s within %s", ev, d)
		}
	}
}

// Closed waits for the connection to close and returns its close code.
func (rd *reader) Closed(d time.Duration) int {
	rd.t.Helper()
	select {
	case code := <-rd.closed:
		return code
	case <-time.After(d):
		rd.t.Fatalf("connection not closed within %s", d)
	}
	return 0
}
