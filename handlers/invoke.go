package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/switchboard-io/switchboard/protocol"
)

// The functions of invoke (the API's table). Each takes its req as a JSON
// object and answers onInvokeRet(callID, "", resp) with resp a JSON object.
// A failure answers onInvokeRet(callID, code, {"desc": …}) with the code in
// decimal (protocol.FailureEvent): 1004 for a req that is not a JSON object
// or lacks a field, 1005 for a value over its limit, 1001 for a function
// this server does not have or a write it refuses. A function that fails
// changes nothing. docs/user-attributes.md lists requests and replies.
const (
	InvokeUserQueryUserStatus     = "io.agora.signal.user_query_user_status"
	InvokeUserSetAttr             = "io.agora.signal.user_set_attr"
	InvokeUserGetAttr             = "io.agora.signal.user_get_attr"
	InvokeUserGetAttrAll          = "io.agora.signal.user_get_attr_all"
	InvokeChannelQueryNum         = "io.agora.signal.channel_query_num"
	InvokeChannelQueryUserIsIn    = "io.agora.signal.channel_query_user_isin"
	InvokeChannelQueryUserList    = "io.agora.signal.channel_query_userlist"
	InvokeChannelQueryUserListAll = "io.agora.signal.channel_query_userlist_all"
	InvokeChannelClearAttr        = "io.agora.signal.channel_clear_attr"
	InvokeChannelDelAttr          = "io.agora.signal.channel_del_attr"
	InvokeChannelSetAttr          = "io.agora.signal.channel_set_attr"
)

const (
	// invokeUserListLatest is how many members channel_query_userlist
	// lists: the latest, as onChannelUserList does.
	invokeUserListLatest = 200
	// invokeUserListAllDefault is channel_query_userlist_all's default num,
	// and its most.
	invokeUserListAllDefault = 1000 * 1000
	// invokeEmptyResp answers the functions that return nothing.
	invokeEmptyResp = "{}"
)

// invokeFunc is one function of invoke: it returns resp, and for
// user_set_attr of _conn_timeout the session's new conn timeout.
type invokeFunc func(s *Service, ctx context.Context, c *protocol.Call, a invokeArgs) (resp any, connTimeout int, err error)

var invokeFuncs = map[string]invokeFunc{
	InvokeUserQueryUserStatus:     invokeQueryUserStatus,
	InvokeUserSetAttr:             invokeSetAttr,
	InvokeUserGetAttr:             invokeGetAttr,
	InvokeUserGetAttrAll:          invokeGetAttrAll,
	InvokeChannelQueryNum:         invokeChannelNum,
	InvokeChannelQueryUserIsIn:    invokeChannelIsIn,
	InvokeChannelQueryUserList:    invokeChannelUserList,
	InvokeChannelQueryUserListAll: invokeChannelUserListAll,
	InvokeChannelClearAttr:        invokeChannelClearAttr,
	InvokeChannelDelAttr:          invokeChannelDelAttr,
	InvokeChannelSetAttr:          invokeChannelSetAttr,
}

// invoke runs one function of the table.
func (s *Service) invoke(ctx context.Context, c *protocol.Call) (*protocol.Reply, error) {
	f, ok := invokeFuncs[c.Req.Name]
	if !ok {
		return nil, errUnknownFunction(c.Req.Name)
	}
	a, err := parseInvokeArgs(c.Req.Req)
	if err != nil {
		return nil, err
	}
	resp, ct, err := f(s, ctx, c, a)
	if err != nil {
		return nil, err
	}
	var out []byte
	if raw, ok := resp.(json.RawMessage); ok {
		out = raw
	} else if out, err = json.Marshal(resp); err != nil {
		return nil, err
	}
	return &protocol.Reply{
		Events:      []protocol.Event{{Ev: protocol.EvInvokeRet, CallID: c.Req.CallID, Resp: string(out)}},
		ConnTimeout: ct,
	}, nil
}

