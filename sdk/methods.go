package sdk

import "github.com/switchboard-io/switchboard/protocol"

// The request methods of the API. Each sends one request (docs/protocol.md)
// and returns at once; the outcome arrives as the callbacks the API names.
// A request that cannot be sent fails through the same callbacks: 1003 when
// not logged in, 1005 when over 64 KiB, 1001 when more than 1024 requests
// wait for a reconnection.

// QueryUserStatus asks whether account is online: OnQueryUserStatusResult.
func (c *Client) QueryUserStatus(account string) {
	c.send(protocol.Request{Op: protocol.OpQueryUserStatus, Account: account})
}

// SetAttr sets one of the user's own attributes.
func (c *Client) SetAttr(name, value string) {
	c.send(protocol.Request{Op: protocol.OpSetAttr, Name: name, Value: value})
}

// GetAttr reads one of the user's own attributes: OnUserAttrResult.
func (c *Client) GetAttr(name string) {
	c.send(protocol.Request{Op: protocol.OpGetAttr, Name: name})
}

// GetAttrAll reads all the user's own attributes: OnUserAttrAllResult.
func (c *Client) GetAttrAll() {
	c.send(protocol.Request{Op: protocol.OpGetAttrAll})
}

// GetUserAttr reads an attribute of account: OnUserAttrResult.
func (c *Client) GetUserAttr(account, name string) {
	c.send(protocol.Request{Op: protocol.OpGetUserAttr, Account: account, Name: name})
}

// GetUserAttrAll reads all attributes of account: OnUserAttrAllResult.
func (c *Client) GetUserAttrAll(account string) {
	c.send(protocol.Request{Op: protocol.OpGetUserAttrAll, Account: account})
}

// Invoke makes a remote call: OnInvokeRet(callID, "", resp) with the
// function's JSON reply, or OnInvokeRet(callID, err, resp) with err the
// failure's code in decimal ("1004") and resp {"desc": …}; InvokeError
// decodes the two.
func (c *Client) Invoke(name, req, callID string) {
	c.send(protocol.Request{Op: protocol.OpInvoke, Name: name, Req: req, CallID: callID})
}

// MessageInstantSend sends msg to account: OnMessageSendSuccess once the
// receiver has it, or OnMessageSendError. An empty msgID is replaced by a
// unique one, which those callbacks name.
func (c *Client) MessageInstantSend(account string, uid uint32, msg, msgID string) {
	c.send(protocol.Request{Op: protocol.OpMessageInstantSend, Account: account, UID: uid, Msg: msg, MsgID: orNewMsgID(msgID)})
}

// ChannelJoin joins channelID: OnChannelJoined, OnChannelUserList and the
// channel's attributes, or OnChannelJoinFailed.
func (c *Client) ChannelJoin(channelID string) {
	c.send(protocol.Request{Op: protocol.OpChannelJoin, ChannelID: channelID})
}

// ChannelLeave leaves channelID: OnChannelLeaved(channelID, 602).
func (c *Client) ChannelLeave(channelID string) {
	c.send(protocol.Request{Op: protocol.OpChannelLeave, ChannelID: channelID})
}

// ChannelQueryUserNum counts channelID's members: OnChannelQueryUserNumResult.
func (c *Client) ChannelQueryUserNum(channelID string) {
	c.send(protocol.Request{Op: protocol.OpChannelQueryUserNum, ChannelID: channelID})
}

// ChannelQueryUserIsIn asks whether account is in channelID:
// OnChannelQueryUserIsIn.
func (c *Client) ChannelQueryUserIsIn(channelID, account string) {
	c.send(protocol.Request{Op: protocol.OpChannelQueryUserIsIn, ChannelID: channelID, Account: account})
}

// ChannelSetAttr sets a channel attribute: OnChannelAttrUpdated("update") at
// every member.
func (c *Client) ChannelSetAttr(channelID, name, value string) {
	c.send(protocol.Request{Op: protocol.OpChannelSetAttr, ChannelID: channelID, Name: name, Value: value})
}

// ChannelDelAttr deletes a channel attribute: OnChannelAttrUpdated("del").
func (c *Client) ChannelDelAttr(channelID, name string) {
	c.send(protocol.Request{Op: protocol.OpChannelDelAttr, ChannelID: channelID, Name: name})
}

