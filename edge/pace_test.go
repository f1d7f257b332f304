package edge

import (
	"math/rand/v2"
	"testing"
	"time"
)

// pacedAt runs a pacer's clock from `from` to `to` a step at a time and
// returns when each connection was taken, checking that none is taken
// twice and that the pacer said when to wake for it.
func pacedAt(t *testing.T, p *pacer, from, to, step int64) map[*conn]int64 {
	t.Helper()
	taken := map[*conn]int64{}
	var ready []*conn
	wakeAt := int64(-1)
	for now := from; now <= to; now += step {
		var next int64
		ready, next = p.takeAt(ready[:0], now)
		if len(ready) > 0 && wakeAt >= 0 && wakeAt > now {
			t.Fatalf("at %v the pacer gave %d connections it said were due at %v", time.Duration(now), len(ready), time.Duration(wakeAt))
		}
		for _, c := range ready {
			if _, ok := taken[c]; ok {
				t.Fatalf("a connection was taken twice")
			}
			taken[c] = now
		}
		wakeAt = next
	}
	return taken
}

// TestPacer_ABusyChannelsMembersAreSpreadOverTheInterval: a thousand members
// that were all written to at the same moment, and all got the next frame of
// a busy channel, are not written together an interval later but spread over
// the interval's slots, each half an interval to an interval and a half
// after its last write.
func TestPacer_ABusyChannelsMembersAreSpreadOverTheInterval(t *testing.T) {
	const every = 20 * time.Millisecond
	p := newPacer(every)
	if p.phases != slotsPerInterval || p.slot != int64(every/slotsPerInterval) {
		t.Fatalf("pacer of %v: %d slots of %v", every, p.phases, time.Duration(p.slot))
	}
	last := int64(time.Second) + 300*int64(time.Microsecond)
	const n = 1000
	for range n {
		p.addAt(&conn{phase: p.phase()}, last, last+int64(time.Millisecond))
	}
	taken := pacedAt(t, p, last+int64(time.Millisecond), last+int64(2*every), int64(100*time.Microsecond))
	if len(taken) != n {
		t.Fatalf("%d of %d connections were taken", len(taken), n)
	}
	perSlot := map[int64]int{}
	for _, at := range taken {
		if at < last+int64(every/2) || at > last+int64(every*3/2)+p.slot {
			t.Fatalf("a connection was taken %v after its last write", time.Duration(at-last))
		}
		perSlot[at/p.slot]++
	}
	if len(perSlot) != slotsPerInterval {
		t.Fatalf("the connections were written in %d slots, want %d", len(perSlot), slotsPerInterval)
	}
	for s, k := range perSlot {
		if k < n/slotsPerInterval || k > n/slotsPerInterval+1 {
			t.Fatalf("slot %d has %d connections, want %d or %d", s, k, n/slotsPerInterval, n/slotsPerInterval+1)
		}
	}
}

// TestPacer_AConnectionThatAlwaysHasFramesIsWrittenOnItsSlot: a member of a
// busy channel is written once an interval, on its own slot, however late
// in the slot its writer ran.
func TestPacer_AConnectionThatAlwaysHasFramesIsWrittenOnItsSlot(t *testing.T) {
	const every = 20 * time.Millisecond
	p := newPacer(every)
	c := &conn{phase: 5}
	start := int64(time.Hour) + 123456
	now, last := start, start
	var ready []*conn
	var writes []int64
	for now < start+int64(time.Second) {
		p.addAt(c, last, now)
		for {
			ready, _ = p.takeAt(ready[:0], now)
			if len(ready) > 0 {
				break
			}
			now += int64(50 * time.Microsecond)
		}
		// The writer runs a little after the slot begins.
		last = now + int64(300*time.Microsecond)
		writes = append(writes, last)
	}
	for i, w := range writes {
		if got := (w / p.slot) % p.phases; got != c.phase {
			t.Fatalf("write %d fell in phase %d, want %d", i, got, c.phase)
		}
		if i > 0 && w-writes[i-1] != int64(every) {
			t.Fatalf("write %d came %v after the one before, want %v", i, time.Duration(w-writes[i-1]), every)
		}
	}
	if len(writes) < 45 {
		t.Fatalf("%d writes in a second", len(writes))
	}
}

