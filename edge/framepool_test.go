package edge

import "testing"

// A pooled frame counts its holders: its maker, a replay buffer and each
// queue. It goes back to the pool at the last release, emptied, and a
// release beyond the holds stops the edge rather than let a frame be
// reused while it is written. Frames not from the pool count nothing.
func TestPooledFrame_LastReleaseEmptiesItAndOneMorePanics(t *testing.T) {
	f := sendSuccessFrame("m1")
	if string(f.data) != `{"ev":"onMessageSendSuccess","messageID":"m1"}` {
		t.Fatalf("frame %s", f.data)
	}
	f.hold() // the replay buffer
	f.hold() // a queue
	f.release()
	f.release()
	if n := f.refs.Load(); n != 1 || len(f.data) == 0 {
		t.Fatalf("after two of three releases: %d holders, %d bytes", n, len(f.data))
	}
	f.release()
	if n := f.refs.Load(); n != 0 || len(f.data) != 0 {
		t.Fatalf("after the last release: %d holders, %d bytes", n, len(f.data))
	}
	// One more release, on a frame of its own: f is the pool's now.
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("a release beyond the holds did not panic")
			}
		}()
		g := &frame{pooled: true}
		g.release()
	}()

	plain := newFrame([]byte(`{}`))
	plain.hold()
	plain.release()
	plain.release()
	if plain.refs.Load() != 0 || string(plain.data) != `{}` {
		t.Fatal("a frame not from the pool was counted")
	}
}
