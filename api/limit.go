package api

import (
	"sync"
	"time"
)

// limiter keeps a token bucket per key, as an edge does for a user's and a
// channel's messages (edge/rate.go): it refills at the limit's rate and
// holds one second's worth, so a caller under the limit on average is not
// refused for catching up after a pause, and a sustained excess is.
type limiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// sweepAt is how many keys the limiter holds before it forgets those whose
// buckets have refilled (idle for a second or more).
const sweepAt = 10000

// allow reports whether one more event of key fits under rate per second,
// and takes its token if it does.
func (l *limiter) allow(key string, rate int) bool {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = map[string]*bucket{}
	}
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= sweepAt {
			for k, v := range l.buckets {
				if now.Sub(v.last) >= time.Second {
					delete(l.buckets, k)
				}
			}
		}
		b = &bucket{tokens: float64(rate), last: now}
		l.buckets[key] = b
	}
	b.tokens = min(b.tokens+now.Sub(b.last).Seconds()*float64(rate), float64(rate))
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
