package webhooks

import "time"

// Backoff is the wait before attempt n+1 of a delivery after attempt n
// (n ≥ 1) failed: base doubled for each failed attempt after the first,
// capped at max. With the defaults, 1 s, 2 s, 4 s, … 32 s, then 60 s for as
// long as the receiver fails.
func Backoff(n int, base, max time.Duration) time.Duration {
	if n < 1 {
		n = 1
	}
	d := base
	for i := 1; i < n; i++ {
		if d >= max/2 {
			return max
		}
		d *= 2
	}
	return min(d, max)
}