// errUnknownFunction fails an invoke of a function that is not in the
// table with 1001 (GENERAL_E_FAILED), not 1004: the request is well formed
// (the edge has checked that name is a legal name), this server just does
// not offer that function, as it might not offer one of a later API. 1002
// (GENERAL_E_UNKNOWN) stays what it is everywhere else in Switchboard, an
// internal error the client can do nothing about. The name is the client's
// own, at most 128 characters.
func errUnknownFunction(name string) error {
	return protocol.Coded(protocol.KindNotFound, protocol.GeneralFailed, fmt.Sprintf("unknown function %q", name))
}

// invokeArgs is a decoded req: a JSON object.
type invokeArgs map[string]json.RawMessage

func parseInvokeArgs(req string) (invokeArgs, error) {
	var a invokeArgs
	if err := json.Unmarshal([]byte(req), &a); err != nil || a == nil {
		return nil, protocol.Errorf(protocol.KindInvalid, "req must be a JSON object")
	}
	return a, nil
}

// str returns the string field key, which must be present.
func (a invokeArgs) str(key string) (string, error) {
	raw, ok := a[key]
	var v string
	// Unmarshal takes null for "": insist on a string.
	if !ok || !bytes.HasPrefix(bytes.TrimSpace(raw), []byte(`"`)) || json.Unmarshal(raw, &v) != nil {
		return "", protocol.Errorf(protocol.KindInvalid, "req needs %q as a string", key)
	}
	return v, nil
}

// name returns the field key, which must be a legal name (account, channel
// or attribute name).
func (a invokeArgs) name(key string) (string, error) {
	v, err := a.str(key)
	if err != nil {
		return "", err
	}
	if !protocol.ValidName(v) {
		return "", protocol.Errorf(protocol.KindInvalid, "%q must be 1 to 128 visible characters without spaces", key)
	}
	return v, nil
}

// count returns the optional whole-number field key, def when absent.
func (a invokeArgs) count(key string, def, max int) (int, error) {
	raw, ok := a[key]
	if !ok || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return def, nil
	}
	var n int
	if json.Unmarshal(raw, &n) != nil || n < 0 {
		return 0, protocol.Errorf(protocol.KindInvalid, "%q must be a whole number of at least 0", key)
	}
	return min(n, max), nil
}

func invokeQueryUserStatus(s *Service, ctx context.Context, c *protocol.Call, a invokeArgs) (any, int, error) {
	account, err := a.name("account")
	if err != nil {
		return nil, 0, err
	}
	online, err := s.online(ctx, c.App, account)
	if err != nil {
		return nil, 0, err
	}
	return map[string]int{"status": boolInt(online)}, 0, nil
}

func invokeSetAttr(s *Service, ctx context.Context, c *protocol.Call, a invokeArgs) (any, int, error) {
	name, err := a.str("name")
	if err != nil {
		return nil, 0, err
	}
	value, err := a.str("value")
	if err != nil {
		return nil, 0, err
	}
	ct, err := s.storeUserAttr(ctx, c.App, c.Account, name, value)
	if err != nil {
		return nil, 0, err
	}
	return json.RawMessage(invokeEmptyResp), ct, nil
}

func invokeGetAttr(s *Service, ctx context.Context, c *protocol.Call, a invokeArgs) (any, int, error) {
	account, err := a.name("account")
	if err != nil {
		return nil, 0, err
	}
	name, err := a.name("name")
	if err != nil {
		return nil, 0, err
	}
	attrs, err := s.Store.UserAttrs(ctx, c.App, account)
	if err != nil {
		return nil, 0, err
	}
	return map[string]string{"value": attrs[name]}, 0, nil
}

func invokeGetAttrAll(s *Service, ctx context.Context, c *protocol.Call, a invokeArgs) (any, int, error) {
	account, err := a.name("account")
	if err != nil {
		return nil, 0, err
	}
	all, err := s.userAttrsJSON(ctx, c.App, account)
	if err != nil {
		return nil, 0, err
	}
	return json.RawMessage(all), 0, nil
}

