package handlers

import (
	"context"
	"strings"
	"testing"

	"github.com/switchboard-io/switchboard/protocol"
)

// TestHandle_RefusesInvalidAppIDs: whatever an edge let through, a worker
// builds no subject or key from an app ID a client may not send.
func TestHandle_RefusesInvalidAppIDs(t *testing.T) {
	s := New(nil, nil, nil, DefaultConfig(), nil)
	for _, app := range []string{"", strings.Repeat("x", protocol.MaxAppIDBytes+1), strings.Repeat("!", 1400), "a b", "café", "a\x00"} {
		for _, op := range []string{protocol.OpLogin, protocol.OpResume, protocol.OpChannelJoin, "noSuchOp"} {
			c := &protocol.Call{App: app, Account: "alice", Session: "s", Req: protocol.Request{
				Op: op, AppID: app, Account: "alice", ChannelID: "c", Token: "_no_need_token"}}
			_, err := s.Handle(context.Background(), c)
			if e := protocol.AsError(err); err == nil || e.Kind != protocol.KindInvalid || protocol.CodeFor(op, err) != protocol.WrongParam {
				t.Errorf("Handle(%s, app of %d bytes) = %v, want KindInvalid (1004)", op, len(app), err)
			}
		}
	}
}
