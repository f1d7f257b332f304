package edge

import (
	"context"
	"encoding/json"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/switchboard-io/switchboard/protocol"
	"github.com/switchboard-io/switchboard/subjects"
)

// Channel fan-out. An edge follows a channel with one NATS subscription while
// it has a local member there (or one joining, or a user that just sent to
// it without joining), and hands each event that arrives to every local
// member as one shared frame: encoded once by its publisher, framed for
// WebSocket once by this edge.
//
// Joins, leaves and attribute changes come from workers with the revision of
// the record they changed (protocol.HdrMemberRev, HdrAttrRev). A member gets
// only what its join snapshot does not hold (revisions after its own), and
// an event that arrives after a newer one about the same account or
// attribute is dropped, so that every member's view of the channel ends
// where the records end, whatever order concurrent changes arrive in.

// chanKey names a channel of an app.
type chanKey struct{ app, name string }

// channel is one followed channel on this edge.
type channel struct {
	srv     *Server
	key     chanKey
	special bool
	sub     *nats.Subscription
	refs    int // guarded by srv.chMu: members, joiners, observer

	mu       sync.Mutex
	closed   bool
	members  map[*session]*member
	seen     revSeen              // newest member event per account
	attrs    map[string]attrEvent // newest attribute event per name since the last clear
	clearRev uint64
	clear    delivery        // the newest clear, at clearRev
	rate     protocol.Bucket // the channel's message rate, counting every edge's

	// Built-ins the edge acts on, with the revision they are as of.
	attrsKnown bool
	sendLimit  setting
	autoEvery  setting
	auto       *autoEntry // on the edge's _auto_update_num schedule (autoupdate.go)
	num        memberNum  // the member count it pushes

	observer *observer // a force send keeps the channel followed for a while
	dropped  int       // arrivals NATS dropped so far (checkDropped; onMsg's goroutine)
}

// member is a local session's place in a channel.
type member struct {
	joined bool // false while the join is under way: events are held
	resync bool // a second join is under way: events are held, messages flow
	// since and sinceAttr are the revisions of the member's snapshot.
	since, sinceAttr uint64
	held             []delivery
}

// delivery is one arrived event with what decides who gets it.
type delivery struct {
	f          *frame
	from       string
	mrev, arev uint64
}

func (d delivery) isEvent() bool { return d.mrev > 0 || d.arev > 0 }

// wants reports whether sess, a member as of its snapshot, gets d: not what
// its snapshot holds, not its own join, leave or message.
func (m *member) wants(sess *session, d delivery) bool {
	switch {
	case d.mrev > 0:
		return d.mrev > m.since && d.from != sess.account
	case d.arev > 0:
		return d.arev > m.sinceAttr
	}
	return d.from != sess.account
}

type attrEvent struct {
	d          delivery
	typ, value string
}

type setting struct {
	v   int
	rev uint64
}

type observer struct {
	t *time.Timer
	// ready is closed once the channel's limits are known here: a force
	// send waits for it, so that none passes at the default rate while
	// the first one reads them.
	ready chan struct{}
}

// isSpecial reports whether name is one of the special channels, which follow
// a feed subject instead of their own.
func isSpecial(name string) bool {
	return name == channelUserOnline || name == channelChannelEvent
}

// Special channels (handlers/login.go and docs/channels.md).
const (
	channelUserOnline   = "_agora_user_online"
	channelChannelEvent = "_agora_channel_event"
)

// Built-in attributes the edge acts on.
const (
	attrMemberNum     = "_member_num"
	attrSendMsgLimit  = "_sendmsg_limit"
	attrAutoUpdateNum = "_auto_update_num"
)

func (k chanKey) subject() string {
	switch k.name {
	case channelUserOnline:
		return subjects.OnlineAll(k.app)
	case channelChannelEvent:
		return subjects.ChannelEventAll(k.app)
	}
	return subjects.Channel(k.app, k.name)
}

// acquireChannel returns the channel, following it first if this edge does
// not yet, and takes a reference that releaseChannel gives back.
func (s *Server) acquireChannel(app, name string) (*channel, error) {
	k := chanKey{app, name}
	s.chMu.Lock()
	defer s.chMu.Unlock()
	ch := s.chans[k]
	if ch == nil {
		ch = &channel{srv: s, key: k, special: isSpecial(name), members: map[*session]*member{}, attrs: map[string]attrEvent{}}
		sub, err := s.nc.Subscribe(k.subject(), ch.onMsg)
		if err != nil {
			return nil, err
		}
		_ = sub.SetPendingLimits(-1, 64<<20)
		ch.sub = sub
		s.chans[k] = ch
		if !ch.special {
			// Whoever comes first (a join's snapshot, this read) tells
			// the edge the channel's built-ins; newer wins.
			go ch.loadAttrs()
		}
	}
	ch.refs++
	return ch, nil
}

