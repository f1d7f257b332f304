package sdk

import "sync"

// dispatcher runs a client's callbacks, in the order they were posted, on one
// goroutine. Its queue is unbounded on purpose: the socket reader posts and
// moves on, so a slow callback delays later callbacks but never stalls the
// reader, its acknowledgements or the keep-alive (which would get the
// connection closed by the edge).
type dispatcher struct {
	get func() Callback // the callback at the time of the call, not of the post

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []func(Callback)
	stopped bool
	busy    bool // a callback is running

	done chan struct{} // closed by the goroutine that runs run, once run has returned
}

func newDispatcher(get func() Callback) *dispatcher {
	d := &dispatcher{get: get, done: make(chan struct{})}
	d.cond = sync.NewCond(&d.mu)
	return d
}

// post queues f. It never blocks on the dispatcher goroutine, so it may be
// called with the client's lock held.
func (d *dispatcher) post(f func(Callback)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		return
	}
	d.queue = append(d.queue, f)
	d.cond.Signal()
}

func (d *dispatcher) run() {
	var batch []func(Callback)
	for {
		d.mu.Lock()
		d.busy = false
		for len(batch) == 0 && len(d.queue) == 0 && !d.stopped {
			d.cond.Wait()
		}
		if d.stopped {
			d.mu.Unlock()
			return
		}
		if len(batch) == 0 {
			// Take the whole queue at once: one lock round per burst, and
			// the backing array goes back to the collector afterwards.
			batch, d.queue = d.queue, nil
		}
		f := batch[0]
		batch[0] = nil
		batch = batch[1:]
		// busy is set under the same lock that stop reads, so stop knows
		// whether a callback may still be running after it returns.
		d.busy = true
		d.mu.Unlock()

		if cb := d.get(); cb != nil {
			f(cb)
		}
	}
}

// stop drops what is queued and ends the goroutine once the callback that is
// running, if any, returns. No callback starts after stop. It reports whether
// a callback was running, in which case the caller must not wait for done: it
// may be that very callback.
func (d *dispatcher) stop() (busy bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stopped = true
	d.queue = nil
	d.cond.Broadcast()
	return d.busy
}
