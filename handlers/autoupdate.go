package handlers

import (
	"context"
	"strconv"

	"github.com/switchboard-io/switchboard/protocol"
	"github.com/switchboard-io/switchboard/subjects"
)

// publishMemberNum tells the edges that follow a channel how many members it
// has as of member list revision rev (protocol.HdrMemberNum). The edges push
// that count to their members every _auto_update_num seconds from memory:
// publishing one message per changed batch here is what spares them a KV
// read per channel per push. Special channels have no attributes and are
// skipped.
func (s *Service) publishMemberNum(ctx context.Context, app, channel string, rev uint64, n int) {
	if isSpecial(channel) {
		return
	}
	num := strconv.Itoa(n)
	ev := protocol.Event{
		Ev: protocol.EvChannelAttrUpdated, ChannelID: channel, Name: AttrMemberNum, Value: num, Type: protocol.AttrUpdate,
	}
	if err := s.publish(ctx, subjects.Channel(app, channel), ev,
		protocol.HdrMemberNum, num, protocol.HdrMemberRev, strconv.FormatUint(rev, 10)); err != nil {
		s.Log.Warn("member count publish failed", "app", app, "err", err)
	}
}
