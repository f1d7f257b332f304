package handlers

import (
	"context"
	"errors"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-io/switchboard/kv"
	"github.com/switchboard-io/switchboard/protocol"
	"github.com/switchboard-io/switchboard/subjects"
)

// Built-in channel attributes (docs/channels.md). Custom attribute names do
// not begin with "_".
const (
	// AttrMemberNum is the number of members, kept by the system: every
	// joiner gets it with the attributes, and _auto_update_num pushes it.
	// Read-only.
	AttrMemberNum = "_member_num"
	// AttrTotalMemberNum is deprecated in the API and not kept. Read-only.
	AttrTotalMemberNum = "_total_member_num"
	// AttrChannelTTL is how many seconds a channel and its attributes
	// outlive its last member (DefaultChannelTTL when unset).
	AttrChannelTTL = "_channel_ttl"
	// AttrAutoUpdateNum, when positive, pushes _member_num to the members
	// every that many seconds.
	AttrAutoUpdateNum = "_auto_update_num"
	// AttrAutoUpdateTotalNum is deprecated in the API; it is stored and has
	// no effect.
	AttrAutoUpdateTotalNum = "_auto_update_total_num"
	// AttrSendMsgLimit, when positive, replaces the default limit of
	// messages per second in the channel.
	AttrSendMsgLimit = "_sendmsg_limit"
	// AttrSetAttrLimit, when positive, limits attribute writes per second
	// in the channel.
	AttrSetAttrLimit = "_setattr_limit"
	// AttrUserNotification "0" stops onChannelUserJoined and
	// onChannelUserLeaved in the channel; "1" (the default) sends them.
	AttrUserNotification = "_userNotification"
)

// DefaultChannelTTL is how long a channel outlives its last member when
// _channel_ttl is unset.
const DefaultChannelTTL = 7200 * time.Second

// Bounds of the numeric built-ins.
const (
	maxChannelTTL = 30 * 24 * 3600 // seconds
	maxAutoUpdate = 24 * 3600      // seconds
	maxRateLimit  = 1000000        // per second
)

// checkChannelAttr checks a write of attribute name (del: a delete).
func checkChannelAttr(channel, name, value string, del bool) error {
	if !protocol.ValidName(channel) {
		return protocol.Errorf(protocol.KindInvalid, "channelID must be 1 to 128 visible characters without spaces")
	}
	if isSpecial(channel) {
		return protocol.Errorf(protocol.KindConflict, "%s is a special channel: it has no attributes", channel)
	}
	if !protocol.ValidName(name) {
		return protocol.Errorf(protocol.KindInvalid, "name must be 1 to 128 visible characters without spaces")
	}
	if len(value) > protocol.MaxChanAttrBytes {
		return protocol.Errorf(protocol.KindTooLarge, "value is over %d bytes", protocol.MaxChanAttrBytes)
	}
	if !strings.HasPrefix(name, "_") {
		return nil
	}
	bound := 0
	switch name {
	case AttrMemberNum, AttrTotalMemberNum:
		return protocol.Errorf(protocol.KindConflict, "%s is kept by the system and read-only", name)
	case AttrChannelTTL:
		bound = maxChannelTTL
	case AttrAutoUpdateNum, AttrAutoUpdateTotalNum:
		bound = maxAutoUpdate
	case AttrSendMsgLimit, AttrSetAttrLimit:
		bound = maxRateLimit
	case AttrUserNotification:
		if !del && value != "0" && value != "1" {
			return protocol.Errorf(protocol.KindInvalid, "%s must be 0 or 1", name)
		}
		return nil
	default:
		return protocol.Errorf(protocol.KindInvalid, "%s: names beginning with _ are reserved for built-in attributes", name)
	}
	if del {
		return nil
	}
	if n, err := strconv.Atoi(value); err != nil || n < 0 || n > bound {
		return protocol.Errorf(protocol.KindInvalid, "%s must be a whole number from 0 to %d", name, bound)
	}
	return nil
}

