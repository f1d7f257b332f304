package edge

import (
	"container/heap"
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"github.com/switchboard-io/switchboard/protocol"
)

// _auto_update_num. A channel with _auto_update_num=N gets
// onChannelAttrUpdated("_member_num") every N seconds. The cost of that must
// not grow with the channels one user can set it on, so:
//
//   - the count comes from memory: the workers publish a channel's member
//     count after every change of its member list (protocol.HdrMemberNum),
//     and a join's snapshot holds it too; the edge keeps the newest, by
//     member list revision;
//   - one schedule per edge (a heap of due times, one goroutine) pushes
//     every such channel, so that a tick costs only the channels due;
//   - KV is read only for a count the edge does not know (sessions moved in
//     from another edge) or has not heard of for autoRecheck (a count
//     message lost with a NATS reconnection), and never more than
//     autoReadsPerSecond times a second per edge, however many channels.

const (
	// autoMinGap is the least time between two pushes of one channel,
	// whatever its setting does (the API's least interval is a second).
	autoMinGap = time.Second
	// autoRecheck is how long a count may go unconfirmed before the edge
	// reads it again.
	autoRecheck = 5 * time.Minute
	// autoReadsPerSecond bounds this edge's KV reads of member counts.
	autoReadsPerSecond = 10
)

// memberNum is what the edge knows of a channel's member count.
type memberNum struct {
	n       int
	rev     uint64 // the member list revision n is as of
	known   bool
	at      time.Time // when a worker, a snapshot or KV last told it
	reading bool      // a KV read is under way
	frame   *frame    // the push frame for n, built at its first push
}

// set records n as of revision rev unless a newer count is known.
func (m *memberNum) set(n int, rev uint64, now time.Time) {
	if m.known && rev < m.rev {
		return
	}
	if !m.known || n != m.n {
		m.frame = nil
	}
	m.n, m.rev, m.known, m.at = n, rev, true, now
}

// onMemberNum records a worker's count message. ch.mu is not held.
func (ch *channel) onMemberNum(num, rev string) {
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 {
		return
	}
	r, _ := strconv.ParseUint(rev, 10, 64)
	ch.mu.Lock()
	ch.num.set(n, r, time.Now())
	ch.mu.Unlock()
}

// applyMemberNum records the count of a join's snapshot (its _member_num,
// as of the member list revision rev). ch.mu is held.
func (ch *channel) applyMemberNum(num string, rev uint64) {
	if n, err := strconv.Atoi(num); err == nil && n >= 0 {
		ch.num.set(n, rev, time.Now())
	}
}

// syncAuto schedules the channel's pushes at the interval it asks for, or
// takes it off the schedule. ch.mu is held.
func (ch *channel) syncAuto() {
	every := time.Duration(ch.autoEvery.v) * time.Second
	if ch.closed || ch.special {
		every = 0
	}
	if (ch.auto == nil && every == 0) || (ch.auto != nil && ch.auto.every == every) {
		return
	}
	if ch.auto != nil {
		ch.srv.auto.remove(ch.auto)
		ch.auto = nil
	}
	if every > 0 {
		ch.auto = &autoEntry{ch: ch, every: every, due: time.Now().Add(max(every, autoMinGap)), idx: -1}
		ch.srv.auto.add(ch.srv, ch.auto)
	}
}

// autoPush is the schedule's call for e, due at or before now: it puts the
// channel back on the schedule and pushes its count to the local members. A
// channel whose setting changed since e was taken off the heap has a new
// entry, and e is dropped.
func (ch *channel) autoPush(e *autoEntry, now time.Time) {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.auto != e {
		return
	}
	e.due = e.due.Add(e.every)
	if floor := now.Add(autoMinGap); e.due.Before(floor) {
		e.due = floor // behind: no burst to catch up
	}
	ch.srv.auto.add(ch.srv, e)

	anyJoined := false
	for _, m := range ch.members {
		anyJoined = anyJoined || m.joined
	}
	if !anyJoined {
		return
	}
	if !ch.num.reading && (!ch.num.known || now.Sub(ch.num.at) > autoRecheck) && ch.srv.auto.takeRead(now) {
		ch.num.reading = true
		go ch.readMemberNum()
	}
	if !ch.num.known {
		return
	}
	if ch.num.frame == nil {
		data, err := json.Marshal(protocol.Event{
			Ev: protocol.EvChannelAttrUpdated, ChannelID: ch.key.name,
			Name: attrMemberNum, Value: strconv.Itoa(ch.num.n), Type: protocol.AttrUpdate,
		})
		if err != nil {
			return
		}
		ch.num.frame = newSharedFrame(data)
	}
	for sess, m := range ch.members {
		if m.joined {
			sess.deliverFrame(ch.num.frame, "")
		}
	}
}

