package apps

import (
	"strings"
	"testing"

	"github.com/switchboard-io/switchboard/protocol"
)

// TestValidateID_IsTheProtocolsRule: an app can be configured exactly when
// a client can name it, so no configured app is unreachable and no client
// can name an ID the server would refuse to configure.
func TestValidateID_IsTheProtocolsRule(t *testing.T) {
	ids := []string{"", "a", "!~", " a", "a\x7f", "café", "a.b", "*", ">",
		strings.Repeat("x", MaxIDLen), strings.Repeat("x", MaxIDLen+1), strings.Repeat("é", 10)}
	for b := 0; b < 256; b++ {
		ids = append(ids, "a"+string(rune(b)), "a"+string([]byte{byte(b)}))
	}
	for _, id := range ids {
		if got, want := validateID(id) == nil, protocol.ValidAppID(id); got != want {
			t.Errorf("validateID(%q) accepts = %v, protocol.ValidAppID = %v", id, got, want)
		}
	}
}