// ChannelClearAttr deletes all channel attributes:
// OnChannelAttrUpdated("clear").
func (c *Client) ChannelClearAttr(channelID string) {
	c.send(protocol.Request{Op: protocol.OpChannelClearAttr, ChannelID: channelID})
}

// MessageChannelSend sends msg to channelID's members. An empty msgID is
// replaced by a unique one.
func (c *Client) MessageChannelSend(channelID, msg, msgID string) {
	c.send(protocol.Request{Op: protocol.OpMessageChannelSend, ChannelID: channelID, Msg: msg, MsgID: orNewMsgID(msgID)})
}

// MessageChannelSendForce sends msg to channelID without being a member. An
// empty msgID is replaced by a unique one.
func (c *Client) MessageChannelSendForce(channelID, msg, msgID string) {
	c.send(protocol.Request{Op: protocol.OpMessageChannelSendForce, ChannelID: channelID, Msg: msg, MsgID: orNewMsgID(msgID)})
}

// ChannelInviteUser invites account to channelID: OnInviteReceivedByPeer or
// OnInviteFailed.
func (c *Client) ChannelInviteUser(channelID, account string, uid uint32) {
	c.send(protocol.Request{Op: protocol.OpChannelInviteUser, ChannelID: channelID, Account: account, UID: uid})
}

// ChannelInviteUser2 invites account to channelID with extra.
func (c *Client) ChannelInviteUser2(channelID, account, extra string) {
	c.send(protocol.Request{Op: protocol.OpChannelInviteUser2, ChannelID: channelID, Account: account, Extra: extra})
}

// ChannelInviteDTMF sends DTMF tones to a phone call (needs a SIP gateway).
func (c *Client) ChannelInviteDTMF(channelID, phoneNum, dtmf string) {
	c.send(protocol.Request{Op: protocol.OpChannelInviteDTMF, ChannelID: channelID, PhoneNum: phoneNum, DTMF: dtmf})
}

// ChannelInviteAccept accepts account's invitation: the caller gets
// OnInviteAcceptedByPeer.
func (c *Client) ChannelInviteAccept(channelID, account string, uid uint32, extra string) {
	c.send(protocol.Request{Op: protocol.OpChannelInviteAccept, ChannelID: channelID, Account: account, UID: uid, Extra: extra})
}

// ChannelInviteRefuse refuses account's invitation: the caller gets
// OnInviteRefusedByPeer.
func (c *Client) ChannelInviteRefuse(channelID, account string, uid uint32, extra string) {
	c.send(protocol.Request{Op: protocol.OpChannelInviteRefuse, ChannelID: channelID, Account: account, UID: uid, Extra: extra})
}

// ChannelInviteEnd ends a call: OnInviteEndByMyself here, OnInviteEndByPeer
// at account.
func (c *Client) ChannelInviteEnd(channelID, account string, uid uint32) {
	c.send(protocol.Request{Op: protocol.OpChannelInviteEnd, ChannelID: channelID, Account: account, UID: uid})
}

// MessageDTMFSend is obsolete in the API (needs a SIP gateway).
func (c *Client) MessageDTMFSend(uid uint32, msg, msgID string) {
	c.send(protocol.Request{Op: protocol.OpMessageDTMFSend, UID: uid, Msg: msg, MsgID: orNewMsgID(msgID)})
}

// ChannelInvitePhone is obsolete in the API (needs a SIP gateway).
func (c *Client) ChannelInvitePhone(channelID, phoneNum string, uid uint32) {
	c.send(protocol.Request{Op: protocol.OpChannelInvitePhone, ChannelID: channelID, PhoneNum: phoneNum, UID: uid})
}

// ChannelInvitePhone2 is obsolete in the API (needs a SIP gateway).
func (c *Client) ChannelInvitePhone2(channelID, phoneNum, sourcesNum string) {
	c.send(protocol.Request{Op: protocol.OpChannelInvitePhone2, ChannelID: channelID, PhoneNum: phoneNum, SourcesNum: sourcesNum})
}

// ChannelInvitePhone3 is obsolete in the API (needs a SIP gateway).
func (c *Client) ChannelInvitePhone3(channelID, phoneNum, sourcesNum, extra string) {
	c.send(protocol.Request{Op: protocol.OpChannelInvitePhone3, ChannelID: channelID, PhoneNum: phoneNum, SourcesNum: sourcesNum, Extra: extra})
}
