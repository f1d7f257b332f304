package sdk

import "testing"

// TestDestroy_ReturnsWithNoGoroutineLeft: when Destroy returns, every
// goroutine of the instance has returned, including the dispatcher's, on a
// busy machine too. It once returned when the dispatcher had closed its done
// channel but was still running, which a loaded scheduler made visible.
func TestDestroy_ReturnsWithNoGoroutineLeft(t *testing.T) {
	for i := 0; i < 10000; i++ {
		c := CreateAgoraSDKInstance("app")
		c.Destroy()
		if n := c.live.Load(); n != 0 {
			t.Fatalf("destroy %d: %d goroutines still running after Destroy returned", i, n)
		}
	}
}
