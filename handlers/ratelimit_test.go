package handlers

import (
	"testing"
	"time"

	"github.com/switchboard-io/switchboard/kv"
)

// _setattr_limit is a bucket: a writer under the limit on average passes
// after a pause, and a sustained excess is refused.
func TestSetAttrLimit_IsATokenBucket(t *testing.T) {
	var cur kv.ChannelAttrs
	t0 := time.Unix(1000, 0)
	// 2 writes, a pause, then 3 at once, within one second under 4/s: a
	// one-second window refused the last one.
	for i, at := range []time.Duration{0, 100 * time.Millisecond, 900 * time.Millisecond, 900 * time.Millisecond, 900 * time.Millisecond} {
		if !takeToken(&cur, t0.Add(at), 4) {
			t.Fatalf("write %d at %v refused", i, at)
		}
	}
	// 8 a second for 5 s: 4/s pass, and the rest are refused.
	passed := 0
	for i := range 40 {
		if takeToken(&cur, t0.Add(time.Second+time.Duration(i)*time.Second/8), 4) {
			passed++
		}
	}
	if passed < 19 || passed > 22 {
		t.Fatalf("%d of 40 writes at 8/s for 5 s passed, want about 20", passed)
	}
}