func invokeChannelNum(s *Service, ctx context.Context, c *protocol.Call, a invokeArgs) (any, int, error) {
	channel, err := a.name("name")
	if err != nil {
		return nil, 0, err
	}
	members, err := s.channelMembers(ctx, c.App, channel)
	if err != nil {
		return nil, 0, err
	}
	return map[string]int{"num": len(members)}, 0, nil
}

func invokeChannelIsIn(s *Service, ctx context.Context, c *protocol.Call, a invokeArgs) (any, int, error) {
	channel, err := a.name("name")
	if err != nil {
		return nil, 0, err
	}
	account, err := a.name("account")
	if err != nil {
		return nil, 0, err
	}
	in, err := s.channelIsIn(ctx, c.App, channel, account)
	if err != nil {
		return nil, 0, err
	}
	return map[string]int{"isin": boolInt(in)}, 0, nil
}

// userListResp is the reply of the userlist functions: the number of
// members, and the latest of them (in the order they joined).
type userListResp struct {
	Num  int      `json:"num"`
	List []string `json:"list"`
}

func invokeChannelUserList(s *Service, ctx context.Context, c *protocol.Call, a invokeArgs) (any, int, error) {
	return channelUserList(s, ctx, c, a, false)
}

func invokeChannelUserListAll(s *Service, ctx context.Context, c *protocol.Call, a invokeArgs) (any, int, error) {
	return channelUserList(s, ctx, c, a, true)
}

func channelUserList(s *Service, ctx context.Context, c *protocol.Call, a invokeArgs, all bool) (any, int, error) {
	channel, err := a.name("name")
	if err != nil {
		return nil, 0, err
	}
	limit := invokeUserListLatest
	if all {
		if limit, err = a.count("num", invokeUserListAllDefault, invokeUserListAllDefault); err != nil {
			return nil, 0, err
		}
	}
	members, err := s.channelMembers(ctx, c.App, channel)
	if err != nil {
		return nil, 0, err
	}
	latest := members[max(0, len(members)-limit):]
	if latest == nil {
		latest = []string{}
	}
	return userListResp{Num: len(members), List: latest}, 0, nil
}

func invokeChannelClearAttr(s *Service, ctx context.Context, c *protocol.Call, a invokeArgs) (any, int, error) {
	channel, err := a.name("channel")
	if err != nil {
		return nil, 0, err
	}
	if err := s.clearChannelAttr(ctx, c.App, c.Account, channel); err != nil {
		return nil, 0, err
	}
	return json.RawMessage(invokeEmptyResp), 0, nil
}

func invokeChannelDelAttr(s *Service, ctx context.Context, c *protocol.Call, a invokeArgs) (any, int, error) {
	channel, err := a.name("channel")
	if err != nil {
		return nil, 0, err
	}
	name, err := a.name("name")
	if err != nil {
		return nil, 0, err
	}
	if err := s.delChannelAttr(ctx, c.App, c.Account, channel, name); err != nil {
		return nil, 0, err
	}
	return json.RawMessage(invokeEmptyResp), 0, nil
}

func invokeChannelSetAttr(s *Service, ctx context.Context, c *protocol.Call, a invokeArgs) (any, int, error) {
	channel, err := a.name("channel")
	if err != nil {
		return nil, 0, err
	}
	name, err := a.name("name")
	if err != nil {
		return nil, 0, err
	}
	value, err := a.str("value")
	if err != nil {
		return nil, 0, err
	}
	if len(value) > protocol.MaxChanAttrBytes {
		return nil, 0, protocol.Errorf(protocol.KindTooLarge, "value is over %d bytes", protocol.MaxChanAttrBytes)
	}
	if err := s.setChannelAttr(ctx, c.App, c.Account, channel, name, value); err != nil {
		return nil, 0, err
	}
	return json.RawMessage(invokeEmptyResp), 0, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
