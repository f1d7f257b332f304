package sdk

import (
	"encoding/json"
	"strconv"
)

// InvokeError decodes the err and resp of OnInvokeRet. An invoke that
// succeeded has an empty err: failed is false and resp is the function's
// reply. One that failed has err set to the code of the Signaling API
// ("1004": a malformed req, "1001": a function this server does not have,
// or a write it refused, …) and resp set to {"desc": …}, the description
// for people.
func InvokeError(err, resp string) (code int, desc string, failed bool) {
	if err == "" {
		return 0, "", false
	}
	code, convErr := strconv.Atoi(err)
	if convErr != nil {
		// Not a code: a server before codes, which put the description
		// in err.
		return 0, err, true
	}
	var r struct {
		Desc string `json:"desc"`
	}
	_ = json.Unmarshal([]byte(resp), &r)
	return code, r.Desc, true
}
