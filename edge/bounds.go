package edge

// Bounds on what one connection or session may hold, whatever its client
// does (docs/security.md). A client that reaches one is slowed down
// (requests) or disconnected (frames it does not read); nothing it does
// costs other users memory or time.
const (
	// maxInFlight bounds a connection's requests that wait for a worker,
	// before and after login: when it is reached the edge stops reading
	// the connection's socket until one is answered, so that a flood
	// waits in TCP, not in the edge's memory.
	maxInFlight = 32
	// maxQueueBytes bounds the bytes of frames waiting for a connection's
	// socket, beyond a resume's replay; a client that lets more pile up is
	// closed as a slow consumer (protocol.CloseSlowConsumer).
	maxQueueBytes = 4 << 20
	// maxReplayBytes bounds the bytes of unacknowledged frames a session
	// keeps for a resume (and Config.ReplayFrames their number).
	maxReplayBytes = 4 << 20
	// maxFailedResumes is how many resumes a connection may have refused
	// before it is closed (protocol.CloseResumeFlood).
	maxFailedResumes = 5
)
