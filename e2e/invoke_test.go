package e2e_test

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/switchboard-io/switchboard/handlers"
	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
	"github.com/switchboard-io/switchboard/sdk"
)

var invokeSeq atomic.Int64

// invokeOK makes u invoke name with req and returns the decoded resp of its
// onInvokeRet, failing the test if err is set or resp is not JSON.
func invokeOK(t *testing.T, u *testenv.User, name, req string) any {
	t.Helper()
	ret := invokeRet(t, u, name, req)
	if ret.Err != "" {
		t.Fatalf("invoke %s %s: err %q", name, req, ret.Err)
	}
	var resp any
	if err := json.Unmarshal([]byte(ret.Resp), &resp); err != nil {
		t.Fatalf("invoke %s %s: resp %q is not JSON: %v", name, req, ret.Resp, err)
	}
	return resp
}

// invokeRet makes u invoke name with req under a fresh call ID and returns
// the onInvokeRet that names that ID.
func invokeRet(t *testing.T, u *testenv.User, name, req string) protocol.Event {
	t.Helper()
	id := "call-" + strconv.FormatInt(invokeSeq.Add(1), 10)
	u.Invoke(name, req, id)
	return u.Wait(t, protocol.EvInvokeRet, func(e protocol.Event) bool { return e.CallID == id })
}

// invokeJSON decodes s, for comparing replies with reflect.DeepEqual.
func invokeJSON(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad test JSON %q: %v", s, err)
	}
	return v
}

func TestInvoke_UserFunctions(t *testing.T) {
	env := testenv.Start(t, testenv.Options{Edges: 2, Workers: 2})
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 1, "bob")

	tests := []struct {
		by        *testenv.User
		name, req string
		want      string
	}{
		{bob, handlers.InvokeUserQueryUserStatus, `{"account":"alice"}`, `{"status":1}`},
		{bob, handlers.InvokeUserQueryUserStatus, `{"account":"nobody"}`, `{"status":0}`},
		{alice, handlers.InvokeUserSetAttr, `{"name":"mood","value":"happy"}`, `{}`},
		{alice, handlers.InvokeUserSetAttr, `{"name":"city","value":"Oslo"}`, `{}`},
		{bob, handlers.InvokeUserGetAttr, `{"account":"alice","name":"mood"}`, `{"value":"happy"}`},
		{bob, handlers.InvokeUserGetAttr, `{"account":"alice","name":"unset"}`, `{"value":""}`},
		{bob, handlers.InvokeUserGetAttrAll, `{"account":"alice"}`, `{"mood":"happy","city":"Oslo"}`},
		{bob, handlers.InvokeUserGetAttrAll, `{"account":"nobody"}`, `{}`},
		{alice, handlers.InvokeUserSetAttr, `{"name":"mood","value":""}`, `{}`},
		{bob, handlers.InvokeUserGetAttrAll, `{"account":"alice"}`, `{"city":"Oslo"}`},
	}
	for _, tt := range tests {
		got := invokeOK(t, tt.by, tt.name, tt.req)
		if want := invokeJSON(t, tt.want); !reflect.DeepEqual(got, want) {
			t.Fatalf("invoke %s %s = %v, want %v", tt.name, tt.req, got, want)
		}
	}
	// invoke and the methods see the same attributes.
	if v := uattr(t, alice, "alice", "city"); v != "Oslo" {
		t.Fatalf("getAttr(city) after invoke user_set_attr = %q", v)
	}
}

