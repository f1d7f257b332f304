package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sort"
	"strconv"
	"sync"

	"github.com/switchboard-io/switchboard/kv"
	"github.com/switchboard-io/switchboard/protocol"
)

// Channels (docs/channels.md). A channel's members and attributes live in
// two KV records, written with compare-and-swap; the worker that changes
// either publishes the event frame to the channel's subject, with the
// record's new revision in a header, so that edges can order what they
// deliver against each member's join snapshot. Messages do not come here:
// the sender's edge publishes them.

// userListMax is how many members onChannelUserList names: the latest.
const userListMax = 200

// isSpecial reports whether channel is one of the special channels, which are
// event feeds: joining subscribes to the feed, they hold no attributes, carry
// no messages and are never destroyed.
func isSpecial(channel string) bool {
	return channel == ChannelUserOnline || channel == ChannelChannelEvent
}

// registerChannels adds the channel handlers.
func (s *Service) registerChannels() {
	s.members = newMemberBatcher()
	s.handlers[protocol.OpChannelJoin] = s.channelJoin
	s.handlers[protocol.OpChannelLeave] = s.channelLeave
	s.handlers[protocol.OpChannelQueryUserNum] = s.channelQueryUserNum
	s.handlers[protocol.OpChannelQueryUserIsIn] = s.channelQueryUserIsIn
	s.handlers[protocol.OpChannelSetAttr] = func(ctx context.Context, c *protocol.Call) (*protocol.Reply, error) {
		return &protocol.Reply{}, s.setChannelAttr(ctx, c.App, c.Account, c.Req.ChannelID, c.Req.Name, c.Req.Value)
	}
	s.handlers[protocol.OpChannelDelAttr] = func(ctx context.Context, c *protocol.Call) (*protocol.Reply, error) {
		return &protocol.Reply{}, s.delChannelAttr(ctx, c.App, c.Account, c.Req.ChannelID, c.Req.Name)
	}
	s.handlers[protocol.OpChannelClearAttr] = func(ctx context.Context, c *protocol.Call) (*protocol.Reply, error) {
		return &protocol.Reply{}, s.clearChannelAttr(ctx, c.App, c.Account, c.Req.ChannelID)
	}
}

// errSessionOver fails a join from a session that is no longer the
// account's current one (it was kicked or logged out meanwhile).
var errSessionOver = protocol.Errorf(protocol.KindConflict, "the session is over")

// channelJoin adds the caller to a channel. The reply is onChannelJoined, the
// latest members (onChannelUserList) and one onChannelAttrUpdated per
// attribute, as of the revisions in Rev and AttrRev; the other members get
// onChannelUserJoined. Joining a channel again answers the same way and
// tells no one. A join that fails leaves no membership behind, also one
// that is done too late for its edge or whose reply would not fit in a NATS
// message (the edge, for its part, takes back a join whose reply it never
// got: edge/channels.go).
func (s *Service) channelJoin(ctx context.Context, c *protocol.Call) (*protocol.Reply, error) {
	channel := c.Req.ChannelID
	// Record the channel with the session first: if anything fails after
	// the member list write, logout and expiry still find the channel.
	added, err := s.Store.AddSessionChannel(ctx, c.App, c.Account, c.Session, channel)
	if errors.Is(err, kv.ErrNotFound) {
		return nil, errSessionOver
	}
	if err != nil {
		return nil, err
	}
	res := s.members.do(s, c.App, channel, &memberOp{join: true, account: c.Account})
	if res.err != nil {
		if added {
			if err := s.Store.RemoveUserChannel(ctx, c.App, c.Account, c.Session, channel); err != nil {
				s.Log.Warn("channel record cleanup failed", "app", c.App, "err", err)
			}
		}
		return nil, res.err
	}
	if ctx.Err() != nil {
		// Past the request's deadline the edge has given up on this join
		// (or gets this error): the client is told that it failed, so a
		// membership now would be one it never leaves.
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.Cfg.RequestTimeout)
		defer cancel()
		s.undoJoin(uctx, c, res.changed, added)
		return nil, protocol.ErrTimeout
	}
	reply := &protocol.Reply{
		Events:  joinEvents(channel, res),
		Rev:     res.rev,
		AttrRev: res.attrRev,
	}
	if !replyFits(reply) {
		// Only a channel written before the attribute limits gets here: its
		// reply would be lost on the way, and the joiner would stay a
		// member the client was never told of. Take the join back.
		s.undoJoin(ctx, c, res.changed, added)
		return nil, errReplyTooLarge
	}
	return reply, nil
}

// errReplyTooLarge fails a join whose answer would not fit in one NATS
// message.
var errReplyTooLarge = protocol.Errorf(protocol.KindConflict, "the channel's attributes are too large to send")

// undoJoin takes back a join whose reply cannot be sent: the member list
// entry if the join made it (the others see a leave with code 600) and the
// session's channel record if the join added it.
func (s *Service) undoJoin(ctx context.Context, c *protocol.Call, joined, recorded bool) {
	channel := c.Req.ChannelID
	if joined {
		res := s.members.do(s, c.App, channel, &memberOp{account: c.Account, code: protocol.LeaveChannelOther})
		if res.err != nil {
			s.Log.Warn("undoing a join failed", "app", c.App, "err", res.err)
			return
		}
	}
	if recorded {
		if err := s.Store.RemoveUserChannel(ctx, c.App, c.Account, c.Session, channel); err != nil {
			s.Log.Warn("channel record cleanup failed", "app", c.App, "err", err)
		}
	}
}

