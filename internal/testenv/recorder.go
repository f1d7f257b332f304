package testenv

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboard-io/switchboard/protocol"
	"github.com/switchboard-io/switchboard/sdk"
)

// WaitTimeout is how long a test waits for a callback before it fails: as
// long as the edge waits for a worker's answer to a login or join
// (edge.Config.MembershipTimeout), so that a busy machine slows a test down
// but does not fail it. A passing test never waits this long.
const WaitTimeout = 30 * time.Second

// Recorder is an SDK callback that records every callback as a
// protocol.Event (Ev is the callback's name), so that tests wait for what a
// user sees, in order, with a deadline instead of a sleep.
type Recorder struct {
	mu     sync.Mutex
	events []protocol.Event
	times  []time.Time
	used   []bool
	notify chan struct{}
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder { return &Recorder{notify: make(chan struct{})} }

func (r *Recorder) add(ev protocol.Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.times = append(r.times, time.Now())
	r.used = append(r.used, false)
	close(r.notify)
	r.notify = make(chan struct{})
	r.mu.Unlock()
}

// Events returns every callback so far.
func (r *Recorder) Events() []protocol.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]protocol.Event(nil), r.events...)
}

// Wait returns the first callback named ev (any name if ev is ""), not
// returned by an earlier Wait, that satisfies every match; it fails the test
// after WaitTimeout.
func (r *Recorder) Wait(t testing.TB, ev string, match ...func(protocol.Event) bool) protocol.Event {
	t.Helper()
	return r.WaitFor(t, WaitTimeout, ev, match...)
}

// WaitFor is Wait with its own deadline.
func (r *Recorder) WaitFor(t testing.TB, d time.Duration, ev string, match ...func(protocol.Event) bool) protocol.Event {
	t.Helper()
	e, _ := r.WaitTimed(t, d, ev, match...)
	return e
}

// WaitTimed is WaitFor that also returns when the callback arrived.
func (r *Recorder) WaitTimed(t testing.TB, d time.Duration, ev string, match ...func(protocol.Event) bool) (protocol.Event, time.Time) {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		for i, e := range r.events {
			if r.used[i] || ev != "" && e.Ev != ev || !all(e, match) {
				continue
			}
			r.used[i] = true
			at := r.times[i]
			r.mu.Unlock()
			return e, at
		}
		ch := r.notify
		r.mu.Unlock()
		select {
		case <-ch:
		case <-deadline.C:
			t.Fatalf("no %s within %v; callbacks so far:\n%s", ev, d, r.dump())
			return protocol.Event{}, time.Time{}
		}
	}
}

// Count is how many callbacks named ev satisfying match arrived so far.
func (r *Recorder) Count(ev string, match ...func(protocol.Event) bool) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.events {
		if e.Ev == ev && all(e, match) {
			n++
		}
	}
	return n
}

func all(e protocol.Event, match []func(protocol.Event) bool) bool {
	for _, m := range match {
		if !m(e) {
			return false
		}
	}
	return true
}

func (r *Recorder) dump() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	from := 0
	if len(r.events) > 40 {
		from = len(r.events) - 40
		fmt.Fprintf(&b, "  (%d earlier callbacks left out)\n", from)
	}
	for _, e := range r.events[from:] {
		fmt.Fprintf(&b, "  %+v\n", e)
	}
	return b.String()
}

// Matchers for Wait.

// Account matches events about account.
func Account(a string) func(protocol.Event) bool {
	return func(e protocol.Event) bool { return e.Account == a }
}

// Channel matches events about channel.
func Channel(c string) func(protocol.Event) bool {
	return func(e protocol.Event) bool { return e.ChannelID == c }
}

// Code matches events with ecode c.
func Code(c int) func(protocol.Event) bool {
	return func(e protocol.Event) bool { return e.Ecode == c }
}

// MsgID matches message callbacks about message id.
func MsgID(id string) func(protocol.Event) bool {
	return func(e protocol.Event) bool { return e.MessageID == id }
}

// Msg matches events carrying message body m.
func Msg(m string) func(protocol.Event) bool {
	return func(e protocol.Event) bool { return e.Msg == m }
}

// The SDK callbacks.