// readMemberNum reads the channel's member count from KV.
func (ch *channel) readMemberNum() {
	ctx, cancel := context.WithTimeout(ch.srv.ctx, ch.srv.cfg.RequestTimeout)
	members, rev, err := ch.srv.store.ChannelMembers(ctx, ch.key.app, ch.key.name)
	cancel()
	if err != nil {
		ch.srv.log.Warn("reading a channel's member count failed", "err", err)
	}
	ch.mu.Lock()
	defer ch.mu.Unlock()
	ch.num.reading = false
	if err == nil {
		ch.num.set(len(members), rev, time.Now())
	}
}

// autoSchedule pushes the _auto_update_num channels of one edge: a heap of
// their due times and one goroutine, started with the first entry, that
// sleeps until the earliest. Lock order: channel.mu before autoSchedule.mu;
// the goroutine never holds mu while it calls a channel.
type autoSchedule struct {
	start sync.Once
	wake  chan struct{} // an entry became the earliest

	mu       sync.Mutex
	due      autoHeap
	readWin  time.Time // the second the reads are counted in
	readsWin int
}

// autoEntry is one channel on the schedule.
type autoEntry struct {
	ch    *channel
	every time.Duration
	due   time.Time
	idx   int // in the heap; -1 when not in it
}

// add puts e on the schedule.
func (a *autoSchedule) add(s *Server, e *autoEntry) {
	a.start.Do(func() {
		a.wake = make(chan struct{}, 1)
		go a.run(s)
	})
	a.mu.Lock()
	heap.Push(&a.due, e)
	first := e.idx == 0
	a.mu.Unlock()
	if first {
		select {
		case a.wake <- struct{}{}:
		default:
		}
	}
}

// remove takes e off the schedule if it is on it.
func (a *autoSchedule) remove(e *autoEntry) {
	a.mu.Lock()
	if e.idx >= 0 {
		heap.Remove(&a.due, e.idx)
	}
	a.mu.Unlock()
}

// takeRead reports whether a KV read of a count fits in this second's
// budget, and counts it.
func (a *autoSchedule) takeRead(now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if now.Sub(a.readWin) >= time.Second {
		a.readWin, a.readsWin = now, 0
	}
	if a.readsWin >= autoReadsPerSecond {
		return false
	}
	a.readsWin++
	return true
}

// size is how many channels are on the schedule.
func (a *autoSchedule) size() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.due)
}

// run pushes the channels that are due, then sleeps until the next one is,
// until the edge stops.
func (a *autoSchedule) run(s *Server) {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		now := time.Now()
		var ready []*autoEntry
		wait := time.Hour
		a.mu.Lock()
		for len(a.due) > 0 && !a.due[0].due.After(now) {
			ready = append(ready, heap.Pop(&a.due).(*autoEntry))
		}
		if len(a.due) > 0 {
			wait = a.due[0].due.Sub(now)
		}
		a.mu.Unlock()
		if len(ready) > 0 {
			for _, e := range ready {
				e.ch.autoPush(e, now)
			}
			continue
		}
		t.Reset(wait)
		select {
		case <-s.ctx.Done():
			return
		case <-a.wake:
		case <-t.C:
		}
	}
}

// autoHeap orders entries by due time (container/heap).
type autoHeap []*autoEntry

func (h autoHeap) Len() int           { return len(h) }
func (h autoHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h autoHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx, h[j].idx = i, j
}
func (h *autoHeap) Push(x any) {
	e := x.(*autoEntry)
	e.idx = len(*h)
	*h = append(*h, e)
}
func (h *autoHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	e.idx = -1
	*h = old[:len(old)-1]
	return e
}
