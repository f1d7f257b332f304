package api

import (
	"sync"
	"time"
)

// limiter counts events per key in one-second windows from each key's
// first event, as an edge counts a user's messages.
type limiter struct {
	mu  sync.Mutex
	win map[string]*window
}

type window struct {
	start time.Time
	n     int
}

// sweepAt is how many keys the limiter holds before it forgets the idle.
const sweepAt = 10000

// allow reports whether one more event of key fits under limit per second.
func (l *limiter) allow(key string, limit int) bool {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.win == nil {
		l.win = map[string]*window{}
	}
	w := l.win[key]
	if w == nil {
		if len(l.win) >= sweepAt {
			for k, v := range l.win {
				if now.Sub(v.start) >= time.Second {
					delete(l.win, k)
				}
			}
		}
		w = &window{start: now}
		l.win[key] = w
	}
	if now.Sub(w.start) >= time.Second {
		w.start, w.n = now, 0
	}
	if w.n >= limit {
		return false
	}
	w.n++
	return true
}
