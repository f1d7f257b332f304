package api

import (
	"sync"
	"time"

	"github.com/switchboard-io/switchboard/protocol"
)

// limiter keeps a token bucket per key (protocol.Bucket), as an edge does
// for a user's and a channel's messages: it refills at the limit's rate and
// holds one second's worth, so a caller under the limit on average is not
// refused for catching up after a pause, and a sustained excess is.
type limiter struct {
	mu      sync.Mutex
	buckets map[string]*protocol.Bucket
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
		l.buckets = map[string]*protocol.Bucket{}
	}
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= sweepAt {
			for k, v := range l.buckets {
				if now.Sub(v.Last) >= time.Second {
					delete(l.buckets, k)
				}
			}
		}
		b = &protocol.Bucket{}
		l.buckets[key] = b
	}
	return b.Allow(now, rate)
}
