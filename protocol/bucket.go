package protocol

import "time"

// Bucket is a token bucket, the form of every rate limit (an edge's user
// and channel limits, _setattr_limit, the server API's): it refills at the
// limit's rate and holds at most one second of it (the burst), so a sender
// may go as fast as it likes for a moment and averages no more than the
// limit over any longer time. A fixed one-second window refused senders that stayed under the
// limit on average but caught up after a pause; a bucket lets them through
// and still refuses a sustained excess. The zero bucket is full.
type Bucket struct {
	Tokens float64   // may go below zero: messages other edges let through
	Last   time.Time // when Tokens was last brought up to date; zero: never
}

// refill brings the bucket up to now at rate per second, capped at one
// second's worth.
func (b *Bucket) refill(now time.Time, rate int) {
	burst := float64(rate)
	if b.Last.IsZero() {
		b.Tokens, b.Last = burst, now
		return
	}
	if d := now.Sub(b.Last); d > 0 {
		b.Tokens += d.Seconds() * float64(rate)
		b.Last = now
	}
	if b.Tokens > burst {
		b.Tokens = burst
	}
}

// Allow reports whether one more event fits under rate per second, and
// takes its token if it does.
func (b *Bucket) Allow(now time.Time, rate int) bool {
	b.refill(now, rate)
	if b.Tokens < 1 {
		return false
	}
	b.Tokens--
	return true
}

// Add takes a token for an event that happened whatever the limit (a
// channel message another edge let through). The debt is capped at one
// second's worth, so that a channel another edge flooded recovers here
// within a second of the flood's end.
func (b *Bucket) Add(now time.Time, rate int) {
	b.refill(now, rate)
	if b.Tokens > -float64(rate) {
		b.Tokens--
	}
}
