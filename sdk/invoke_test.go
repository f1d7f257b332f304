package sdk_test

import (
	"testing"

	"github.com/switchboard-io/switchboard/sdk"
)

func TestInvokeError(t *testing.T) {
	tests := []struct {
		err, resp string
		code      int
		desc      string
		failed    bool
	}{
		{"", `{"status":1}`, 0, "", false},
		{"1004", `{"desc":"req must be a JSON object"}`, 1004, "req must be a JSON object", true},
		{"1001", `{"desc":"unknown function \"x\""}`, 1001, `unknown function "x"`, true},
		{"1002", ``, 1002, "", true},
		// A server from before codes put its description in err.
		{"req must be a JSON object", "", 0, "req must be a JSON object", true},
	}
	for _, tt := range tests {
		code, desc, failed := sdk.InvokeError(tt.err, tt.resp)
		if code != tt.code || desc != tt.desc || failed != tt.failed {
			t.Errorf("InvokeError(%q, %q) = %d, %q, %v; want %d, %q, %v", tt.err, tt.resp, code, desc, failed, tt.code, tt.desc, tt.failed)
		}
	}
}
