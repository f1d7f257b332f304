package protocol

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// Kind classifies a failure independently of the operation that met it.
type Kind int

const (
	KindInternal    Kind = iota // anything unexpected; its text never reaches a client
	KindInvalid                 // a malformed or wrong parameter
	KindTooLarge                // a parameter over its limit
	KindNotLoggedIn             // the operation needs a session
	KindNotFound                // the thing named does not exist (an offline peer, no invitation)
	KindConflict                // the state forbids it (a pending invitation, a read-only attribute)
	KindRateLimited             // over a rate limit
	KindUnavailable             // the service cannot do it now, or at all (no SIP gateway)
	KindTimeout                 // no answer in time
)

// Error is a failure a client is told about. Code, when non-zero, is the exact
// Agora code to report; otherwise the operation's mapping derives one from
// Kind. Msg is safe to show to the client.
type Error struct {
	Kind Kind   `json:"kind"`
	Code int    `json:"code,omitempty"`
	Msg  string `json:"msg,omitempty"`
}

func (e *Error) Error() string {
	if e.Code != 0 {
		return fmt.Sprintf("%s (code %d)", e.Msg, e.Code)
	}
	return e.Msg
}

// Errorf returns an *Error of kind k.
func Errorf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...)}
}

// Coded returns an *Error that reports exactly code.
func Coded(k Kind, code int, msg string) *Error {
	return &Error{Kind: k, Code: code, Msg: msg}
}

// Sentinel errors shared by the edge and the handlers.
var (
	ErrNotLoggedIn = &Error{Kind: KindNotLoggedIn, Code: NotLoggedIn, Msg: "not logged in"}
	ErrInternal    = &Error{Kind: KindInternal, Msg: "internal error"}
	ErrTimeout     = &Error{Kind: KindTimeout, Msg: "timed out"}
)

// AsError turns any error into the *Error a client may see: an *Error stays as
// it is, anything else becomes ErrInternal so that its text is never sent.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return ErrInternal
}

// generalCode maps a kind to the general (onError) codes, which every
// operation uses for parameter and session failures.
func generalCode(k Kind) int {
	switch k {
	case KindInvalid:
		return WrongParam
	case KindTooLarge:
		return LargeParam
	case KindNotLoggedIn:
		return NotLoggedIn
	case KindUnavailable, KindConflict, KindNotFound, KindRateLimited:
		return GeneralFailed
	case KindTimeout:
		return General
	}
	return GeneralUnknown
}

// CodeFor is the code that op reports for err.
func CodeFor(op string, err error) int {
	e := AsError(err)
	if e.Code != 0 {
		return e.Code
	}
	switch e.Kind {
	case KindInvalid, KindTooLarge, KindNotLoggedIn:
		return generalCode(e.Kind)
	}
	switch op {
	case OpLogin, OpLogin2:
		switch e.Kind {
		case KindTimeout, KindUnavailable:
			return LoginNet
		}
		return LoginFailed
	case OpChannelJoin:
		return JoinChannelOther
	case OpMessageInstantSend, OpMessageChannelSend, OpMessageChannelSendForce:
		if e.Kind == KindTimeout {
			return SendMessageTimeout
		}
		return SendMessageOther
	case OpChannelQueryUserNum:
		if e.Kind == KindTimeout {
			return QueryUserNumTimeout
		}
		return QueryUserNumOther
	case OpChannelLeave:
		return LeaveChannelOther
	case OpChannelInviteUser, OpChannelInviteUser2, OpChannelInviteAccept,
		OpChannelInviteRefuse, OpChannelInviteEnd:
		switch e.Kind {
		case KindNotFound:
			return InvitePeerOffline
		case KindConflict:
			return InviteReinvite
		case KindTimeout:
			return InviteTimeout
		case KindUnavailable:
			return InviteNet
		}
		return InviteOther
	}
	return generalCode(e.Kind)
}

// FailureEvent is the callback that tells a client its request r failed with
// err: the operation's own failure callback where the API has one, onError
// otherwise. Internal detail never reaches it.
func FailureEvent(r *Request, err error) Event {
	e := AsError(err)
	code := CodeFor(r.Op, e)
	switch r.Op {
	case OpLogin, OpLogin2:
		return Event{Ev: EvLoginFailed, Ecode: code}
	case OpChannelJoin:
		return Event{Ev: EvChannelJoinFailed, ChannelID: r.ChannelID, Ecode: code}
	case OpMessageInstantSend, OpMessageChannelSend, OpMessageChannelSendForce:
		return Event{Ev: EvMessageSendError, MessageID: r.MsgID, Ecode: code}
	case OpChannelQueryUserNum:
		return Event{Ev: EvChannelQueryUserNumResult, ChannelID: r.ChannelID, Ecode: code}
	case OpInvoke:
		return invokeFailure(r.CallID, code, e.Msg)
	case OpChannelInviteUser, OpChannelInviteUser2, OpChannelInviteAccept,
		OpChannelInviteRefuse, OpChannelInviteEnd, OpChannelInviteDTMF,
		OpChannelInvitePhone, OpChannelInvitePhone2, OpChannelInvitePhone3:
		account := r.Account
		if account == "" {
			account = r.PhoneNum
		}
		return Event{Ev: EvInviteFailed, ChannelID: r.ChannelID, Account: account, Ecode: code, Extra: r.Extra}
	}
	return Event{Ev: EvError, Name: r.Op, Ecode: code, Desc: e.Msg}
}

// invokeFailure is the onInvokeRet of a failed invoke. The API calls its
// err "Error code": it is the code, in decimal ("1004"), so that a client
// can tell failures apart without parsing prose; resp, which the API calls
// the returned JSON value, stays JSON and carries the description as
// {"desc": …} (docs/protocol.md, "invoke"). A successful invoke has an empty
// err.
func invokeFailure(callID string, code int, desc string) Event {
	resp, err := json.Marshal(invokeFailureResp{Desc: desc})
	if err != nil {
		resp = []byte(`{}`)
	}
	return Event{Ev: EvInvokeRet, CallID: callID, Err: strconv.Itoa(code), Resp: string(resp)}
}

// invokeFailureResp is the resp of a failed invoke.
type invokeFailureResp struct {
	Desc string `json:"desc"`
}