// loadAttrs reads the channel's built-ins from KV, for members that did not
// bring a snapshot of them (sessions moved here from another edge).
func (ch *channel) loadAttrs() {
	ctx, cancel := context.WithTimeout(ch.srv.ctx, ch.srv.cfg.RequestTimeout)
	attrs, rev, err := ch.srv.store.ChannelAttributes(ctx, ch.key.app, ch.key.name)
	cancel()
	if err != nil {
		return
	}
	ch.mu.Lock()
	if !ch.closed {
		ch.applySnapshot(attrs.Attrs, rev)
	}
	ch.mu.Unlock()
}

// releaseChannel gives back a reference; the last one unsubscribes.
func (s *Server) releaseChannel(ch *channel) {
	s.chMu.Lock()
	ch.refs--
	last := ch.refs == 0
	if last && s.chans[ch.key] == ch {
		delete(s.chans, ch.key)
	}
	s.chMu.Unlock()
	if !last {
		return
	}
	_ = ch.sub.Unsubscribe()
	ch.mu.Lock()
	ch.closed = true
	ch.syncAuto()
	ch.mu.Unlock()
}

// lookupChannel returns the channel if this edge follows it.
func (s *Server) lookupChannel(app, name string) *channel {
	s.chMu.Lock()
	defer s.chMu.Unlock()
	return s.chans[chanKey{app, name}]
}

// backlogged reports whether arrivals of the channel wait in its
// subscription's buffer, not yet handed to the members.
func (ch *channel) backlogged() bool {
	msgs, _, err := ch.sub.Pending()
	return err == nil && msgs > 0
}

// overloaded reports whether this edge is too far behind on the channel to
// take more of its members' messages (Config.ShedBacklog).
func (ch *channel) overloaded() bool {
	msgs, bytes, err := ch.sub.Pending()
	return err == nil && (msgs >= ch.srv.cfg.ShedBacklog || bytes >= ch.srv.cfg.ShedBacklogBytes)
}

// checkDropped counts and logs arrivals NATS dropped from the channel's
// subscription buffer (full at 64 MiB): its members here missed them, and
// those this edge sent come back never, so their senders get 401.
func (ch *channel) checkDropped() {
	n, err := ch.sub.Dropped()
	if err != nil || n <= ch.dropped {
		return
	}
	lost := n - ch.dropped
	ch.dropped = n
	ch.srv.Metrics.ChannelDropped(lost)
	ch.srv.log.Warn("channel messages dropped: this edge fell too far behind", "app", ch.key.app, "channel", ch.key.name, "dropped", lost)
}

// onMsg fans one arrival out to the local members.
func (ch *channel) onMsg(m *nats.Msg) {
	if h := ch.srv.cfg.ChannelHook; h != nil {
		h(ch.key.app, ch.key.name)
	}
	ch.checkDropped()
	if n := m.Header.Get(protocol.HdrMemberNum); n != "" {
		// A worker's count, for _auto_update_num: no member gets it.
		ch.onMemberNum(n, m.Header.Get(protocol.HdrMemberRev))
		return
	}
	if tok := m.Header.Get(hdrChanMsg); tok != "" && m.Header.Get(protocol.HdrEdge) == ch.srv.cfg.ID {
		// The sender hears of it once this edge's members have it queued
		// (and ch.mu is released): what the sender does next, say a peer
		// message to one of them, comes after it.
		defer ch.srv.channelSendBack(tok)
	}
	d := delivery{f: newSharedFrame(m.Data), from: m.Header.Get(protocol.HdrFrom)}
	d.mrev, _ = strconv.ParseUint(m.Header.Get(protocol.HdrMemberRev), 10, 64)
	d.arev, _ = strconv.ParseUint(m.Header.Get(protocol.HdrAttrRev), 10, 64)
	now := time.Now()
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.closed {
		return
	}
	out := []delivery{d}
	switch {
	case d.mrev > 0:
		if !ch.seen.fresh(d.from, d.mrev, now) {
			return
		}
	case d.arev > 0:
		var ev protocol.Event
		if json.Unmarshal(m.Data, &ev) != nil {
			return
		}
		out = ch.attrChange(&ev, d)
	default:
		// A message: this edge counted its own when it sent them.
		if !ch.special && m.Header.Get(protocol.HdrEdge) != ch.srv.cfg.ID {
			ch.rate.Add(now, ch.msgLimit())
		}
	}
	for _, d := range out {
		ch.fanOut(d)
	}
}