// The channel functions use the channel handlers (handlers/channels.go):
// this test passes once channel membership and attributes are in.
func TestInvoke_ChannelFunctions(t *testing.T) {
	env := testenv.Start(t, testenv.Options{Edges: 2, Workers: 2})
	alice := env.LoginUser(t, 0, "alice")
	bob := env.LoginUser(t, 1, "bob")
	carol := env.LoginUser(t, 1, "carol") // never joins
	alice.ChannelJoin("room")
	alice.Wait(t, protocol.EvChannelJoined, testenv.Channel("room"))
	bob.ChannelJoin("room")
	bob.Wait(t, protocol.EvChannelJoined, testenv.Channel("room"))

	queries := []struct{ name, req, want string }{
		{handlers.InvokeChannelQueryNum, `{"name":"room"}`, `{"num":2}`},
		{handlers.InvokeChannelQueryNum, `{"name":"empty"}`, `{"num":0}`},
		{handlers.InvokeChannelQueryUserIsIn, `{"name":"room","account":"alice"}`, `{"isin":1}`},
		{handlers.InvokeChannelQueryUserIsIn, `{"name":"room","account":"carol"}`, `{"isin":0}`},
		{handlers.InvokeChannelQueryUserList, `{"name":"room"}`, `{"num":2,"list":["alice","bob"]}`},
		{handlers.InvokeChannelQueryUserList, `{"name":"empty"}`, `{"num":0,"list":[]}`},
		{handlers.InvokeChannelQueryUserListAll, `{"name":"room"}`, `{"num":2,"list":["alice","bob"]}`},
		{handlers.InvokeChannelQueryUserListAll, `{"name":"room","num":1}`, `{"num":2,"list":["bob"]}`},
	}
	for _, q := range queries {
		got := invokeOK(t, carol, q.name, q.req)
		if want := invokeJSON(t, q.want); !reflect.DeepEqual(got, want) {
			t.Fatalf("invoke %s %s = %v, want %v", q.name, q.req, got, want)
		}
	}

	// The attribute functions are for members, as channelSetAttr and the
	// rest are (docs/channels.md): carol, outside, is refused.
	for _, f := range []struct{ name, req string }{
		{handlers.InvokeChannelSetAttr, `{"channel":"room","name":"topic","value":"go"}`},
		{handlers.InvokeChannelDelAttr, `{"channel":"room","name":"topic"}`},
		{handlers.InvokeChannelClearAttr, `{"channel":"room"}`},
	} {
		ret := invokeRet(t, carol, f.name, f.req)
		if code, desc, _ := sdk.InvokeError(ret.Err, ret.Resp); code != protocol.GeneralFailed || desc != "not a member of the channel" {
			t.Fatalf("invoke %s by a non-member = err %q, resp %q; want 1001, not a member", f.name, ret.Err, ret.Resp)
		}
	}
	// The members hear of them as they do of channelSetAttr and the rest.
	updated := func(name, value, typ string) func(protocol.Event) bool {
		return func(e protocol.Event) bool {
			return e.ChannelID == "room" && e.Name == name && e.Value == value && e.Type == typ
		}
	}
	members := []*testenv.User{alice, bob}
	invokeOK(t, bob, handlers.InvokeChannelSetAttr, `{"channel":"room","name":"topic","value":"go"}`)
	for _, m := range members {
		m.Wait(t, protocol.EvChannelAttrUpdated, updated("topic", "go", protocol.AttrUpdate))
	}
	invokeOK(t, bob, handlers.InvokeChannelSetAttr, `{"channel":"room","name":"mode","value":"quiet"}`)
	for _, m := range members {
		m.Wait(t, protocol.EvChannelAttrUpdated, updated("mode", "quiet", protocol.AttrUpdate))
	}
	invokeOK(t, bob, handlers.InvokeChannelDelAttr, `{"channel":"room","name":"topic"}`)
	for _, m := range members {
		m.Wait(t, protocol.EvChannelAttrUpdated, func(e protocol.Event) bool {
			return e.ChannelID == "room" && e.Name == "topic" && e.Type == protocol.AttrDel
		})
	}
	invokeOK(t, bob, handlers.InvokeChannelClearAttr, `{"channel":"room"}`)
	for _, m := range members {
		m.Wait(t, protocol.EvChannelAttrUpdated, func(e protocol.Event) bool {
			return e.ChannelID == "room" && e.Type == protocol.AttrClear
		})
	}
	// A newcomer finds none of them left (built-in "_" attributes, which
	// the channel keeps itself, aside).
	dave := env.LoginUser(t, 0, "dave")
	dave.ChannelJoin("room")
	dave.Wait(t, protocol.EvChannelUserList, testenv.Channel("room"))
	invokeOK(t, dave, handlers.InvokeChannelQueryNum, `{"name":"room"}`)
	custom := func(e protocol.Event) bool { return !strings.HasPrefix(e.Name, "_") }
	if n := dave.Count(protocol.EvChannelAttrUpdated, custom); n != 0 {
		t.Fatalf("dave joined to %d attributes after channel_clear_attr: %+v", n, dave.Events())
	}
	if n := carol.Count(protocol.EvChannelAttrUpdated); n != 0 {
		t.Fatalf("carol, not a member, got %d onChannelAttrUpdated", n)
	}
}

