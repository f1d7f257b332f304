package edge

import (
	"fmt"
	"runtime/debug"
)

// A panic while handling one client's frame or request is a bug, but it must
// cost only that client: it is recovered, logged with its stack (which holds
// no request data) and counted, and the connection it came from is closed.
// Tests and the fuzz test assert that the count stays zero.

// recovered logs and counts a recovered panic.
func (s *Server) recovered(where string, v any) {
	s.panics.Add(1)
	s.log.Error("panic recovered; please report it", "where", where, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
}

// Panics is how many panics this edge recovered from since it started.
func (s *Server) Panics() uint64 { return s.panics.Load() }
