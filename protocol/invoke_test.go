package protocol

import (
	"encoding/json"
	"errors"
	"testing"
)

// A failed invoke reports the API's code in err and its description, as
// JSON, in resp; internal detail reaches neither.
func TestFailureEvent_InvokeReportsCodeAndDescription(t *testing.T) {
	tests := []struct {
		err  error
		code string
		desc string
	}{
		{Errorf(KindInvalid, "req must be a JSON object"), "1004", "req must be a JSON object"},
		{Errorf(KindTooLarge, "req is over 8192 bytes"), "1005", "req is over 8192 bytes"},
		{ErrNotLoggedIn, "1003", "not logged in"},
		{Coded(KindNotFound, GeneralFailed, `unknown function "x"`), "1001", `unknown function "x"`},
		{Errorf(KindConflict, "not a member of the channel"), "1001", "not a member of the channel"},
		{Errorf(KindRateLimited, "over 60 messages per second"), "1001", "over 60 messages per second"},
		{ErrTimeout, "1000", "timed out"},
		{errors.New("kv: bucket sb-users: secret detail"), "1002", "internal error"},
	}
	for _, tt := range tests {
		ev := FailureEvent(&Request{Op: OpInvoke, CallID: "c1"}, tt.err)
		if ev.Ev != EvInvokeRet || ev.CallID != "c1" || ev.Err != tt.code {
			t.Errorf("%v: %+v, want onInvokeRet c1 with err %q", tt.err, ev, tt.code)
			continue
		}
		var resp map[string]string
		if err := json.Unmarshal([]byte(ev.Resp), &resp); err != nil || len(resp) != 1 || resp["desc"] != tt.desc {
			t.Errorf("%v: resp %q, want {\"desc\":%q}", tt.err, ev.Resp, tt.desc)
		}
	}
}
