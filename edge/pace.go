package edge

import (
	"sync"
	"time"
)

// Channel frames are paced. A connection's writer is started for them by the
// edge's pacer, not by whoever queued them, and at most once per
// Config.WriteCoalesce: the channel frames that arrive meanwhile go out with
// one socket write, and the client takes them with one read. A member who
// gets a channel frame now and then gets it at once; one who gets hundreds a
// second gets them in writes WriteCoalesce apart. Every other frame (a peer
// message, an answer) starts the writer at once and takes the waiting
// channel frames with it.
//
// The pacer also keeps a channel's fan-out loop from starting a writer per
// member while it runs: the loop only queues, and the pacer starts the
// writers once it has handed the frame to every member.

// pacer starts the writers of connections with channel frames queued.
type pacer struct {
	every time.Duration
	epoch time.Time

	mu sync.Mutex
	// now are the connections whose writer may start at once; later the
	// others, in the order they came. Their times come nearly in order (a
	// connection's last write plus the same interval), so the pacer takes
	// them from the front: one that came out of order waits at most until
	// those before it are due.
	now   []*conn
	later []pacedConn
	head  int   // later[:head] are taken
	next  int64 // when the pacer wakes next, in ns since epoch; 0: when woken
	wake  chan struct{}
}

type pacedConn struct {
	c  *conn
	at int64 // ns since epoch
}

func newPacer(every time.Duration) *pacer {
	return &pacer{every: every, epoch: time.Now(), wake: make(chan struct{}, 1)}
}

// clock is the time in ns since the pacer's epoch.
func (p *pacer) clock() int64 { return p.at(time.Now()) }

// at is t in ns since the pacer's epoch.
func (p *pacer) at(t time.Time) int64 { return int64(t.Sub(p.epoch)) }

// add asks the pacer to start c's writer once WriteCoalesce has passed since
// its last write (lastWrite, ns since epoch; 0: never). c.qmu is held.
func (p *pacer) add(c *conn, lastWrite int64) {
	at := int64(0)
	if lastWrite != 0 && p.every > 0 {
		at = lastWrite + int64(p.every)
		if at <= p.clock() {
			at = 0
		}
	}
	p.mu.Lock()
	wake := false
	if at == 0 {
		wake = len(p.now) == 0
		p.now = append(p.now, c)
	} else {
		p.later = append(p.later, pacedConn{c, at})
		wake = p.next == 0 || at < p.next
		if wake {
			p.next = at
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

// take returns the connections that are due and when the next one is (0:
// none waits).
func (p *pacer) take(ready []*conn) ([]*conn, int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ready = append(ready, p.now...)
	clear(p.now)
	p.now = p.now[:0]
	now := p.clock()
	for p.head < len(p.later) && p.later[p.head].at <= now {
		ready = append(ready, p.later[p.head].c)
		p.later[p.head] = pacedConn{}
		p.head++
	}
	if p.head == len(p.later) {
		p.later, p.head = p.later[:0], 0
	} else if p.head > len(p.later)/2 {
		n := copy(p.later, p.later[p.head:])
		clear(p.later[n:])
		p.later, p.head = p.later[:n], 0
	}
	p.next = 0
	if p.head < len(p.later) {
		p.next = p.later[p.head].at
	}
	return ready, p.next
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
		if next != 0 {
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