func (r *Recorder) OnReconnecting(nretry uint32) {
	r.add(protocol.Event{Ev: protocol.EvReconnecting, Num: int(nretry)})
}
func (r *Recorder) OnReconnected(fd int) { r.add(protocol.Event{Ev: protocol.EvReconnected, FD: fd}) }
func (r *Recorder) OnLoginSuccess(uid uint32, fd int) {
	r.add(protocol.Event{Ev: protocol.EvLoginSuccess, UID: uid, FD: fd})
}
func (r *Recorder) OnLogout(ecode int) { r.add(protocol.Event{Ev: protocol.EvLogout, Ecode: ecode}) }
func (r *Recorder) OnLoginFailed(ecode int) {
	r.add(protocol.Event{Ev: protocol.EvLoginFailed, Ecode: ecode})
}
func (r *Recorder) OnChannelJoined(channelID string) {
	r.add(protocol.Event{Ev: protocol.EvChannelJoined, ChannelID: channelID})
}
func (r *Recorder) OnChannelJoinFailed(channelID string, ecode int) {
	r.add(protocol.Event{Ev: protocol.EvChannelJoinFailed, ChannelID: channelID, Ecode: ecode})
}
func (r *Recorder) OnChannelLeaved(channelID string, ecode int) {
	r.add(protocol.Event{Ev: protocol.EvChannelLeaved, ChannelID: channelID, Ecode: ecode})
}
func (r *Recorder) OnChannelUserJoined(account string, uid uint32) {
	r.add(protocol.Event{Ev: protocol.EvChannelUserJoined, Account: account, UID: uid})
}
func (r *Recorder) OnChannelUserLeaved(account string, uid uint32) {
	r.add(protocol.Event{Ev: protocol.EvChannelUserLeaved, Account: account, UID: uid})
}
func (r *Recorder) OnChannelUserList(n int, accounts []string, uids []uint32) {
	r.add(protocol.Event{Ev: protocol.EvChannelUserList, N: n, Accounts: accounts, Uids: uids})
}
func (r *Recorder) OnChannelUserJoinedIn(channelID, account string, uid uint32) {
	r.add(protocol.Event{Ev: protocol.EvChannelUserJoined, ChannelID: channelID, Account: account, UID: uid})
}
func (r *Recorder) OnChannelUserLeavedIn(channelID, account string, uid uint32) {
	r.add(protocol.Event{Ev: protocol.EvChannelUserLeaved, ChannelID: channelID, Account: account, UID: uid})
}
func (r *Recorder) OnChannelUserListIn(channelID string, n int, accounts []string, uids []uint32) {
	r.add(protocol.Event{Ev: protocol.EvChannelUserList, ChannelID: channelID, N: n, Accounts: accounts, Uids: uids})
}
func (r *Recorder) OnChannelQueryUserNumResult(channelID string, ecode, num int) {
	r.add(protocol.Event{Ev: protocol.EvChannelQueryUserNumResult, ChannelID: channelID, Ecode: ecode, Num: num})
}
func (r *Recorder) OnChannelQueryUserIsIn(channelID, account string, isIn int) {
	r.add(protocol.Event{Ev: protocol.EvChannelQueryUserIsIn, ChannelID: channelID, Account: account, IsIn: isIn})
}
func (r *Recorder) OnChannelAttrUpdated(channelID, name, value, typ string) {
	r.add(protocol.Event{Ev: protocol.EvChannelAttrUpdated, ChannelID: channelID, Name: name, Value: value, Type: typ})
}
func (r *Recorder) OnInviteReceived(channelID, account string, uid uint32, extra string) {
	r.add(protocol.Event{Ev: protocol.EvInviteReceived, ChannelID: channelID, Account: account, UID: uid, Extra: extra})
}
func (r *Recorder) OnInviteReceivedByPeer(channelID, account string, uid uint32) {
	r.add(protocol.Event{Ev: protocol.EvInviteReceivedByPeer, ChannelID: channelID, Account: account, UID: uid})
}
func (r *Recorder) OnInviteAcceptedByPeer(channelID, account string, uid uint32, extra string) {
	r.add(protocol.Event{Ev: protocol.EvInviteAcceptedByPeer, ChannelID: channelID, Account: account, UID: uid, Extra: extra})
}
func (r *Recorder) OnInviteRefusedByPeer(channelID, account string, uid uint32, extra string) {
	r.add(protocol.Event{Ev: protocol.EvInviteRefusedByPeer, ChannelID: channelID, Account: account, UID: uid, Extra: extra})
}
func (r *Recorder) OnInviteFailed(channelID, account string, uid uint32, ecode int, extra string) {
	r.add(protocol.Event{Ev: protocol.EvInviteFailed, ChannelID: channelID, Account: account, UID: uid, Ecode: ecode, Extra: extra})
}
func (r *Recorder) OnInviteEndByPeer(channelID, account string, uid uint32, extra string) {
	r.add(protocol.Event{Ev: protocol.EvInviteEndByPeer, ChannelID: channelID, Account: account, UID: uid, Extra: extra})
}
func (r *Recorder) OnInviteEndByMyself(channelID, account string, uid uint32) {
	r.add(protocol.Event{Ev: protocol.EvInviteEndByMyself, ChannelID: channelID, Account: account, UID: uid})
}
func (r *Recorder) OnInviteMsg(channelID, account string, uid int, msgType, msgData, extra string) {
	r.add(protocol.Event{Ev: protocol.EvInviteMsg, ChannelID: channelID, Account: account, UID: uint32(uid), MsgType: msgType, MsgData: msgData, Extra: extra})
}
func (r *Recorder) OnMessageSendError(messageID string, ecode int) {
	r.add(protocol.Event{Ev: protocol.EvMessageSendError, MessageID: messageID, Ecode: ecode})
}
func (r *Recorder) OnMessageSendSuccess(messageID string) {
	r.add(protocol.Event{Ev: protocol.EvMessageSendSuccess, MessageID: messageID})
}
func (r *Recorder) OnMessageInstantReceive(account string, uid uint32, msg string) {
	r.add(protocol.Event{Ev: protocol.EvMessageInstantReceive, Account: account, UID: uid, Msg: msg})
}
func (r *Recorder) OnMessageChannelReceive(channelID, account string, uid uint32, msg string) {
	r.add(protocol.Event{Ev: protocol.EvMessageChannelReceive, ChannelID: channelID, Account: account, UID: uid, Msg: msg})
}
func (r *Recorder) OnLog(txt string) { r.add(protocol.Event{Ev: protocol.EvLog, Desc: txt}) }
func (r *Recorder) OnInvokeRet(callID, err, resp string) {
	r.add(protocol.Event{Ev: protocol.EvInvokeRet, CallID: callID, Err: err, Resp: resp})
}
func (r *Recorder) OnUserAttrResult(account, name, value string) {
	r.add(protocol.Event{Ev: protocol.EvUserAttrResult, Account: account, Name: name, Value: value})
}
func (r *Recorder) OnUserAttrAllResult(account, value string) {
	r.add(protocol.Event{Ev: protocol.EvUserAttrAllResult, Account: account, Value: value})
}
func (r *Recorder) OnError(name string, ecode int, desc string) {
	r.add(protocol.Event{Ev: protocol.EvError, Name: name, Ecode: ecode, Desc: desc})
}
func (r *Recorder) OnQueryUserStatusResult(name, status string) {
	r.add(protocol.Event{Ev: protocol.EvQueryUserStatusResult, Name: name, Status: status})
}

var (
	_ sdk.Callback            = (*Recorder)(nil)
	_ sdk.ChannelUserCallback = (*Recorder)(nil)
)

// User is an SDK client with its recorder.
type User struct {
	*sdk.Client
	*Recorder
	Account string
}

// NewUser creates an SDK client for account on the given URLs, not yet logged
// in.
func NewUser(t testing.TB, account string, urls ...string) *User {
	t.Helper()
	c := sdk.CreateAgoraSDKInstance(App.ID, sdk.WithURL(urls...), sdk.WithReconnectBackoff(20*time.Millisecond, 200*time.Millisecond))
	rec := NewRecorder()
	c.CallbackSet(rec)
	t.Cleanup(c.Destroy)
	return &User{Client: c, Recorder: rec, Account: account}
}

// LoginUser creates a client for account on edge i and logs it in with
// _no_need_token.
func (e *Env) LoginUser(t testing.TB, edge int, account string) *User {
	t.Helper()
	u := NewUser(t, account, e.URL(edge))
	u.Login(App.ID, account, "_no_need_token", 0, "")
	u.Wait(t, protocol.EvLoginSuccess)
	return u
}
