package protocol

// Error codes of the Agora Signaling API v1.4 (AGORA_E_CODE).
const (
	Success = 0

	LogoutOther        = 100
	LogoutUser         = 101
	LogoutNet          = 102
	LogoutKicked       = 103
	LogoutTokenExpired = 105
	LogoutAlready      = 108

	LoginOther        = 200
	LoginNet          = 201
	LoginFailed       = 202
	LoginCancel       = 203
	LoginTokenExpired = 204
	LoginTokenWrong   = 206
	LoginTokenKicked  = 207
	LoginAlready      = 208
	LoginInvalidUser  = 209

	JoinChannelOther = 300

	SendMessageOther   = 400
	SendMessageTimeout = 401

	QueryUserNumOther   = 500
	QueryUserNumTimeout = 501

	LeaveChannelOther   = 600
	LeaveChannelKicked  = 601
	LeaveChannelByUser  = 602
	LeaveChannelLogout  = 603
	LeaveChannelDisconn = 604

	InviteOther       = 700
	InviteReinvite    = 701
	InviteNet         = 702
	InvitePeerOffline = 703
	InviteTimeout     = 704

	General        = 1000
	GeneralFailed  = 1001
	GeneralUnknown = 1002
	NotLoggedIn    = 1003
	WrongParam     = 1004
	LargeParam     = 1005
)
