package sdk

// Callback receives the SDK's callbacks: the ICallBack of the Signaling API
// v1.4, in Go casing, with the API's parameters in the API's order. Every
// callback of one Client is called on one goroutine, in the order the events
// happened; a callback that blocks delays the callbacks after it but never the
// connection. Embed NoopCallback to implement only the callbacks you need.
type Callback interface {
	OnReconnecting(nretry uint32)
	OnReconnected(fd int)
	OnLoginSuccess(uid uint32, fd int)
	OnLogout(ecode int)
	OnLoginFailed(ecode int)
	OnChannelJoined(channelID string)
	OnChannelJoinFailed(channelID string, ecode int)
	OnChannelLeaved(channelID string, ecode int)
	OnChannelUserJoined(account string, uid uint32)
	OnChannelUserLeaved(account string, uid uint32)
	OnChannelUserList(n int, accounts []string, uids []uint32)
	OnChannelQueryUserNumResult(channelID string, ecode, num int)
	OnChannelQueryUserIsIn(channelID, account string, isIn int)
	OnChannelAttrUpdated(channelID, name, value, typ string)
	OnInviteReceived(channelID, account string, uid uint32, extra string)
	OnInviteReceivedByPeer(channelID, account string, uid uint32)
	OnInviteAcceptedByPeer(channelID, account string, uid uint32, extra string)
	OnInviteRefusedByPeer(channelID, account string, uid uint32, extra string)
	OnInviteFailed(channelID, account string, uid uint32, ecode int, extra string)
	OnInviteEndByPeer(channelID, account string, uid uint32, extra string)
	OnInviteEndByMyself(channelID, account string, uid uint32)
	OnInviteMsg(channelID, account string, uid int, msgType, msgData, extra string)
	OnMessageSendError(messageID string, ecode int)
	OnMessageSendSuccess(messageID string)
	OnMessageInstantReceive(account string, uid uint32, msg string)
	OnMessageChannelReceive(channelID, account string, uid uint32, msg string)
	OnLog(txt string)
	OnInvokeRet(callID, err, resp string)
	OnUserAttrResult(account, name, value string)
	OnUserAttrAllResult(account, value string)
	OnError(name string, ecode int, desc string)
	OnQueryUserStatusResult(name, status string)
}

// ChannelUserCallback is an optional extension of Callback. The API's
// OnChannelUserJoined, OnChannelUserLeaved and OnChannelUserList do not say
// which channel they are about, which is ambiguous for a user in several
// channels. When the Callback set with CallbackSet also implements
// ChannelUserCallback, the SDK calls these methods, which name the channel,
// instead of the API-shaped ones.
type ChannelUserCallback interface {
	OnChannelUserJoinedIn(channelID, account string, uid uint32)
	OnChannelUserLeavedIn(channelID, account string, uid uint32)
	OnChannelUserListIn(channelID string, n int, accounts []string, uids []uint32)
}

// NoopCallback implements every method of Callback by doing nothing. Embed it
// in a struct and override the callbacks you care about.
type NoopCallback struct{}

var _ Callback = NoopCallback{}

func (NoopCallback) OnReconnecting(nretry uint32)                              {}
func (NoopCallback) OnReconnected(fd int)                                      {}
func (NoopCallback) OnLoginSuccess(uid uint32, fd int)                         {}
func (NoopCallback) OnLogout(ecode int)                                        {}
func (NoopCallback) OnLoginFailed(ecode int)                                   {}
func (NoopCallback) OnChannelJoined(channelID string)                          {}
func (NoopCallback) OnChannelJoinFailed(channelID string, ecode int)           {}
func (NoopCallback) OnChannelLeaved(channelID string, ecode int)               {}
func (NoopCallback) OnChannelUserJoined(account string, uid uint32)            {}
func (NoopCallback) OnChannelUserLeaved(account string, uid uint32)            {}
func (NoopCallback) OnChannelUserList(n int, accounts []string, uids []uint32) {}
func (NoopCallback) OnChannelQueryUserNumResult(channelID string, ecode, num int) {
}
func (NoopCallback) OnChannelQueryUserIsIn(channelID, account string, isIn int)           {}
func (NoopCallback) OnChannelAttrUpdated(channelID, name, value, typ string)              {}
func (NoopCallback) OnInviteReceived(channelID, account string, uid uint32, extra string) {}
func (NoopCallback) OnInviteReceivedByPeer(channelID, account string, uid uint32)         {}
func (NoopCallback) OnInviteAcceptedByPeer(channelID, account string, uid uint32, extra string) {
}
func (NoopCallback) OnInviteRefusedByPeer(channelID, account string, uid uint32, extra string) {
}
func (NoopCallback) OnInviteFailed(channelID, account string, uid uint32, ecode int, extra string) {
}
func (NoopCallback) OnInviteEndByPeer(channelID, account string, uid uint32, extra string) {}
func (NoopCallback) OnInviteEndByMyself(channelID, account string, uid uint32)             {}
func (NoopCallback) OnInviteMsg(channelID, account string, uid int, msgType, msgData, extra string) {
}
func (NoopCallback) OnMessageSendError(messageID string, ecode int)                 {}
func (NoopCallback) OnMessageSendSuccess(messageID string)                          {}
func (NoopCallback) OnMessageInstantReceive(account string, uid uint32, msg string) {}
func (NoopCallback) OnMessageChannelReceive(channelID, account string, uid uint32, msg string) {
}
func (NoopCallback) OnLog(txt string)                             {}
func (NoopCallback) OnInvokeRet(callID, err, resp string)         {}
func (NoopCallback) OnUserAttrResult(account, name, value string) {}
func (NoopCallback) OnUserAttrAllResult(account, value string)    {}
func (NoopCallback) OnError(name string, ecode int, desc string)  {}
func (NoopCallback) OnQueryUserStatusResult(name, status string)  {}
