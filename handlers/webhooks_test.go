package handlers

import (
	"testing"

	"github.com/switchboard-io/switchboard/protocol"
)

func TestLogoutCode_IsTheClientsOnLogoutCode(t *testing.T) {
	for reason, want := range map[int]int{
		0:                            protocol.LogoutUser,
		protocol.LeaveChannelDisconn: protocol.LogoutNet,
		protocol.LogoutTokenExpired:  protocol.LogoutTokenExpired,
		protocol.LogoutKicked:        protocol.LogoutKicked,
		protocol.LeaveChannelOther:   protocol.LogoutOther,
	} {
		if got := logoutCode(reason); got != want {
			t.Errorf("logoutCode(%d) = %d, want %d", reason, got, want)
		}
	}
}
