package hostile

import (
	"runtime"
	"runtime/debug"
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

// What the whole process (NATS, worker, edge and every client of the
// test) may grow by while one connection floods it, the figures
// docs/security.md gives: floodRetained for what it still holds at the
// end of the flood (measured after a collection, with the free memory given
// back to the system), floodPeak for its peak resident size, garbage
// included.
const (
	floodRetained = 32 << 20
	floodPeak     = 192 << 20
)

// settled is the process's resident size after a collection that gives
// free memory back: what it holds, without garbage.
func settled(t testing.TB) int64 {
	runtime.GC()
	debug.FreeOSMemory()
	return rss(t)
}

// checkGrowth fails the test if the process grew beyond the bounds.
func checkGrowth(t *testing.T, before, peak, after int64) {
	t.Helper()
	t.Logf("process: %d MiB before, peak %d MiB, %d MiB held at the end of the flood", before>>20, peak>>20, after>>20)
	if raceEnabled {
		t.Log("memory bounds not checked under the race detector (its shadow memory is never given back); make test checks them without it")
		return
	}
	if after-before > floodRetained {
		t.Errorf("the process held %d MiB more at the end of the flood, bound %d MiB", (after-before)>>20, floodRetained>>20)
	}
	if peak-before > floodPeak {
		t.Errorf("the process peaked %d MiB above where it started, bound %d MiB", (peak-before)>>20, floodPeak>>20)
	}
}

// flood writes frame to ws as fast as the edge reads it, for d.
func flood(ws *websocket.Conn, frame []byte, d time.Duration) (sent int) {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		_ = ws.SetWriteDeadline(end)
		if ws.WriteMessage(websocket.TextMessage, frame) != nil {
			return sent
		}
		sent++
	}
	return sent
}

// users logs n users in and returns their readers.
func users(t *testing.T, url, prefix string, n int) []*testenv.Raw {
	var out []*testenv.Raw
	for i := range n {
		r := testenv.Dial(t, url)
		r.Login(prefix + strconv.Itoa(i))
		out = append(out, r)
	}
	return out
}

// others logs n users in, with their readers, and returns a function that
// has each make each requests one after another while f runs, and reports
// how many of their requests failed or went unanswered. The users and their
// readers exist before it is called: what they hold is not the flood's.
func others(t *testing.T, url string, n, each int) func(f func()) (failed int64) {
	var rds []*reader
	for _, r := range users(t, url, "other", n) {
		rds = append(rds, readAll(t, r))
	}
	return func(f func()) int64 {
		var bad atomic.Int64
		var wg sync.WaitGroup
		for _, rd := range rds {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range each {
					rd.r.WS.WriteJSON(protocol.Request{Op: protocol.OpSetAttr, Name: "n", Value: strconv.Itoa(j)})
					rd.r.WS.WriteJSON(protocol.Request{Op: protocol.OpGetAttr, Name: "n"})
					select {
					case ev, ok := <-rd.events:
						for ok && ev.Ev != protocol.EvUserAttrResult {
							ev, ok = <-rd.events
						}
						if !ok || ev.Value != strconv.Itoa(j) {
							bad.Add(1)
						}
					case <-time.After(60 * time.Second):
						bad.Add(1)
					}
				}
			}()
		}
		f()
		wg.Wait()
		return bad.Load()
	}
}

// One logged-in connection floods 8 KB invoke requests and never reads the
// answers. The edge stops reading it while its requests wait (and closes
// it when the answers pile up): the process stays within floodBound, and
// every other user's requests succeed meanwhile.
func TestHostile_InvokeFloodIsBounded(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	url := env.URL(0)
	attacker := testenv.Dial(t, url)
	attacker.Login("attacker")
	req := `{"account":"x","pad":"` + strings.Repeat("p", 8000) + `"}`
	frame := []byte(`{"op":"invoke","name":"io.agora.signal.user_query_user_status","callID":"c","req":` + strconvQuote(req) + `}`)

	run := others(t, url, 10, 40)
	before := settled(t)
	peak := watchRSS(t)
	var sent int
	var after int64
	failed := run(func() {
		sent = flood(attacker.WS, frame, 4*time.Second)
		after = settled(t)
	})
	top := peak.Stop()
	t.Logf("flood: %d frames of %d bytes sent", sent, len(frame))
	if failed != 0 {
		t.Errorf("%d of 400 requests of other users failed during the flood", failed)
	}
	checkGrowth(t, before, top, after)
}