func TestInvoke_UnknownOrMalformedFailsAndChangesNothing(t *testing.T) {
	env := testenv.Start(t, testenv.Options{Edges: 2, Workers: 2})
	alice := env.LoginUser(t, 0, "alice")
	alice.SetAttr("keep", "me")

	bigUser := strings.Repeat("x", protocol.MaxUserAttrBytes+1)
	bigChan := strings.Repeat("x", protocol.MaxChanAttrBytes+1)
	// err is the API's code in decimal, resp the description as JSON
	// (docs/protocol.md, "invoke").
	const wrong, large, failed = protocol.WrongParam, protocol.LargeParam, protocol.GeneralFailed
	tests := []struct {
		name, req string
		code      int
	}{
		{"io.agora.signal.no_such_function", `{}`, failed},
		{"not-even-agora", `{"account":"bob"}`, failed},
		{handlers.InvokeUserQueryUserStatus, ``, wrong},
		{handlers.InvokeUserQueryUserStatus, `not json`, wrong},
		{handlers.InvokeUserQueryUserStatus, `["account","bob"]`, wrong},
		{handlers.InvokeUserQueryUserStatus, `"bob"`, wrong},
		{handlers.InvokeUserQueryUserStatus, `{}`, wrong},
		{handlers.InvokeUserQueryUserStatus, `{"account":5}`, wrong},
		{handlers.InvokeUserQueryUserStatus, `{"account":"b ob"}`, wrong},
		{handlers.InvokeUserSetAttr, `{"name":"keep"}`, wrong},
		{handlers.InvokeUserSetAttr, `{"value":"x"}`, wrong},
		{handlers.InvokeUserSetAttr, `{"name":"keep","value":7}`, wrong},
		{handlers.InvokeUserSetAttr, `{"name":"a b","value":"x"}`, wrong},
		{handlers.InvokeUserSetAttr, `{"name":"keep","value":"` + bigUser + `"}`, large},
		{handlers.InvokeUserSetAttr, `{"name":"_conn_timeout","value":"5"}`, wrong},
		{handlers.InvokeUserSetAttr, `{"name":"_other","value":"5"}`, wrong},
		{handlers.InvokeUserGetAttr, `{"account":"alice"}`, wrong},
		{handlers.InvokeUserGetAttr, `{"name":"keep"}`, wrong},
		{handlers.InvokeUserGetAttrAll, `{"account":""}`, wrong},
		{handlers.InvokeChannelQueryNum, `{"channel":"room"}`, wrong},
		{handlers.InvokeChannelQueryUserIsIn, `{"name":"room"}`, wrong},
		{handlers.InvokeChannelQueryUserList, `{"name":""}`, wrong},
		{handlers.InvokeChannelQueryUserListAll, `{"name":"room","num":-1}`, wrong},
		{handlers.InvokeChannelQueryUserListAll, `{"name":"room","num":"ten"}`, wrong},
		{handlers.InvokeChannelQueryUserListAll, `{"name":"room","num":1.5}`, wrong},
		{handlers.InvokeChannelClearAttr, `{"name":"room"}`, wrong},
		{handlers.InvokeChannelDelAttr, `{"channel":"room"}`, wrong},
		{handlers.InvokeChannelSetAttr, `{"channel":"room","name":"topic"}`, wrong},
		{handlers.InvokeChannelSetAttr, `{"channel":"ro om","name":"topic","value":"x"}`, wrong},
		{handlers.InvokeChannelSetAttr, `{"channel":"room","name":"topic","value":"` + bigChan + `"}`, large},
		// The edge's checks answer through onInvokeRet too: a function
		// name that is not a name at all, a req over 8 KB.
		{"bad name", `{}`, wrong},
		{handlers.InvokeUserQueryUserStatus, `{"account":"` + strings.Repeat("a", protocol.MaxReqBytes) + `"}`, large},
	}
	for _, tt := range tests {
		ret := invokeRet(t, alice, tt.name, tt.req)
		code, desc, _ := sdk.InvokeError(ret.Err, ret.Resp)
		if ret.Err != strconv.Itoa(tt.code) || code != tt.code || desc == "" {
			t.Errorf("invoke %s %.60s: err %q, resp %q; want err %q and a description in resp", tt.name, tt.req, ret.Err, ret.Resp, strconv.Itoa(tt.code))
		}
	}
	if ret := invokeRet(t, alice, "io.agora.signal.no_such_function", `{}`); ret.Resp != `{"desc":"unknown function \"io.agora.signal.no_such_function\""}` {
		t.Errorf("unknown function: resp %q", ret.Resp)
	}
	if ret := invokeRet(t, alice, handlers.InvokeUserQueryUserStatus, `not json`); ret.Resp != `{"desc":"req must be a JSON object"}` {
		t.Errorf("malformed req: resp %q", ret.Resp)
	}
	got := uattrs(t, alice, "alice")
	if len(got) != 1 || got["keep"] != "me" {
		t.Fatalf("after the failures alice's attributes are %v", got)
	}
	if n := alice.Count(protocol.EvError); n != 0 {
		t.Fatalf("invoke failures also gave %d onError", n)
	}
}
