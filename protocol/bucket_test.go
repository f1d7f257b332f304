package protocol

import (
	"testing"
	"time"
)

// A sender that stays under the limit on average passes, even when it
// catches up after a pause: 40 messages, a pause, then 30 at once, all
// within one second under a limit of 60. A one-second window refused 10 of
// them.
func TestBucket_CatchUpBurstUnderTheAveragePasses(t *testing.T) {
	var b Bucket
	t0 := time.Unix(1000, 0)
	for i := range 40 {
		if !b.Allow(t0.Add(time.Duration(i)*10*time.Millisecond), 60) {
			t.Fatalf("message %d of the first 40 refused", i)
		}
	}
	for i := range 30 {
		if !b.Allow(t0.Add(900*time.Millisecond), 60) {
			t.Fatalf("message %d of the catch-up burst refused", i)
		}
	}
}

// A full bucket passes one second's worth at once, then no more than the
// rate: over 10 s of a sender trying 120 a second, 60 + 600 pass.
func TestBucket_SustainedExcessIsRefused(t *testing.T) {
	var b Bucket
	t0 := time.Unix(1000, 0)
	passed := 0
	for i := range 1200 {
		if b.Allow(t0.Add(time.Duration(i)*time.Second/120), 60) {
			passed++
		}
	}
	// 10 s at 60/s after a burst of 60, give or take the last token.
	if passed < 659 || passed > 661 {
		t.Fatalf("%d of 1200 passed, want 660 (a burst of 60 and 60/s for 10 s)", passed)
	}
	// At once: the bucket is empty.
	end := t0.Add(10 * time.Second)
	first := b.Allow(end, 60)
	second := b.Allow(end, 60)
	if first && second {
		t.Fatal("an empty bucket let two messages through at once")
	}
}

// Messages other edges let through use the channel's tokens here, and a
// flood elsewhere leaves at most one second of debt.
func TestBucket_OtherEdgesMessagesCount(t *testing.T) {
	var b Bucket
	t0 := time.Unix(1000, 0)
	for range 60 {
		b.Add(t0, 60)
	}
	if b.Allow(t0, 60) {
		t.Fatal("a message passed after another edge used the whole burst")
	}
	for range 10000 {
		b.Add(t0, 60)
	}
	// One second's debt (60), then 1.1 s of refill (66): six tokens.
	if !b.Allow(t0.Add(1100*time.Millisecond), 60) {
		t.Fatal("the channel had not recovered 1.1 s after a flood elsewhere")
	}
}
