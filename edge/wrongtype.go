package edge

import (
	"encoding/json"
	"reflect"
	"strconv"

	"github.com/switchboard-io/switchboard/metrics"
	"github.com/switchboard-io/switchboard/protocol"
)

// wrongType answers a request of a known op one of whose fields has the
// wrong JSON type, the way dispatch answers the op with that field missing:
// the op's own failure callback with 1004 (onLoginFailed, onInvokeRet,
// onChannelJoinFailed, …, onError for the rest), after the same checks in
// the same order. The request is never dispatched: the mistyped field was
// left at its zero value, which may pass the op's checks (a uid of 0).
func (c *conn) wrongType(r *protocol.Request, te *json.UnmarshalTypeError) {
	if !protocol.Known(r.Op) {
		c.fail(r, protocol.Errorf(protocol.KindInvalid, "unknown operation"))
		return
	}
	err := protocol.Errorf(protocol.KindInvalid, "%s must be %s", te.Field, jsonKind(te.Type))
	c.mu.Lock()
	busy := c.sess != nil || c.loggingIn
	c.mu.Unlock()
	switch r.Op {
	case protocol.OpLogin, protocol.OpLogin2:
		if busy {
			return // a login while logged in is ignored, as the API says
		}
		r.Op = protocol.OpLogin
		c.loginFailed(r, err)
		c.fail(r, err)
		return
	case protocol.OpResume:
		if busy {
			c.fail(r, protocol.Errorf(protocol.KindConflict, "already in a session"))
			return
		}
		c.resumeFailed(protocol.WrongParam, "malformed resume")
		return
	}
	if c.session() == nil {
		if r.Op != protocol.OpAck {
			c.fail(r, protocol.ErrNotLoggedIn)
		}
		return
	}
	c.srv.Metrics.EdgeRequest(r.Op, metrics.ResultError)
	c.fail(r, err)
}

// jsonKind says, for a description, what JSON a field of Go type t takes.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "of another JSON type"
	}
	switch k := t.Kind(); {
	case k == reflect.String:
		return "a JSON string"
	case k >= reflect.Int && k <= reflect.Int64:
		return "a whole number"
	case k >= reflect.Uint && k <= reflect.Uint64:
		return "a whole number from 0 to " + maxUint(t)
	case k == reflect.Bool:
		return "true or false"
	}
	return "of another JSON type"
}

// maxUint is the largest value of the unsigned type t, in decimal.
func maxUint(t reflect.Type) string {
	return strconv.FormatUint(^uint64(0)>>(64-t.Bits()), 10)
}
