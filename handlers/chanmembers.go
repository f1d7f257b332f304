package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"sync"

	"github.com/switchboard-io/switchboard/kv"
	"github.com/switchboard-io/switchboard/protocol"
	"github.com/switchboard-io/switchboard/subjects"
)

// A channel's member list is one KV record. Hundreds of users joining one
// channel at once would make hundreds of compare-and-swap writers retry
// against each other, so each worker batches: the joins and leaves of one
// channel that arrive while a write is under way wait for it, and then go
// together in the next write. Workers still race each other, which the
// compare-and-swap settles; within a worker, one write per batch.

// maxBatch bounds the joins and leaves one write applies.
const maxBatch = 256

// errChannelFull fails a join that would make the member record too large.
var errChannelFull = protocol.Errorf(protocol.KindConflict, "the channel is full")

// memberOp is one join or leave waiting for its batch.
type memberOp struct {
	join    bool
	account string
	code    int // a leave's reason, for the _agora_channel_event feed
	done    chan memberResult
}

// memberResult is what a batch did for one op.
type memberResult struct {
	err     error
	changed bool     // the op changed the list: not a second join, not a leave of a non-member
	members []string // the list after the batch, in join order
	rev     uint64   // its revision
	attrs   kv.ChannelAttrs
	attrRev uint64
}

// memberBatcher queues member operations per channel.
type memberBatcher struct {
	mu     sync.Mutex
	queues map[string]*memberQueue
}

type memberQueue struct {
	ops  []*memberOp
	busy bool // a goroutine is writing a batch of this channel
}

func newMemberBatcher() *memberBatcher {
	return &memberBatcher{queues: map[string]*memberQueue{}}
}

// do queues op and returns its result. The caller that finds no write under
// way writes the batch itself; if more ops queued meanwhile, a new goroutine
// takes the next batch, so that no caller waits for more than its own.
func (b *memberBatcher) do(s *Service, app, channel string, op *memberOp) memberResult {
	op.done = make(chan memberResult, 1)
	key := subjects.Key(app, channel)
	b.mu.Lock()
	q := b.queues[key]
	if q == nil {
		q = &memberQueue{}
		b.queues[key] = q
	}
	q.ops = append(q.ops, op)
	lead := !q.busy
	q.busy = true
	b.mu.Unlock()
	if lead {
		b.run(s, app, channel, key, q)
	}
	return <-op.done
}

// run writes one batch, then hands on to a new goroutine if more wait.
func (b *memberBatcher) run(s *Service, app, channel, key string, q *memberQueue) {
	b.mu.Lock()
	n := min(len(q.ops), maxBatch)
	ops := slices.Clone(q.ops[:n])
	q.ops = q.ops[n:]
	b.mu.Unlock()

	s.applyMembers(app, channel, ops)

	b.mu.Lock()
	if len(q.ops) == 0 {
		q.busy = false
		q.ops = nil
		delete(b.queues, key)
		b.mu.Unlock()
		return
	}
	b.mu.Unlock()
	go b.run(s, app, channel, key, q)
}