// Connections that never log in flood 60 KB resume frames. Each is closed
// after maxFailedResumes, nothing they send reaches NATS, and the process
// stays within floodBound.
func TestHostile_ResumeFloodBeforeLoginIsBounded(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	url := env.URL(0)
	frame := []byte(`{"op":"resume","appId":"` + strings.Repeat("a", 60000) + `","account":"alice","session":"s","n":0}`)
	before := settled(t)
	peak := watchRSS(t)
	var wg sync.WaitGroup
	codes := make([]int, 10)
	for i := range codes {
		r := testenv.Dial(t, url)
		rd := readAll(t, r)
		wg.Add(1)
		go func() {
			defer wg.Done()
			flood(r.WS, frame, 3*time.Second)
			codes[i] = rd.Closed(15 * time.Second)
		}()
	}
	wg.Wait()
	after := settled(t)
	top := peak.Stop()
	checkGrowth(t, before, top, after)
	for i, code := range codes {
		if code != protocol.CloseResumeFlood {
			t.Errorf("flooding connection %d closed with %d, want %d", i, code, protocol.CloseResumeFlood)
		}
	}
	// The node is whole: a login and a peer message work.
	a := testenv.Dial(t, url)
	a.Login("alice")
	b := testenv.Dial(t, url)
	b.Login("bob")
	b.Send(protocol.Request{Op: protocol.OpMessageInstantSend, Account: "alice", Msg: "hi", MsgID: "m"})
	a.Expect(protocol.EvMessageInstantReceive)
}

// A client that never reads, while 20 users send it 8 KB peer messages as
// fast as their rate allows: what its session holds is bounded in bytes,
// every sender gets an answer for every message, and the process stays
// within floodBound.
func TestHostile_NonReadingReceiverIsBounded(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	url := env.URL(0)
	sink := testenv.Dial(t, url)
	sink.Login("sink") // and never reads again
	senders := users(t, url, "sender", 20)
	msg := strings.Repeat("m", 8000)
	// The senders' readers, with their buffered channels (a few MiB in
	// all), exist before the first reading: they are the test's, not the
	// server's.
	rds := make([]*reader, len(senders))
	for i, s := range senders {
		rds[i] = readAll(t, s)
	}

	before := settled(t)
	peak := watchRSS(t)
	var answered, sentTotal atomic.Int64
	var wg, flooded sync.WaitGroup
	flooded.Add(len(senders))
	var after int64
	measured := make(chan struct{})
	go func() {
		// What the server holds once the senders stopped, the sink's
		// session still there.
		defer close(measured)
		flooded.Wait()
		after = settled(t)
	}()
	for i, s := range senders {
		rd := rds[i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(time.Second / 50)
			defer tick.Stop()
			end := time.Now().Add(5 * time.Second)
			n := 0
			for time.Now().Before(end) {
				<-tick.C
				if s.WS.WriteJSON(protocol.Request{Op: protocol.OpMessageInstantSend, Account: "sink", Msg: msg, MsgID: strconv.Itoa(n)}) != nil {
					break
				}
				n++
			}
			sentTotal.Add(int64(n))
			flooded.Done()
			deadline := time.After(60 * time.Second)
			for got := 0; got < n; {
				select {
				case ev, ok := <-rd.events:
					if !ok {
						t.Errorf("a sender's connection closed (code %d) with %d answers missing", <-rd.closed, n-got)
						return
					}
					if ev.Ev == protocol.EvMessageSendSuccess || ev.Ev == protocol.EvMessageSendError {
						got++
						answered.Add(1)
					}
				case <-deadline:
					t.Errorf("a sender got %d of %d answers within 60 s", got, n)
					return
				}
			}
		}()
	}
	wg.Wait()
	<-measured
	top := peak.Stop()
	t.Logf("%d messages sent, %d answered", sentTotal.Load(), answered.Load())
	if answered.Load() != sentTotal.Load() {
		t.Errorf("%d of %d messages got no answer", sentTotal.Load()-answered.Load(), sentTotal.Load())
	}
	checkGrowth(t, before, top, after)
}

func strconvQuote(s string) string { return strconv.Quote(s) }