// replyFits reports whether a join reply encodes within
// protocol.MaxJoinReplyBytes. With the attribute limits it always does
// (TestJoinReply_WorstCaseFits); a cheap upper bound (every byte of a
// string escaped to six, as \u00XX) settles it without encoding, and only a
// reply that might not fit is encoded and measured.
func replyFits(r *protocol.Reply) bool {
	const perEvent, perAccount, perUID = 256, 3, 11 // field names and punctuation; a uint32 and its comma
	bound := 256
	for i := range r.Events {
		ev := &r.Events[i]
		bound += perEvent + 6*(len(ev.ChannelID)+len(ev.Name)+len(ev.Value)+len(ev.Account))
		for _, a := range ev.Accounts {
			bound += perAccount + 6*len(a)
		}
		bound += perUID * len(ev.Uids)
	}
	if bound <= protocol.MaxJoinReplyBytes {
		return true
	}
	data, err := json.Marshal(r)
	return err == nil && len(data) <= protocol.MaxJoinReplyBytes
}

// joinEvents is what a joiner gets: onChannelJoined, onChannelUserList, and
// the attributes (with _member_num) in name order.
func joinEvents(channel string, res memberResult) []protocol.Event {
	latest := res.members[max(0, len(res.members)-userListMax):]
	evs := []protocol.Event{
		{Ev: protocol.EvChannelJoined, ChannelID: channel},
		{
			Ev: protocol.EvChannelUserList, ChannelID: channel, N: len(res.members),
			Accounts: slices.Clone(latest), Uids: make([]uint32, len(latest)),
		},
	}
	attrs := map[string]string{AttrMemberNum: strconv.Itoa(len(res.members))}
	for k, v := range res.attrs.Attrs {
		if k != AttrMemberNum {
			attrs[k] = v
		}
	}
	names := make([]string, 0, len(attrs))
	for k := range attrs {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		evs = append(evs, protocol.Event{
			Ev: protocol.EvChannelAttrUpdated, ChannelID: channel, Name: k, Value: attrs[k], Type: protocol.AttrUpdate,
		})
	}
	return evs
}

// channelLeave takes the caller out of a channel: onChannelLeaved(602) here,
// onChannelUserLeaved at the others. Leaving a channel one is not in answers
// the same and tells no one.
func (s *Service) channelLeave(ctx context.Context, c *protocol.Call) (*protocol.Reply, error) {
	channel := c.Req.ChannelID
	code := protocol.LeaveChannelByUser
	if c.Reason == protocol.LeaveChannelOther {
		// The edge takes back a join whose reply it did not get.
		code = c.Reason
	}
	res := s.members.do(s, c.App, channel, &memberOp{account: c.Account, code: code})
	if res.err != nil {
		return nil, res.err
	}
	if err := s.Store.RemoveUserChannel(ctx, c.App, c.Account, c.Session, channel); err != nil {
		// The record keeps a channel the user left; a later logout leaves
		// it again, which changes nothing.
		s.Log.Warn("channel record update failed", "app", c.App, "err", err)
	}
	return &protocol.Reply{Events: []protocol.Event{{
		Ev: protocol.EvChannelLeaved, ChannelID: channel, Ecode: protocol.LeaveChannelByUser,
	}}}, nil
}

// leaveAll takes account out of every channel in chans, telling the other
// members (code is the onChannelLeaved reason: logout, disconnect, kick). The
// session's own edge tells the session itself.
func (s *Service) leaveAll(ctx context.Context, app, account string, chans []string, code int) {
	var wg sync.WaitGroup
	for _, ch := range chans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := s.members.do(s, app, ch, &memberOp{account: account, code: code})
			if res.err != nil {
				s.Log.Warn("leaving a channel failed", "app", app, "code", code, "err", res.err)
			}
		}()
	}
	wg.Wait()
}

// channelQueryUserNum counts a channel's members, joined or not.
func (s *Service) channelQueryUserNum(ctx context.Context, c *protocol.Call) (*protocol.Reply, error) {
	members, err := s.channelMembers(ctx, c.App, c.Req.ChannelID)
	if err != nil {
		return nil, err
	}
	return &protocol.Reply{Events: []protocol.Event{{
		Ev: protocol.EvChannelQueryUserNumResult, ChannelID: c.Req.ChannelID, Num: len(members),
	}}}, nil
}

// channelQueryUserIsIn answers whether an account is in a channel.
func (s *Service) channelQueryUserIsIn(ctx context.Context, c *protocol.Call) (*protocol.Reply, error) {
	in, err := s.channelIsIn(ctx, c.App, c.Req.ChannelID, c.Req.Account)
	if err != nil {
		return nil, err
	}
	isIn := 0
	if in {
		isIn = 1
	}
	return &protocol.Reply{Events: []protocol.Event{{
		Ev: protocol.EvChannelQueryUserIsIn, ChannelID: c.Req.ChannelID, Account: c.Req.Account, IsIn: isIn,
	}}}, nil
}

// channelMembers lists the accounts in a channel, in the order they joined.
func (s *Service) channelMembers(ctx context.Context, app, channel string) ([]string, error) {
	if !protocol.ValidName(channel) {
		return nil, protocol.Errorf(protocol.KindInvalid, "channel must be 1 to 128 visible characters without spaces")
	}
	members, _, err := s.Store.ChannelMembers(ctx, app, channel)
	if err != nil {
		return nil, err
	}
	if members == nil {
		members = []string{}
	}
	return members, nil
}

// channelIsIn reports whether account is in channel.
func (s *Service) channelIsIn(ctx context.Context, app, channel, account string) (bool, error) {
	members, err := s.channelMembers(ctx, app, channel)
	if err != nil {
		return false, err
	}
	return slices.Contains(members, account), nil
}