// fanOut hands d to every member that gets it. ch.mu is held.
func (ch *channel) fanOut(d delivery) {
	for sess, m := range ch.members {
		if !m.joined || m.resync {
			if d.isEvent() {
				m.held = append(m.held, d)
				continue
			}
			if !m.joined {
				continue // a message sent before the join completed
			}
		}
		if m.wants(sess, d) {
			sess.deliverFrame(d.f, "")
		}
	}
}

// attrChange orders an attribute event against the others and returns what
// to deliver. An event that arrives after a newer change of the attribute
// (or a newer clear) is still delivered, since it is its writer's only
// answer, and the newer ones after it again, so that the members' views end
// where the record ends. A clear that arrives after changes made after it
// is delivered with those changes again, for the same reason. ch.mu is held.
func (ch *channel) attrChange(ev *protocol.Event, d delivery) []delivery {
	if d.arev < ch.clearRev {
		out := []delivery{d, ch.clear}
		for _, a := range ch.attrs {
			out = append(out, a.d)
		}
		return out
	}
	if ev.Type == protocol.AttrClear {
		ch.clearRev, ch.clear = d.arev, d
		ch.applySetting(attrSendMsgLimit, protocol.AttrDel, "", d.arev)
		ch.applySetting(attrAutoUpdateNum, protocol.AttrDel, "", d.arev)
		out := []delivery{d}
		for name, a := range ch.attrs {
			if a.d.arev <= d.arev {
				delete(ch.attrs, name)
				continue
			}
			out = append(out, a.d)
			ch.applySetting(name, a.typ, a.value, a.d.arev)
		}
		return out
	}
	if a, ok := ch.attrs[ev.Name]; ok && d.arev < a.d.arev {
		return []delivery{d, a.d}
	}
	ch.attrs[ev.Name] = attrEvent{d: d, typ: ev.Type, value: ev.Value}
	ch.applySetting(ev.Name, ev.Type, ev.Value, d.arev)
	return []delivery{d}
}

// applySetting records a built-in's value as of rev. ch.mu is held.
func (ch *channel) applySetting(name, typ, value string, rev uint64) {
	var st *setting
	switch name {
	case attrSendMsgLimit:
		st = &ch.sendLimit
	case attrAutoUpdateNum:
		st = &ch.autoEvery
	default:
		return
	}
	if rev < st.rev {
		return
	}
	st.rev, st.v = rev, 0
	if typ == protocol.AttrUpdate {
		if n, err := strconv.Atoi(value); err == nil && n > 0 {
			st.v = n
		}
	}
	if name == attrAutoUpdateNum {
		ch.syncAuto()
	}
}

// applySnapshot records the built-ins of an attribute snapshot (a join
// reply, a KV read) as of rev. ch.mu is held.
func (ch *channel) applySnapshot(attrs map[string]string, rev uint64) {
	ch.attrsKnown = true
	for _, name := range []string{attrSendMsgLimit, attrAutoUpdateNum} {
		if v, ok := attrs[name]; ok {
			ch.applySetting(name, protocol.AttrUpdate, v, rev)
		} else {
			ch.applySetting(name, protocol.AttrDel, "", rev)
		}
	}
}

// msgLimit is the channel's messages per second. ch.mu is held.
func (ch *channel) msgLimit() int {
	if ch.sendLimit.v > 0 {
		return ch.sendLimit.v
	}
	return ch.srv.cfg.ChannelRate
}

// revSeen remembers the newest revision seen per key, for long enough that a
// late event is recognised: entries older than two spans are forgotten.
type revSeen struct {
	cur, old map[string]uint64
	since    time.Time
}

const seenSpan = 30 * time.Second

// fresh reports whether rev is not older than what was seen for key, and
// records it.
func (r *revSeen) fresh(key string, rev uint64, now time.Time) bool {
	if r.cur == nil || now.Sub(r.since) > seenSpan {
		r.old, r.cur, r.since = r.cur, map[string]uint64{}, now
	}
	if rev < r.cur[key] || rev < r.old[key] {
		return false
	}
	r.cur[key] = rev
	return true
}
