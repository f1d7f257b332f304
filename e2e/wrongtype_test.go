package e2e_test

import (
	"strings"
	"testing"

	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
	"github.com/switchboard-io/switchboard/sdk"
)

// A parameter of the wrong JSON type is refused as a missing one is: with
// the operation's own failure callback and 1004, naming the field where the
// callback has a description, and the connection goes on.
func TestBadInput_WrongTypeGetsTheOperationsCallback(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	r := testenv.Dial(t, env.URL(0))

	expect := func(what, ev string, check func(protocol.Event) bool) {
		t.Helper()
		got := r.Next()
		if got.Ev != ev || !check(got) {
			t.Fatalf("%s: got %+v, want %s", what, got, ev)
		}
	}
	code := func(c int) func(protocol.Event) bool {
		return func(e protocol.Event) bool { return e.Ecode == c }
	}
	onError := func(op, field string) func(protocol.Event) bool {
		return func(e protocol.Event) bool {
			return e.Ecode == protocol.WrongParam && e.Name == op && strings.HasPrefix(e.Desc, field+" must be ")
		}
	}

	// Before login: the login's own callback, and 1003 for the rest as
	// with the field missing.
	r.SendText(`{"op":"login","appId":"testapp","account":"alice","token":"_no_need_token","uid":"5"}`)
	expect(`login "uid":"5"`, protocol.EvLoginFailed, code(protocol.WrongParam))
	r.SendText(`{"op":"login2","appId":"testapp","account":"alice","token":"_no_need_token","retry_count":"3"}`)
	expect(`login2 "retry_count":"3"`, protocol.EvLoginFailed, code(protocol.WrongParam))
	r.SendText(`{"op":"login","appId":"testapp","account":"alice","token":"_no_need_token","uid":-1}`)
	expect(`login "uid":-1`, protocol.EvLoginFailed, code(protocol.WrongParam))
	r.SendText(`{"op":"resume","appId":"testapp","account":"alice","session":"s","n":"5"}`)
	expect(`resume "n":"5"`, protocol.EvResumeFailed, code(protocol.WrongParam))
	r.SendText(`{"op":"channelJoin","channelID":5}`)
	expect(`channelJoin before login`, protocol.EvChannelJoinFailed, code(protocol.NotLoggedIn))

	r.Login("alice")
	r.SendText(`{"op":"channelJoin","channelID":5}`)
	expect(`channelJoin "channelID":5`, protocol.EvChannelJoinFailed, code(protocol.WrongParam))
	r.SendText(`{"op":"setAttr","name":"k","value":7}`)
	expect(`setAttr "value":7`, protocol.EvError, onError(protocol.OpSetAttr, "value"))
	r.SendText(`{"op":"channelSetAttr","channelID":"room","name":"k","value":{"v":1}}`)
	expect(`channelSetAttr "value":{…}`, protocol.EvError, onError(protocol.OpChannelSetAttr, "value"))
	r.SendText(`{"op":"messageInstantSend","account":"bob","msgID":"m1","msg":["hi"]}`)
	expect(`messageInstantSend "msg":[…]`, protocol.EvMessageSendError, func(e protocol.Event) bool {
		return e.Ecode == protocol.WrongParam && e.MessageID == "m1"
	})
	r.SendText(`{"op":"invoke","name":"io.agora.signal.user_query_user_status","callID":"c1","req":{"account":"bob"}}`)
	expect(`invoke "req":{…}`, protocol.EvInvokeRet, func(e protocol.Event) bool {
		c, desc, failed := sdk.InvokeError(e.Err, e.Resp)
		return e.CallID == "c1" && failed && c == protocol.WrongParam && strings.HasPrefix(desc, "req must be ")
	})
	r.SendText(`{"op":"channelQueryUserNum","channelID":true}`)
	expect(`channelQueryUserNum "channelID":true`, protocol.EvChannelQueryUserNumResult, code(protocol.WrongParam))
	r.SendText(`{"op":"ack","n":"1"}`)
	expect(`ack "n":"1"`, protocol.EvError, onError(protocol.OpAck, "n"))

	// What has no op, or an op that is not one, stays a bad frame.
	r.SendText(`{"op":5,"channelID":"room"}`)
	expect(`"op":5`, protocol.EvError, onError("frame", "a frame"))
	r.SendText(`{"channelID":5}`)
	expect(`no op`, protocol.EvError, func(e protocol.Event) bool { return e.Name == "frame" && e.Ecode == protocol.WrongParam })
	r.SendText(`{"op":"frobnicate","uid":"5"}`)
	expect(`unknown op`, protocol.EvError, func(e protocol.Event) bool { return e.Name == "frobnicate" && e.Ecode == protocol.WrongParam })

	// Nothing of it took effect, and the connection works on.
	r.Send(protocol.Request{Op: protocol.OpGetAttr, Name: "k"})
	expect("getAttr k", protocol.EvUserAttrResult, func(e protocol.Event) bool { return e.Name == "k" && e.Value == "" })
}