// channelTTL is how long an empty channel with these attributes lives. A TTL
// under a second (KV's least) is a second.
func channelTTL(attrs map[string]string) time.Duration {
	ttl := DefaultChannelTTL
	if v, ok := attrs[AttrChannelTTL]; ok {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			ttl = time.Duration(n) * time.Second
		}
	}
	return max(ttl, time.Second)
}

// setChannelAttr sets a channel attribute for account, a member, and tells
// every member (onChannelAttrUpdated "update").
func (s *Service) setChannelAttr(ctx context.Context, app, account, channel, name, value string) error {
	if err := checkChannelAttr(channel, name, value, false); err != nil {
		return err
	}
	if err := s.requireMember(ctx, app, channel, account); err != nil {
		return err
	}
	return s.writeAttrs(ctx, app, channel, protocol.Event{
		Ev: protocol.EvChannelAttrUpdated, ChannelID: channel, Name: name, Value: value, Type: protocol.AttrUpdate,
	}, func(a map[string]string) { a[name] = value })
}

// delChannelAttr deletes a channel attribute for account, a member, and
// tells every member ("del"). Deleting a built-in restores its default.
func (s *Service) delChannelAttr(ctx context.Context, app, account, channel, name string) error {
	if err := checkChannelAttr(channel, name, "", true); err != nil {
		return err
	}
	if err := s.requireMember(ctx, app, channel, account); err != nil {
		return err
	}
	return s.writeAttrs(ctx, app, channel, protocol.Event{
		Ev: protocol.EvChannelAttrUpdated, ChannelID: channel, Name: name, Type: protocol.AttrDel,
	}, func(a map[string]string) { delete(a, name) })
}

// clearChannelAttr deletes every attribute of a channel for account, a
// member, built-ins included, and tells every member ("clear"). _member_num
// stays: the system keeps it.
func (s *Service) clearChannelAttr(ctx context.Context, app, account, channel string) error {
	if err := checkChannelAttr(channel, "x", "", true); err != nil {
		return err
	}
	if err := s.requireMember(ctx, app, channel, account); err != nil {
		return err
	}
	return s.writeAttrs(ctx, app, channel, protocol.Event{
		Ev: protocol.EvChannelAttrUpdated, ChannelID: channel, Type: protocol.AttrClear,
	}, func(a map[string]string) { clear(a) })
}

// errNotMember refuses an attribute write from outside the channel
// (design.md, "Trust"): otherwise anyone could throttle a channel with
// _sendmsg_limit, shorten its life with _channel_ttl, or fill it.
var errNotMember = protocol.Errorf(protocol.KindConflict, "not a member of the channel")

// asBackend is the account the server API writes attributes as: the app's
// backend, which may write any channel's (design.md, "Trust"). A client's
// call always names its account (Service.Handle refuses one without).
const asBackend = ""

// requireMember fails with errNotMember unless account is in the channel's
// member list. A member who leaves while its write is under way may still
// make that one write; nobody outside ever does.
func (s *Service) requireMember(ctx context.Context, app, channel, account string) error {
	if account == asBackend {
		return nil
	}
	in, err := s.channelIsIn(ctx, app, channel, account)
	if err != nil {
		return err
	}
	if !in {
		return errNotMember
	}
	return nil
}

// customUsage counts the custom attributes of attrs (names not beginning
// with "_") and their bytes, names and values together: what
// protocol.MaxChanAttrs and protocol.MaxChanAttrsTotalBytes bound.
func customUsage(attrs map[string]string) (n, size int) {
	for k, v := range attrs {
		if !strings.HasPrefix(k, "_") {
			n++
			size += len(k) + len(v)
		}
	}
	return n, size
}