// TestPacer_AQuietConnectionIsWrittenAtOnce: a connection that has not
// been written to for an interval, or never, is due at once.
func TestPacer_AQuietConnectionIsWrittenAtOnce(t *testing.T) {
	p := newPacer(20 * time.Millisecond)
	now := int64(time.Minute)
	never, quiet, busy := &conn{phase: 3}, &conn{phase: 3}, &conn{phase: 3}
	p.addAt(never, 0, now)
	p.addAt(quiet, now-int64(20*time.Millisecond), now)
	p.addAt(busy, now-int64(time.Millisecond), now)
	ready, next := p.takeAt(nil, now)
	if len(ready) != 2 || ready[0] != never || ready[1] != quiet {
		t.Fatalf("at once: %d connections, want the two quiet ones", len(ready))
	}
	if want := p.due(now-int64(time.Millisecond), 3) * p.slot; next != want {
		t.Fatalf("the pacer wakes at %v, want %v", time.Duration(next), time.Duration(want))
	}
	// Nothing is due before then; the busy one is, then.
	if ready, _ = p.takeAt(ready[:0], next-1); len(ready) != 0 {
		t.Fatalf("%d connections due before their slot", len(ready))
	}
	if ready, next = p.takeAt(ready[:0], next); len(ready) != 1 || ready[0] != busy || next != -1 {
		t.Fatalf("on its slot: %d connections, next %d", len(ready), next)
	}
	// Without pacing, everything is due at once.
	p = newPacer(0)
	p.addAt(busy, now-1, now)
	if ready, next = p.takeAt(ready[:0], now); len(ready) != 1 || next != -1 {
		t.Fatalf("unpaced: %d connections, next %d", len(ready), next)
	}
}

// TestPacer_TakesEveryConnectionOnceOnItsSlot: connections added at random
// times, with random last writes, each come out of the pacer once: on their
// slot while the pacer wakes in time, and still once, if early, after it
// woke late.
func TestPacer_TakesEveryConnectionOnceOnItsSlot(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, every := range []time.Duration{20 * time.Millisecond, 3 * time.Millisecond, 200 * time.Microsecond, time.Hour} {
		p := newPacer(every)
		now := int64(r.IntN(1 << 40))
		due := map[*conn]int64{}
		taken := 0
		var ready []*conn
		for i := range 20000 {
			if r.IntN(3) == 0 {
				c := &conn{phase: p.phase()}
				last := now - r.Int64N(2*int64(every)+1)
				if r.IntN(5) == 0 {
					last = 0
				}
				d := now
				if last != 0 && last+int64(every) > now {
					d = max(p.due(last, c.phase)*p.slot, now)
				}
				due[c] = d
				p.addAt(c, last, now)
			}
			late := i%1000 == 999 // now and then the pacer wakes very late
			if late {
				now += 50 * int64(every)
			} else {
				now += r.Int64N(p.slot/2 + 1)
			}
			ready, _ = p.takeAt(ready[:0], now)
			for _, c := range ready {
				d, ok := due[c]
				if !ok {
					t.Fatalf("every %v: a connection was taken twice or never added", every)
				}
				if !late && (now < d || now-d > p.slot) {
					t.Fatalf("every %v: taken at %d, due at %d", every, now, d)
				}
				delete(due, c)
				taken++
			}
		}
		ready, _ = p.takeAt(ready[:0], now+10*int64(every))
		taken += len(ready)
		for _, c := range ready {
			delete(due, c)
		}
		if len(due) != 0 || p.waiting != 0 {
			t.Fatalf("every %v: %d connections never taken (%d waiting), %d taken", every, len(due), p.waiting, taken)
		}
	}
}
