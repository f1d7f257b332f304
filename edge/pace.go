package edge

import (
	"sync"
	"sync/atomic"
	"time"
)

// Channel frames are paced. A connection's writer is started for them by the
// edge's pacer, not by whoever queued them, and at most about once per
// Config.WriteCoalesce: the channel frames that arrive meanwhile go out with
// one socket write, and the client takes them with one read. A member who
// gets a channel frame now and then gets it at once; one who gets hundreds a
// second gets them in writes WriteCoalesce apart. Every other frame (a peer
// message, an answer) starts the writer at once and takes the waiting
// channel frames with it.
//
// The members of a busy channel all get its frames at the same moments, so
// if each were written WriteCoalesce after its last write, they would all be
// written together, a thousand writes in a row on the edge's cores, and the
// last member of each round would wait for the whole round on top of the
// pacing. Instead each connection has a phase: the interval is cut into
// slots, and a connection's paced writes fall on its own slot of each
// interval, the connections spread evenly over the slots. A busy channel's
// frames then go out in a steady stream of writes, and a member waits at
// most one interval and a slot for its next one.
//
// The pacer also keeps a channel's fan-out loop from starting a writer per
// member while it runs: the loop only queues, and the pacer starts the
// writers once it has handed the frame to every member.

// pacer starts the writers of connections with channel frames queued.
type pacer struct {
	every  time.Duration
	slot   int64 // ns: the pacer's resolution
	phases int64 // slots per interval
	epoch  time.Time
	// turn hands phases to connections in turn (phase).
	turn atomic.Uint32

	mu sync.Mutex
	// now are the connections whose writer may start at once; the others
	// wait on the wheel, wheel[s%len(wheel)] holding those due in slot s
	// (slots since the epoch). Slots before base have been taken.
	now     []*conn
	wheel   [][]*conn
	base    int64
	waiting int   // connections on the wheel
	next    int64 // the slot the pacer wakes for; -1: none, it waits to be woken
	wake    chan struct{}
}

// Pacing slots: 16 to an interval, none shorter than minSlot (the pacer
// wakes at most once a slot while connections wait).
const (
	slotsPerInterval = 16
	minSlot          = 500 * time.Microsecond
)

func newPacer(every time.Duration) *pacer {
	p := &pacer{every: every, epoch: time.Now(), next: -1, wake: make(chan struct{}, 1)}
	slot := max(every/slotsPerInterval, min(every, minSlot))
	p.slot, p.phases = 1, 1
	if slot > 0 {
		p.slot = int64(slot)
		p.phases = max(int64(every)/p.slot, 1)
	}
	// A connection is due at most an interval and a half and a slot after
	// its last write (due); the wheel holds a few intervals more, for a
	// pacer that wakes late.
	p.wheel = make([][]*conn, 8*p.phases)
	return p
}

// phase gives a new connection its phase, in turn.
func (p *pacer) phase() int64 { return int64(p.turn.Add(1)) % p.phases }

// clock is the time in ns since the pacer's epoch.
func (p *pacer) clock() int64 { return p.at(time.Now()) }

// at is t in ns since the pacer's epoch.
func (p *pacer) at(t time.Time) int64 { return int64(t.Sub(p.epoch)) }

// due is the slot in which a connection of the given phase that last wrote
// at lastWrite (ns since epoch) writes its channel frames next: the first of
// its slots half an interval or more after that write. A connection that
// has frames to write every interval is written on its slot each time.
func (p *pacer) due(lastWrite, phase int64) int64 {
	s := (lastWrite + int64(p.every)/2 + p.slot - 1) / p.slot
	return s + (phase-s%p.phases+p.phases)%p.phases
}

// add asks the pacer to start c's writer: at once if c has not written in
// the last interval (lastWrite, ns since epoch; 0: never), otherwise on c's
// next slot. c.qmu is held.
func (p *pacer) add(c *conn, lastWrite int64) { p.addAt(c, lastWrite, p.clock()) }

func (p *pacer) addAt(c *conn, lastWrite, now int64) {
	slot := int64(-1) // at once
	if lastWrite != 0 && p.every > 0 && lastWrite+int64(p.every) > now {
		slot = p.due(lastWrite, c.phase)
	}
	p.mu.Lock()
	if p.waiting == 0 {
		// Nothing on the wheel: it turns from now.
		p.base = max(p.base, now/p.slot)
	}
	wake := false
	if slot < p.base {
		wake = len(p.now) == 0
		p.now = append(p.now, c)
	} else {
		// A pacer that woke late leaves base behind; one due past the
		// wheel's end goes on its last slot.
		slot = min(slot, p.base+int64(len(p.wheel))-1)
		b := &p.wheel[slot%int64(len(p.wheel))]
		*b = append(*b, c)
		p.waiting++
		wake = p.next < 0 || slot < p.next
		if wake {
			p.next = slot
		}
	}
	p.mu.Unlock()
	if wake {
		select {
		case p.wake <- struct{}{}:
		default:
		}
	}
}

// take returns the connections that are due and when the next one is, in
// ns since epoch (-1: none waits).
func (p *pacer) take(ready []*conn) ([]*conn, int64) { return p.takeAt(ready, p.clock()) }

func (p *pacer) takeAt(ready []*conn, now int64) ([]*conn, int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ready = append(ready, p.now...)
	clear(p.now)
	p.now = p.now[:0]
	cur := now / p.slot
	for ; p.waiting > 0 && p.base <= cur; p.base++ {
		b := &p.wheel[p.base%int64(len(p.wheel))]
		ready = append(ready, *b...)
		p.waiting -= len(*b)
		clear(*b)
		*b = (*b)[:0]
	}
	p.next = -1
	for s := p.base; p.waiting > 0 && s < p.base+int64(len(p.wheel)); s++ {
		if len(p.wheel[s%int64(len(p.wheel))]) > 0 {
			p.next = s
			return ready, s * p.slot
		}
	}
	return ready, -1
}

// run starts the writers that are due, until done is closed.
func (p *pacer) run(done <-chan struct{}) {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	var ready []*conn
	for {
		var next int64
		ready, next = p.take(ready[:0])
		for _, c := range ready {
			c.paceDue()
		}
		clear(ready)
		if len(ready) > 0 {
			continue // more may have come meanwhile
		}
		var timer <-chan time.Time
		if next >= 0 {
			t.Reset(time.Duration(next - p.clock()))
			timer = t.C
		}
		select {
		case <-done:
			return
		case <-p.wake:
		case <-timer:
		}
		t.Stop()
	}
}