// applyMembers writes one batch to the member list, keeps the attribute
// record's lifetime in step with the channel's (an empty channel expires
// after _channel_ttl), publishes the joins and leaves, and answers each op.
func (s *Service) applyMembers(app, channel string, ops []*memberOp) {
	ctx, cancel := context.WithTimeout(context.Background(), s.Cfg.RequestTimeout)
	defer cancel()
	special := isSpecial(channel)
	var (
		before, after []string
		changed, full []bool
	)
	write := func(refuseJoins bool) (uint64, error) {
		return s.Store.UpdateChannelMembers(ctx, app, channel, func(cur []string) (kv.MembersWrite, error) {
			before = cur
			after, changed, full = applyOps(cur, ops, refuseJoins)
			if !slices.Contains(changed, true) {
				return kv.MembersWrite{Keep: true}, nil
			}
			w := kv.MembersWrite{Accounts: after}
			if len(after) == 0 && !special {
				attrs, _, err := s.Store.ChannelAttributes(ctx, app, channel)
				if err != nil {
					return w, err
				}
				w.TTL = channelTTL(attrs.Attrs)
			}
			return w, nil
		})
	}
	rev, err := write(false)
	if errors.Is(err, kv.ErrTooLarge) {
		rev, err = write(true)
	}
	if err != nil {
		for _, op := range ops {
			op.done <- memberResult{err: err}
		}
		return
	}
	anyChange := slices.Contains(changed, true)
	if anyChange && !special && (len(before) == 0) != (len(after) == 0) {
		s.syncAttrsLife(ctx, app, channel, rev, len(after) == 0)
	}
	// The attributes as of now: the joiners' snapshot, and whether members
	// hear of joins and leaves at all.
	attrs, attrRev, err := s.Store.ChannelAttributes(ctx, app, channel)
	if err != nil {
		s.Log.Warn("reading channel attributes failed", "app", app, "err", err)
	}
	if anyChange {
		s.publishMemberNum(ctx, app, channel, rev, len(after))
		s.announce(ctx, app, channel, ops, changed, rev, !special && attrs.Attrs[AttrUserNotification] != "0")
	}
	for i, op := range ops {
		res := memberResult{changed: changed[i], members: after, rev: rev, attrs: attrs, attrRev: attrRev}
		if full[i] {
			res = memberResult{err: errChannelFull}
		}
		op.done <- res
	}
}

// applyOps applies ops in order to the list cur and says which of them
// changed it, and which joins were refused (refuseJoins: the list is full).
func applyOps(cur []string, ops []*memberOp, refuseJoins bool) (list []string, changed, full []bool) {
	list = slices.Clone(cur)
	in := make(map[string]bool, len(cur))
	for _, a := range cur {
		in[a] = true
	}
	changed = make([]bool, len(ops))
	full = make([]bool, len(ops))
	for i, op := range ops {
		switch {
		case op.join && in[op.account]:
		case op.join && refuseJoins:
			full[i] = true
		case op.join:
			list = append(list, op.account)
			in[op.account] = true
			changed[i] = true
		case in[op.account]:
			j := slices.Index(list, op.account)
			list = slices.Delete(list, j, j+1)
			delete(in, op.account)
			changed[i] = true
		}
	}
	return list, changed, full
}

// channelEventBody is the msg of an onMessageChannelReceive on
// _agora_channel_event: one join or leave of any channel.
type channelEventBody struct {
	Event   string `json:"event"` // "join" or "leave"
	Channel string `json:"channel"`
	Account string `json:"account"`
	Ecode   int    `json:"ecode,omitempty"` // a leave's onChannelLeaved reason
}

// announce publishes the changes of a batch: onChannelUserJoined and
// onChannelUserLeaved to the channel's members (when notify), with the member
// list's revision; and each change to the _agora_channel_event feed.
func (s *Service) announce(ctx context.Context, app, channel string, ops []*memberOp, changed []bool, rev uint64, notify bool) {
	revs := strconv.FormatUint(rev, 10)
	for i, op := range ops {
		if !changed[i] {
			continue
		}
		s.emitMember(ctx, app, channel, op)
		ev := protocol.Event{Ev: protocol.EvChannelUserLeaved, ChannelID: channel, Account: op.account}
		body := channelEventBody{Event: "leave", Channel: channel, Account: op.account, Ecode: op.code}
		if op.join {
			ev.Ev = protocol.EvChannelUserJoined
			body = channelEventBody{Event: "join", Channel: channel, Account: op.account}
		}
		if notify {
			if err := s.publish(ctx, subjects.Channel(app, channel), ev,
				protocol.HdrFrom, op.account, protocol.HdrMemberRev, revs); err != nil {
				s.Log.Warn("channel publish failed", "app", app, "err", err)
			}
		}
		if isSpecial(channel) {
			continue
		}
		msg, _ := json.Marshal(body)
		feed := protocol.Event{Ev: protocol.EvMessageChannelReceive, ChannelID: ChannelChannelEvent, Account: op.account, Msg: string(msg)}
		if err := s.publish(ctx, subjects.ChannelEvent(app, channel), feed); err != nil {
			s.Log.Warn("channel event publish failed", "app", app, "err", err)
		}
	}
}
