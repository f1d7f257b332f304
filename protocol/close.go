package protocol

// WebSocket close codes an edge sends besides the standard ones. A client
// must not resume after CloseKicked or CloseTokenExpired: the session is over.
const (
	CloseKicked       = 4001 // another login took the account
	CloseTokenExpired = 4002 // the token expired while online
	CloseSlowConsumer = 4008 // the client did not read its frames fast enough
	CloseSessionLost  = 4009 // the session ended under the connection, or resumed on another
	CloseResumeFlood  = 4010 // too many failed resumes on one connection
	CloseLoginTimeout = 4011 // the connection did not log in in time
	CloseTooMuch      = 4012 // the session held more than its bound (replay buffer, requests)
)

// AckEvery is the most counted frames a client receives before it sends an
// OpAck, so that the edge can drop what it keeps for a resume.
const AckEvery = 64