// checkUsage refuses a change that takes the attributes from before to after
// over a limit. A change that shrinks or keeps what is already over (a
// channel written before the limits) passes, so that members can always
// delete and replace.
func checkUsage(before, after map[string]string) error {
	n0, size0 := customUsage(before)
	n1, size1 := customUsage(after)
	if n1 > protocol.MaxChanAttrs && n1 > n0 {
		return protocol.Errorf(protocol.KindTooLarge, "a channel holds at most %d attributes", protocol.MaxChanAttrs)
	}
	if size1 > protocol.MaxChanAttrsTotalBytes && size1 > size0 {
		return protocol.Errorf(protocol.KindTooLarge, "a channel's attributes hold at most %d bytes of names and values", protocol.MaxChanAttrsTotalBytes)
	}
	return nil
}

// writeAttrs applies change to the channel's attributes with
// compare-and-swap, within _setattr_limit, and publishes ev to the members
// with the record's new revision. Every call writes, so that every call has
// its own revision and its event, even one that changes nothing; a change
// over the channel's limits (checkUsage) writes nothing.
func (s *Service) writeAttrs(ctx context.Context, app, channel string, ev protocol.Event, change func(map[string]string)) error {
	rev, err := s.Store.UpdateChannelAttrs(ctx, app, channel, func(cur kv.ChannelAttrs, exists bool) (kv.AttrsWrite, error) {
		if !exists {
			// A channel's first attribute: whether it expires depends on
			// whether the channel has members (syncAttrsLife keeps it
			// right from then on).
			members, memRev, err := s.Store.ChannelMembers(ctx, app, channel)
			if err != nil {
				return kv.AttrsWrite{}, err
			}
			cur.Empty, cur.MemRev = len(members) == 0, memRev
		}
		if limit, _ := strconv.Atoi(cur.Attrs[AttrSetAttrLimit]); limit > 0 {
			if !takeToken(&cur, s.Now(), limit) {
				return kv.AttrsWrite{}, protocol.Errorf(protocol.KindRateLimited, "over _setattr_limit (%d per second)", limit)
			}
		}
		before := maps.Clone(cur.Attrs)
		if cur.Attrs == nil {
			cur.Attrs = map[string]string{}
		}
		change(cur.Attrs)
		if err := checkUsage(before, cur.Attrs); err != nil {
			return kv.AttrsWrite{}, err
		}
		w := kv.AttrsWrite{Attrs: cur}
		if cur.Empty {
			w.TTL = channelTTL(cur.Attrs)
		}
		return w, nil
	})
	if errors.Is(err, kv.ErrTooLarge) {
		return protocol.Errorf(protocol.KindTooLarge, "the channel's attributes are over their limit")
	}
	if err != nil {
		return err
	}
	return s.publish(ctx, subjects.Channel(app, channel), ev, protocol.HdrAttrRev, strconv.FormatUint(rev, 10))
}

// syncAttrsLife makes the attribute record expire with the channel when the
// channel became empty at member list revision memRev, and stay when it
// became non-empty. A transition older than the record's is ignored, so that
// a first join and a last leave racing each other end in the right state.
func (s *Service) syncAttrsLife(ctx context.Context, app, channel string, memRev uint64, empty bool) {
	_, err := s.Store.UpdateChannelAttrs(ctx, app, channel, func(cur kv.ChannelAttrs, exists bool) (kv.AttrsWrite, error) {
		if cur.MemRev >= memRev || (!exists && empty) {
			return kv.AttrsWrite{Keep: true}, nil
		}
		cur.Empty, cur.MemRev = empty, memRev
		w := kv.AttrsWrite{Attrs: cur}
		if empty {
			w.TTL = channelTTL(cur.Attrs)
		}
		return w, nil
	})
	if err != nil {
		s.Log.Warn("channel attribute lifetime not updated", "app", app, "err", err)
	}
}

// takeToken takes one write from the channel's _setattr_limit bucket,
// kept in the attribute record (a protocol.Bucket, as every limit is).
func takeToken(cur *kv.ChannelAttrs, now time.Time, limit int) bool {
	var b protocol.Bucket
	if cur.At != 0 {
		b = protocol.Bucket{Tokens: cur.Tok, Last: time.UnixMilli(cur.At)}
	}
	if !b.Allow(now, limit) {
		return false
	}
	cur.Tok, cur.At = b.Tokens, b.Last.UnixMilli()
	return true
}
