package protocol

// Call is what an edge sends to the workers, on subjects.Req(app, op), for a
// client request that needs shared state.
type Call struct {
	App string `json:"app"`
	// Account and Session name the caller's session; both are empty before
	// login.
	Account string `json:"account,omitempty"`
	Session string `json:"sid,omitempty"`
	// Edge is the ID of the edge that holds the caller's connection.
	Edge string `json:"edge,omitempty"`
	// Reason is the onChannelLeaved/onLogout code of a leave or logout the
	// edge makes on the user's behalf (logout, disconnect, kick).
	Reason int     `json:"reason,omitempty"`
	Req    Request `json:"req"`
	// API holds the parameters of the server API's own operations
	// (serverapi.go); an edge never sets it for a client's request.
	API *APIArgs `json:"api,omitempty"`
}

// Reply is a worker's answer to a Call: the events for the caller, in order,
// or the error that the edge turns into the operation's failure callback.
type Reply struct {
	Events []Event `json:"events,omitempty"`
	Err    *Error  `json:"err,omitempty"`

	// Login answers: when the token expires (Unix seconds, 0 for never) and
	// the user's _conn_timeout in seconds.
	Expires     int64 `json:"expires,omitempty"`
	ConnTimeout int   `json:"connTimeout,omitempty"`
	// Rev is the revision of the session record a login wrote; the edge
	// refreshes the record's TTL against it.
	Rev uint64 `json:"rev,omitempty"`
	// Channels lists the channels a session is in (resume, logout).
	Channels []string `json:"channels,omitempty"`
	// Edge is the edge that held a resumed session before the resume.
	Edge string `json:"edge,omitempty"`
	// AttrRev is the revision of the channel attributes a join reply
	// reports (Rev is then that of its member list); see HdrMemberRev.
	AttrRev uint64 `json:"attrRev,omitempty"`
}

// NATS headers on deliveries to user and channel subjects. The body of such a
// delivery is the event frame itself, encoded once by whoever publishes it, so
// that edges pass it to sockets without decoding it.
const (
	// HdrFrom names the account that caused the event; an edge does not
	// deliver a channel event to it (no echo, no self-join notice).
	HdrFrom = "Sb-From"
	// HdrSession limits a user delivery to one session ID.
	HdrSession = "Sb-Sid"
	// HdrKind marks deliveries that are more than an event (KindKick, …).
	HdrKind = "Sb-Kind"
	// HdrMemberRev and HdrAttrRev carry, on a channel subject, the revision
	// of the member list or of the attributes whose change the event
	// reports, so that an edge can drop what a member's join snapshot
	// already holds and what arrives after a newer change of the same
	// account or attribute.
	HdrMemberRev = "Sb-Mrev"
	HdrAttrRev   = "Sb-Arev"
	// HdrEdge names the edge that published a channel message; that edge
	// counted it toward the channel's rate when it sent it.
	HdrEdge = "Sb-Edge"
	// HdrResumeN, on a DeliverMoved delivery, is the count of frames the
	// client said it received: the edge that held the session passes on
	// every frame after it.
	HdrResumeN = "Sb-N"
)

// Values of HdrKind.
const (
	// DeliverKick ends the session named by HdrSession: another login took
	// the account. The body is its onLogout event.
	DeliverKick = "kick"
	// DeliverEnd ends the session named by HdrSession without a callback
	// other than the body (token expiry, administrative logout).
	DeliverEnd = "end"
	// DeliverMoved tells the edge that held the session named by
	// HdrSession that its client resumed it on another edge: it lets the
	// session go without a callback and passes on the frames it kept.
	DeliverMoved = "moved"
)
