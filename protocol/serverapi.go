package protocol

// The server API (package api, docs/server-api.md) calls the workers with
// operations of its own. They are not client requests (hence not named
// Op…, nor in docs/protocol.md) and not in Known, so an edge refuses them
// from a client ("unknown operation"); only the API sets Call.API.
const (
	// APIOnline answers the online status of APIArgs.Accounts: one
	// onQueryUserStatusResult per account, in the order asked.
	APIOnline = "apiOnline"
	// APIMembers answers a page of a channel's members (APIArgs.Offset,
	// APIArgs.Limit) as one onChannelUserList whose N is the member count.
	APIMembers = "apiChannelMembers"
	// APIChannelAttrs answers a channel's attributes, one
	// onChannelAttrUpdated each, in name order.
	APIChannelAttrs = "apiChannelAttrs"
	// APIChannelSetAttr, APIChannelDelAttr and APIChannelClearAttr
	// write a channel's attributes as the app's backend: no membership is
	// needed, and the members hear of it as of any member's write.
	APIChannelSetAttr   = "apiChannelSetAttr"
	APIChannelDelAttr   = "apiChannelDelAttr"
	APIChannelClearAttr = "apiChannelClearAttr"
	// APIKick ends the session of Req.Account with onLogout(LogoutOther),
	// after onError(APIArgs.Reason) when a reason is given.
	APIKick = "apiKick"
)

// MaxAPIOnline is how many accounts one online-status query may name.
const MaxAPIOnline = 256

// MaxAPIPage is the largest page of channel members the API answers.
const MaxAPIPage = 1000

// MaxKickReason bounds a kick's reason in bytes.
const MaxKickReason = 1024

// APIArgs are the parameters of the server API's operations that a client
// Request has no field for.
type APIArgs struct {
	Accounts []string `json:"accounts,omitempty"`
	Offset   int      `json:"offset,omitempty"`
	Limit    int      `json:"limit,omitempty"`
	Reason   string   `json:"reason,omitempty"`
}
