package protocol

// Request operations: the API's method names. getStatus, isOnline,
// getSdkVersion, destroy, callbackSet and callbackGet are answered by the SDK
// itself and never reach the server.
const (
	OpLogin                   = "login"
	OpLogin2                  = "login2"
	OpLogout                  = "logout"
	OpQueryUserStatus         = "queryUserStatus"
	OpSetAttr                 = "setAttr"
	OpGetAttr                 = "getAttr"
	OpGetAttrAll              = "getAttrAll"
	OpGetUserAttr             = "getUserAttr"
	OpGetUserAttrAll          = "getUserAttrAll"
	OpInvoke                  = "invoke"
	OpMessageInstantSend      = "messageInstantSend"
	OpChannelJoin             = "channelJoin"
	OpChannelLeave            = "channelLeave"
	OpChannelQueryUserNum     = "channelQueryUserNum"
	OpChannelQueryUserIsIn    = "channelQueryUserIsIn"
	OpChannelSetAttr          = "channelSetAttr"
	OpChannelDelAttr          = "channelDelAttr"
	OpChannelClearAttr        = "channelClearAttr"
	OpMessageChannelSend      = "messageChannelSend"
	OpMessageChannelSendForce = "messageChannelSendForce"
	OpChannelInviteUser       = "channelInviteUser"
	OpChannelInviteUser2      = "channelInviteUser2"
	OpChannelInviteDTMF       = "channelInviteDTMF"
	OpChannelInviteAccept     = "channelInviteAccept"
	OpChannelInviteRefuse     = "channelInviteRefuse"
	OpChannelInviteEnd        = "channelInviteEnd"
	OpMessageDTMFSend         = "messageDTMFSend"
	OpChannelInvitePhone      = "channelInvitePhone"
	OpChannelInvitePhone2     = "channelInvitePhone2"
	OpChannelInvitePhone3     = "channelInvitePhone3"

	// OpResume reattaches a new connection to a session that lost its
	// connection, with AppID, Account, Session (the secret) and N.
	OpResume = "resume"
	// OpAck tells the edge how many event frames the client has received.
	OpAck = "ack"
)

// Events: the API's callback names, plus the protocol's own control events.
const (
	EvLoginSuccess              = "onLoginSuccess"
	EvLoginFailed               = "onLoginFailed"
	EvLogout                    = "onLogout"
	EvReconnecting              = "onReconnecting"
	EvReconnected               = "onReconnected"
	EvQueryUserStatusResult     = "onQueryUserStatusResult"
	EvError                     = "onError"
	EvLog                       = "onLog"
	EvInvokeRet                 = "onInvokeRet"
	EvUserAttrResult            = "onUserAttrResult"
	EvUserAttrAllResult         = "onUserAttrAllResult"
	EvMessageSendSuccess        = "onMessageSendSuccess"
	EvMessageSendError          = "onMessageSendError"
	EvMessageInstantReceive     = "onMessageInstantReceive"
	EvMessageChannelReceive     = "onMessageChannelReceive"
	EvChannelJoined             = "onChannelJoined"
	EvChannelJoinFailed         = "onChannelJoinFailed"
	EvChannelLeaved             = "onChannelLeaved"
	EvChannelUserJoined         = "onChannelUserJoined"
	EvChannelUserLeaved         = "onChannelUserLeaved"
	EvChannelUserList           = "onChannelUserList"
	EvChannelQueryUserNumResult = "onChannelQueryUserNumResult"
	EvChannelQueryUserIsIn      = "onChannelQueryUserIsIn"
	EvChannelAttrUpdated        = "onChannelAttrUpdated"
	EvInviteReceived            = "onInviteReceived"
	EvInviteReceivedByPeer      = "onInviteReceivedByPeer"
	EvInviteAcceptedByPeer      = "onInviteAcceptedByPeer"
	EvInviteRefusedByPeer       = "onInviteRefusedByPeer"
	EvInviteFailed              = "onInviteFailed"
	EvInviteEndByPeer           = "onInviteEndByPeer"
	EvInviteEndByMyself         = "onInviteEndByMyself"
	EvInviteMsg                 = "onInviteMsg"

	// EvHello is the first frame of every connection: protocol version and
	// keep-alive interval.
	EvHello = "hello"
	// EvResumeFailed answers an OpResume whose session is gone; the client
	// logs in afresh.
	EvResumeFailed = "resumeFailed"
	// EvMove asks the client to reconnect elsewhere and resume (edge drain).
	EvMove = "move"
)

// Channel attribute change types of onChannelAttrUpdated.
const (
	AttrUpdate = "update"
	AttrDel    = "del"
	AttrClear  = "clear"
)
