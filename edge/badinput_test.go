package edge_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/switchboard-io/switchboard/internal/testenv"
	"github.com/switchboard-io/switchboard/protocol"
)

func TestBadInput_GetsItsCodeAndTheConnectionStays(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	r := testenv.Dial(t, env.URL(0))

	r.SendText("not json")
	if ev := r.Next(); ev.Ev != protocol.EvError || ev.Ecode != protocol.WrongParam || ev.Name != "frame" {
		t.Fatalf("not JSON: got %+v, want onError 1004 frame", ev)
	}
	r.SendText(`{"account":"x"}`)
	if ev := r.Next(); ev.Ev != protocol.EvError || ev.Ecode != protocol.WrongParam {
		t.Fatalf("no op: got %+v, want onError 1004", ev)
	}
	r.Send(protocol.Request{Op: protocol.OpChannelJoin, ChannelID: "room"})
	if ev := r.Next(); ev.Ev != protocol.EvChannelJoinFailed || ev.Ecode != protocol.NotLoggedIn || ev.ChannelID != "room" {
		t.Fatalf("join before login: got %+v, want onChannelJoinFailed 1003", ev)
	}
	r.Send(protocol.Request{Op: protocol.OpQueryUserStatus, Account: "bob"})
	if ev := r.Next(); ev.Ev != protocol.EvError || ev.Ecode != protocol.NotLoggedIn {
		t.Fatalf("query before login: got %+v, want onError 1003", ev)
	}
	r.Send(protocol.Request{Op: protocol.OpLogin, AppID: testenv.App.ID, Account: "has space", Token: "_no_need_token"})
	if ev := r.Next(); ev.Ev != protocol.EvLoginFailed || ev.Ecode != protocol.WrongParam {
		t.Fatalf("account with a space: got %+v, want onLoginFailed 1004", ev)
	}
	r.Send(protocol.Request{Op: protocol.OpLogin, AppID: testenv.App.ID, Account: strings.Repeat("a", 129), Token: "_no_need_token"})
	if ev := r.Next(); ev.Ev != protocol.EvLoginFailed || ev.Ecode != protocol.WrongParam {
		t.Fatalf("account of 129 characters: got %+v, want onLoginFailed 1004", ev)
	}

	// After all that, the same connection logs in and works.
	r.Login("alice")
	r.SendText(`{"op":"frobnicate"}`)
	if ev := r.Next(); ev.Ev != protocol.EvError || ev.Ecode != protocol.WrongParam || ev.Name != "frobnicate" {
		t.Fatalf("unknown op: got %+v, want onError 1004", ev)
	}
	r.Send(protocol.Request{Op: protocol.OpMessageInstantSend, Account: "bob", Msg: strings.Repeat("x", protocol.MaxMsgBytes+1), MsgID: "big"})
	if ev := r.Next(); ev.Ev != protocol.EvMessageSendError || ev.Ecode != protocol.LargeParam || ev.MessageID != "big" {
		t.Fatalf("message over 8 KB: got %+v, want onMessageSendError 1005", ev)
	}
	r.Send(protocol.Request{Op: protocol.OpMessageInstantSend, Account: "bad name", Msg: "hi", MsgID: "m"})
	if ev := r.Next(); ev.Ev != protocol.EvMessageSendError || ev.Ecode != protocol.WrongParam {
		t.Fatalf("peer name with a space: got %+v, want onMessageSendError 1004", ev)
	}
	r.Send(protocol.Request{Op: protocol.OpQueryUserStatus, Account: "alice"})
	if ev := r.Next(); ev.Ev != protocol.EvQueryUserStatusResult || ev.Status != "1" || ev.Name != "alice" {
		t.Fatalf("query self: got %+v, want status 1", ev)
	}
}

func TestOversizeFrame_IsRefusedWithoutHarmToOthers(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	other := testenv.Dial(t, env.URL(0))
	other.Login("bystander")

	r := testenv.Dial(t, env.URL(0))
	r.Login("flooder")
	// The edge may close while the frame is still being written: the write's
	// own error does not matter, the close code does.
	_ = r.WS.WriteMessage(websocket.TextMessage, []byte(`{"op":"messageInstantSend","account":"bystander","msg":"`+strings.Repeat("x", 4*protocol.MaxFrameBytes)+`"}`))
	if code := r.ExpectClose(); code != websocket.CloseMessageTooBig {
		t.Fatalf("close code = %d, want %d", code, websocket.CloseMessageTooBig)
	}
	other.Send(protocol.Request{Op: protocol.OpQueryUserStatus, Account: "bystander"})
	if ev := other.Next(); ev.Ev != protocol.EvQueryUserStatusResult || ev.Status != "1" {
		t.Fatalf("bystander after the flood: got %+v", ev)
	}
}

func TestHandshake_RefusesUnknownProtocolVersions(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	d := websocket.Dialer{Subprotocols: []string{"switchboard.v99"}}
	_, resp, err := d.Dial(env.URL(0), nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("dial with v99: err=%v resp=%v, want HTTP 400", err, resp)
	}
}
