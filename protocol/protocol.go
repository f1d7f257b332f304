// Package protocol is the wire contract between clients, edges and workers:
// the JSON frames a client and an edge exchange over WebSocket, the payloads
// that travel on NATS between edges and workers, and the error codes of the
// Agora Signaling API v1.4. The edge, the SDKs and the handlers all use these
// types, so a field renamed here is renamed everywhere.
//
// It imports nothing of Switchboard's own.
package protocol

// Version is the protocol version this build speaks. Client and edge agree on
// it at the WebSocket handshake through the subprotocol "switchboard.v<N>".
const Version = 1

// Subprotocol is the WebSocket subprotocol that selects Version.
const Subprotocol = "switchboard.v1"

// Request is one client-to-server frame. Op is the API method name; the other
// fields are the method's parameters, named as the API names them. Fields a
// method does not take are left out.
type Request struct {
	Op string `json:"op"`

	AppID        string `json:"appId,omitempty"`
	Account      string `json:"account,omitempty"`
	Token        string `json:"token,omitempty"`
	UID          uint32 `json:"uid,omitempty"`
	DeviceID     string `json:"deviceID,omitempty"`
	RetryTimeInS int    `json:"retry_time_in_s,omitempty"`
	RetryCount   int    `json:"retry_count,omitempty"`

	ChannelID  string `json:"channelID,omitempty"`
	Name       string `json:"name,omitempty"`
	Value      string `json:"value,omitempty"`
	Msg        string `json:"msg,omitempty"`
	MsgID      string `json:"msgID,omitempty"`
	Extra      string `json:"extra,omitempty"`
	Req        string `json:"req,omitempty"`
	CallID     string `json:"callID,omitempty"`
	PhoneNum   string `json:"phoneNum,omitempty"`
	SourcesNum string `json:"sourcesNum,omitempty"`
	DTMF       string `json:"dtmf,omitempty"`

	// Session is the resume token of OpResume.
	Session string `json:"session,omitempty"`
	// N counts the event frames the client has received in this session
	// (OpAck, OpResume).
	N uint64 `json:"n,omitempty"`
}

// Event is one server-to-client frame. Ev is the API callback name; the other
// fields are the callback's parameters, named as the API names them. Numeric
// fields that are absent are zero.
type Event struct {
	Ev string `json:"ev"`

	UID       uint32 `json:"uid,omitempty"`
	FD        int    `json:"fd,omitempty"`
	Ecode     int    `json:"ecode,omitempty"`
	ChannelID string `json:"channelID,omitempty"`
	Account   string `json:"account,omitempty"`
	Msg       string `json:"msg,omitempty"`
	MessageID string `json:"messageID,omitempty"`
	Name      string `json:"name,omitempty"`
	Value     string `json:"value,omitempty"`
	Type      string `json:"type,omitempty"`
	Extra     string `json:"extra,omitempty"`
	Status    string `json:"status,omitempty"`
	CallID    string `json:"callID,omitempty"`
	Err       string `json:"err,omitempty"`
	Resp      string `json:"resp,omitempty"`
	Desc      string `json:"desc,omitempty"`
	MsgType   string `json:"msgType,omitempty"`
	MsgData   string `json:"msgData,omitempty"`
	Num       int    `json:"num,omitempty"`
	IsIn      int    `json:"isIn,omitempty"`

	// N, Accounts and Uids are the parameters of onChannelUserList.
	N        int      `json:"n,omitempty"`
	Accounts []string `json:"accounts,omitempty"`
	Uids     []uint32 `json:"uids,omitempty"`

	// Session is the resume token, sent with onLoginSuccess.
	Session string `json:"session,omitempty"`
	// Ack asks the client to acknowledge this frame at once (OpAck): its
	// sender is waiting for the acknowledgement.
	Ack bool `json:"ack,omitempty"`
	// Ping is the keep-alive interval in milliseconds, sent with EvHello.
	Ping int `json:"ping,omitempty"`
	// V is the protocol version, sent with EvHello.
	V int `json:"v,omitempty"`
	// URL is where a client should reconnect to, sent with EvMove.
	URL string `json:"url,omitempty"`
}
