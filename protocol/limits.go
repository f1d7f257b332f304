package protocol

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Limits of the API, enforced by the edge before anything reaches NATS (and
// checked again by the handlers and the SDK).
const (
	MaxNameChars     = 128   // account, channel and attribute names, in characters
	MaxMsgBytes      = 8192  // peer and channel messages
	MaxExtraBytes    = 8192  // invitation extra
	MaxUserAttrBytes = 1024  // user attribute value
	MaxChanAttrBytes = 8096  // channel attribute value
	MaxReqBytes      = 8192  // the req of invoke
	MaxFrameBytes    = 65536 // a WebSocket frame; larger ones close the connection
)

// ValidName reports whether s is a legal account, channel or attribute name:
// 1 to 128 visible characters, no space, already in Unicode normalization
// form NFKC.
//
// NFKC folds what looks the same into one spelling: "é" written as e and a
// combining accent (NFD) into the single character (NFC), and full-width
// "ａｌｉｃｅ" into "alice". Requiring it means two names that look the
// same cannot both exist, so one person has one account; refusing rather
// than rewriting means that every callback carries the name the app used.
func ValidName(s string) bool {
	if s == "" || len(s) > MaxNameChars*utf8.UTFMax || !utf8.ValidString(s) {
		return false
	}
	n := 0
	ascii := true
	for _, r := range s {
		n++
		if r <= ' ' || unicode.IsSpace(r) || !unicode.IsGraphic(r) {
			return false
		}
		ascii = ascii && r < utf8.RuneSelf
	}
	// ASCII text is in every normalization form; the check of the rest
	// allocates.
	return n <= MaxNameChars && (ascii || norm.NFKC.IsNormalString(s))
}

// MaxAppIDBytes is the longest app ID, in bytes.
const MaxAppIDBytes = 128

// ValidAppID reports whether s can be an app ID: 1 to MaxAppIDBytes bytes of
// visible ASCII (0x21 to 0x7E). Every app ID a client sends is checked with
// it before it is used in a subject or a key, whatever the operation.
func ValidAppID(s string) bool {
	if s == "" || len(s) > MaxAppIDBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// ValidID reports whether s is usable as a message or call ID: empty, or a
// legal name.
func ValidID(s string) bool { return s == "" || ValidName(s) }

// Validate checks the parameters of r against the API's rules. It returns nil
// for operations it does not know; callers reject unknown operations first.
func Validate(r *Request) error {
	switch r.Op {
	case OpLogin, OpLogin2:
		if !ValidName(r.Account) {
			return Errorf(KindInvalid, "account must be 1 to 128 visible characters without spaces, in NFKC")
		}
		if !ValidAppID(r.AppID) {
			return Errorf(KindInvalid, "appId must be 1 to 128 visible ASCII characters")
		}
		if len(r.Token) > 1024 || len(r.DeviceID) > 1024 {
			return Errorf(KindTooLarge, "token or deviceID too long")
		}
	case OpQueryUserStatus, OpGetUserAttrAll:
		return name("account", r.Account)
	case OpSetAttr:
		if err := name("name", r.Name); err != nil {
			return err
		}
		return size("value", r.Value, MaxUserAttrBytes)
	case OpGetAttr:
		return name("name", r.Name)
	case OpGetUserAttr:
		if err := name("account", r.Account); err != nil {
			return err
		}
		return name("name", r.Name)
	case OpInvoke:
		if err := name("name", r.Name); err != nil {
			return err
		}
		if !ValidID(r.CallID) {
			return Errorf(KindInvalid, "callID must be at most 128 visible characters")
		}
		return size("req", r.Req, MaxReqBytes)
	case OpMessageInstantSend:
		if err := name("account", r.Account); err != nil {
			return err
		}
		return message(r)
	case OpChannelJoin, OpChannelLeave, OpChannelQueryUserNum, OpChannelClearAttr:
		return name("channelID", r.ChannelID)
	case OpChannelQueryUserIsIn:
		if err := name("channelID", r.ChannelID); err != nil {
			return err
		}
		return name("account", r.Account)
	case OpChannelSetAttr:
		if err := name("channelID", r.ChannelID); err != nil {
			return err
		}
		if err := name("name", r.Name); err != nil {
			return err
		}
		return size("value", r.Value, MaxChanAttrBytes)
	case OpChannelDelAttr:
		if err := name("channelID", r.ChannelID); err != nil {
			return err
		}
		return name("name", r.Name)
	case OpMessageChannelSend, OpMessageChannelSendForce:
		if err := name("channelID", r.ChannelID); err != nil {
			return err
		}
		return message(r)
	case OpChannelInviteUser, OpChannelInviteUser2, OpChannelInviteAccept,
		OpChannelInviteRefuse, OpChannelInviteEnd:
		if err := name("channelID", r.ChannelID); err != nil {
			return err
		}
		if err := name("account", r.Account); err != nil {
			return err
		}
		return size("extra", r.Extra, MaxExtraBytes)
	case OpChannelInviteDTMF, OpChannelInvitePhone, OpChannelInvitePhone2, OpChannelInvitePhone3:
		if err := name("channelID", r.ChannelID); err != nil {
			return err
		}
		return size("extra", r.Extra, MaxExtraBytes)
	case OpMessageDTMFSend:
		return message(r)
	}
	return nil
}

func name(field, s string) error {
	if !ValidName(s) {
		return Errorf(KindInvalid, "%s must be 1 to 128 visible characters without spaces, in NFKC", field)
	}
	return nil
}

func size(field, s string, max int) error {
	if len(s) > max {
		return Errorf(KindTooLarge, "%s is over %d bytes", field, max)
	}
	return nil
}

func message(r *Request) error {
	if !ValidID(r.MsgID) {
		return Errorf(KindInvalid, "msgID must be at most 128 visible characters")
	}
	return size("msg", r.Msg, MaxMsgBytes)
}

// Known reports whether op is a request operation of the protocol.
func Known(op string) bool {
	_, ok := knownOps[op]
	return ok
}

var knownOps = map[string]struct{}{
	OpLogin: {}, OpLogin2: {}, OpLogout: {}, OpQueryUserStatus: {}, OpSetAttr: {},
	OpGetAttr: {}, OpGetAttrAll: {}, OpGetUserAttr: {}, OpGetUserAttrAll: {},
	OpInvoke: {}, OpMessageInstantSend: {}, OpChannelJoin: {}, OpChannelLeave: {},
	OpChannelQueryUserNum: {}, OpChannelQueryUserIsIn: {}, OpChannelSetAttr: {},
	OpChannelDelAttr: {}, OpChannelClearAttr: {}, OpMessageChannelSend: {},
	OpMessageChannelSendForce: {}, OpChannelInviteUser: {}, OpChannelInviteUser2: {},
	OpChannelInviteDTMF: {}, OpChannelInviteAccept: {}, OpChannelInviteRefuse: {},
	OpChannelInviteEnd: {}, OpMessageDTMFSend: {}, OpChannelInvitePhone: {},
	OpChannelInvitePhone2: {}, OpChannelInvitePhone3: {}, OpResume: {}, OpAck: {},
}

// Counted reports whether an event frame counts toward the session's frame
// count (docs/protocol.md: everything but the control frames).
func Counted(ev string) bool {
	switch ev {
	case EvHello, EvLoginSuccess, EvReconnected, EvResumeFailed, EvMove:
		return false
	}
	return true
}
