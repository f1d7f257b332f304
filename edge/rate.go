package edge

import "time"

// bucket is a token bucket: it refills at the limit's rate and holds at
// most one second of it (the burst), so a sender may go as fast as it
// likes for a moment and averages no more than the limit over any longer
// time. A fixed one-second window refused senders that stayed under the
// limit on average but caught up after a pause; a bucket lets them through
// and still refuses a sustained excess. The zero bucket is full.
type bucket struct {
	tokens float64   // may go below zero: messages other edges let through
	last   time.Time // when tokens was last brought up to date; zero: never
}

// refill brings the bucket up to now at rate per second, capped at one
// second's worth.
func (b *bucket) refill(now time.Time, rate int) {
	burst := float64(rate)
	if b.last.IsZero() {
		b.tokens, b.last = burst, now
		return
	}
	if d := now.Sub(b.last); d > 0 {
		b.tokens += d.Seconds() * float64(rate)
		b.last = now
	}
	if b.tokens > burst {
		b.tokens = burst
	}
}

// allow reports whether one more event fits under rate per second, and
// takes its token if it does.
func (b *bucket) allow(now time.Time, rate int) bool {
	b.refill(now, rate)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// add takes a token for an event that happened whatever the limit (a
// channel message another edge let through). The debt is capped at one
// second's worth, so that a channel another edge flooded recovers here
// within a second of the flood's end.
func (b *bucket) add(now time.Time, rate int) {
	b.refill(now, rate)
	if b.tokens > -float64(rate) {
		b.tokens--
	}
}
