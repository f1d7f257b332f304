package protocol_test

import (
	"testing"

	"github.com/switchboard-io/switchboard/protocol"
	"github.com/switchboard-io/switchboard/subjects"
)

// TestLimits_AgreeWithSubjectsBounds: package subjects proves its bounds
// for the longest legal app IDs and names, which it spells out itself as it
// imports nothing of ours; they must be this package's.
func TestLimits_AgreeWithSubjectsBounds(t *testing.T) {
	if subjects.MaxAppIDBytes != protocol.MaxAppIDBytes || subjects.MaxNameChars != protocol.MaxNameChars {
		t.Fatalf("subjects bounds app IDs of %d bytes and names of %d characters; the protocol allows %d and %d",
			subjects.MaxAppIDBytes, subjects.MaxNameChars, protocol.MaxAppIDBytes, protocol.MaxNameChars)
	}
	longest := ""
	for _, op := range allOps {
		if !protocol.Known(op) {
			t.Errorf("%s is not a known operation", op)
		}
		if len(op) > len(longest) {
			longest = op
		}
	}
	if len(longest) > subjects.MaxOpBytes {
		t.Errorf("operation %s is longer than subjects.MaxOpBytes", longest)
	}
}

var allOps = []string{
	protocol.OpLogin, protocol.OpLogin2, protocol.OpLogout, protocol.OpQueryUserStatus, protocol.OpSetAttr,
	protocol.OpGetAttr, protocol.OpGetAttrAll, protocol.OpGetUserAttr, protocol.OpGetUserAttrAll,
	protocol.OpInvoke, protocol.OpMessageInstantSend, protocol.OpChannelJoin, protocol.OpChannelLeave,
	protocol.OpChannelQueryUserNum, protocol.OpChannelQueryUserIsIn, protocol.OpChannelSetAttr,
	protocol.OpChannelDelAttr, protocol.OpChannelClearAttr, protocol.OpMessageChannelSend,
	protocol.OpMessageChannelSendForce, protocol.OpChannelInviteUser, protocol.OpChannelInviteUser2,
	protocol.OpChannelInviteDTMF, protocol.OpChannelInviteAccept, protocol.OpChannelInviteRefuse,
	protocol.OpChannelInviteEnd, protocol.OpMessageDTMFSend, protocol.OpChannelInvitePhone,
	protocol.OpChannelInvitePhone2, protocol.OpChannelInvitePhone3, protocol.OpResume, protocol.OpAck,
}
