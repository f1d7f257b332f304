package api

// The request and response bodies of the API (docs/api/openapi.yaml). The
// Go client (client.go) and sbctl use the same types.

// MessageRequest is a peer or channel message. From names the sending
// account; empty sends as SystemAccount.
type MessageRequest struct {
	From string `json:"from,omitempty"`
	Msg  string `json:"msg"`
}

// Results of a message.
const (
	// ResultDelivered: the receiving client acknowledged the peer message.
	ResultDelivered = "delivered"
	// ResultOffline: the account has no session; nothing was delivered.
	ResultOffline = "offline"
	// ResultSent: NATS took the channel message and passed it on to every
	// edge with a member in the channel.
	ResultSent = "sent"
	// ResultKicked: the account's session is over.
	ResultKicked = "kicked"
)

// MessageResponse says what became of a message.
type MessageResponse struct {
	Result string `json:"result"`
}

// OnlineRequest names up to 256 accounts.
type OnlineRequest struct {
	Accounts []string `json:"accounts"`
}

// OnlineResponse answers each account, in the order asked.
type OnlineResponse struct {
	Accounts []AccountStatus `json:"accounts"`
}

// AccountStatus is one account's presence.
type AccountStatus struct {
	Account string `json:"account"`
	Online  bool   `json:"online"`
}

// MembersResponse is a page of a channel's members, in the order they
// joined, and their count.
type MembersResponse struct {
	Channel string   `json:"channel"`
	Count   int      `json:"count"`
	Offset  int      `json:"offset"`
	Members []string `json:"members"`
}

// AttrsResponse is every attribute of a channel or of an account.
type AttrsResponse struct {
	Channel string            `json:"channel,omitempty"`
	Account string            `json:"account,omitempty"`
	Attrs   map[string]string `json:"attrs"`
}

// AttrRequest is the new value of an attribute.
type AttrRequest struct {
	Value string `json:"value"`
}

// AttrResponse is an attribute as written ("" and no value after a
// delete; no name after a clear).
type AttrResponse struct {
	Channel string  `json:"channel,omitempty"`
	Account string  `json:"account,omitempty"`
	Name    string  `json:"name,omitempty"`
	Value   *string `json:"value,omitempty"`
}

// KickRequest optionally says why; the client sees it in onError.
type KickRequest struct {
	Reason string `json:"reason,omitempty"`
}

// TokenRequest asks for a SignalingToken. TTL is in seconds from now
// (default 86400; 0 never expires); Expires, when set, is the absolute
// Unix time instead. Version is 1 (Agora's MD5, the default) or 2
// (HMAC-SHA256, recommended).
type TokenRequest struct {
	TTL     *int64 `json:"ttl,omitempty"`
	Expires int64  `json:"expires,omitempty"`
	Version int    `json:"version,omitempty"`
}

// TokenResponse is a token and its expiry (0: never).
type TokenResponse struct {
	Account string `json:"account"`
	Token   string `json:"token"`
	Expires int64  `json:"expires"`
}

// WebhookTestResponse names the test event published.
type WebhookTestResponse struct {
	EventID string `json:"eventId"`
}
