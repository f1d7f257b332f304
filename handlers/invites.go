package handlers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/switchboard-io/switchboard/kv"
	"github.com/switchboard-io/switchboard/protocol"
	"github.com/switchboard-io/switchboard/subjects"
)

// Call invitations (docs/invitations.md). An invitation is a KV record per
// (app, caller, callee, channel) that moves waiting → ringing → accepted or
// ends; every phase has a timer key whose expiry any worker may act on, and
// the record's compare-and-swap makes exactly one of them do it. Workers
// keep nothing in memory, so one that dies mid-invitation loses nothing.

// Defaults of the invitation timings (Config).
const (
	DefaultInviteOfflineWait = 20 * time.Second
	DefaultInviteRingTimeout = 60 * time.Second
	DefaultCallTTL           = 24 * time.Hour
)

// MaxPendingInvites bounds the invitations waiting for one callee.
const MaxPendingInvites = 100

// ExtraRequirePeerOnline is the key of an invitation's extra that makes it
// fail at once (703) when the callee is offline, instead of waiting.
const ExtraRequirePeerOnline = "_require_peer_online"

// TimeoutExtra is the extra of the onInviteEndByPeer that tells a callee an
// invitation rang out unanswered.
const TimeoutExtra = `{"_reason":"timeout"}`

const (
	// inviteBackstop is how long an invitation record outlives its phase:
	// should every worker miss the phase's timer, the record still goes.
	inviteBackstop = 30 * time.Second
	// inviteSlack is how late past its deadline a pending invitation may
	// be before a new invitation for the same key takes it for one whose
	// timer was missed, and replaces it (telling its caller first).
	inviteSlack = 5 * time.Second
)

var (
	errReinvite = protocol.Coded(protocol.KindConflict, protocol.InviteReinvite,
		"an invitation of this account to this channel is pending")
	errNoInvite = protocol.Coded(protocol.KindNotFound, protocol.InviteOther,
		"no such invitation or call")
	errCalleeOffline  = protocol.Coded(protocol.KindNotFound, protocol.InvitePeerOffline, "the callee is offline")
	errCallerOffline  = protocol.Coded(protocol.KindNotFound, protocol.InvitePeerOffline, "the caller is offline")
	errTooManyInvites = protocol.Coded(protocol.KindConflict, protocol.InviteOther,
		"the callee has too many pending invitations")
	errSelfInvite = protocol.Errorf(protocol.KindInvalid, "an account cannot invite itself")
	errExtraJSON  = protocol.Errorf(protocol.KindInvalid, "extra must be JSON")
)

// noSIP is the error of the phone and DTMF operations.
const noSIP = "phone calls and DTMF need a SIP gateway, which this server does not have"

// registerInvites adds the invitation handlers.
func (s *Service) registerInvites() {
	s.handlers[protocol.OpChannelInviteUser] = s.inviteUser
	s.handlers[protocol.OpChannelInviteUser2] = s.inviteUser
	s.handlers[protocol.OpChannelInviteAccept] = s.inviteAccept
	s.handlers[protocol.OpChannelInviteRefuse] = s.inviteRefuse
	s.handlers[protocol.OpChannelInviteEnd] = s.inviteEnd
	for _, op := range []string{protocol.OpChannelInviteDTMF, protocol.OpChannelInvitePhone,
		protocol.OpChannelInvitePhone2, protocol.OpChannelInvitePhone3, protocol.OpMessageDTMFSend} {
		s.handlers[op] = s.withoutSIP
	}
}

// withoutSIP fails the operations that need a SIP gateway: onInviteFailed
// (700) for the invitation ones, onError (1001) for messageDTMFSend.
func (s *Service) withoutSIP(_ context.Context, c *protocol.Call) (*protocol.Reply, error) {
	if c.Req.Op == protocol.OpMessageDTMFSend {
		return nil, protocol.Coded(protocol.KindUnavailable, protocol.GeneralFailed, noSIP)
	}
	return nil, protocol.Coded(protocol.KindUnavailable, protocol.InviteOther, noSIP)
}

// inviteUser invites Req.Account to Req.ChannelID. An online callee gets
// onInviteReceived at once and the caller onInviteReceivedByPeer; an
// offline one gets it when it logs in within the offline wait, or the
// caller gets onInviteFailed(703).
func (s *Service) inviteUser(ctx context.Context, c *protocol.Call) (*protocol.Reply, error) {
	r := &c.Req
	if r.Account == c.Account {
		return nil, errSelfInvite
	}
	requireOnline, err := inviteExtra(r.Extra)
	if err != nil {
		return nil, err
	}
	k := kv.InviteKey{App: c.App, Caller: c.Account, Callee: r.Account, Channel: r.ChannelID}
	sess, online, err := s.session(ctx, c.App, r.Account)
	if err != nil {
		return nil, err
	}
	if !online && requireOnline {
		return nil, errCalleeOffline
	}
	now := s.Now()
	inv := kv.Invite{State: kv.InviteWaiting, Extra: r.Extra, Timer: newToken(), Since: now.UnixMilli()}
	phase := s.offlineWait()
	if online {
		inv.State, inv.CalleeSID, phase = kv.InviteRinging, sess.SID, s.ringTimeout()
	}
	inv.Deadline = now.Add(phase).UnixMilli()

	var missed *kv.Invite
	err = s.Store.UpdateInvite(ctx, k, func(cur *kv.Invite) (kv.InviteChange, error) {
		missed = nil
		if cur != nil && cur.Pending() {
			if now.UnixMilli() < cur.Deadline+inviteSlack.Milliseconds() {
				return kv.InviteChange{}, errReinvite
			}
			old := *cur
			missed = &old
		}
		return kv.InviteChange{Next: &inv, TTL: phase + inviteBackstop}, nil
	})
	if err != nil {
		return nil, err
	}
	if missed != nil {
		s.inviteExpired(ctx, k, *missed)
	}
	if err := s.Store.StartInviteTimer(ctx, k, inv.Timer, phase); err != nil {
		s.dropInvite(ctx, k, inv.Timer)
		return nil, err
	}
	err = s.Store.AddPendingInvite(ctx, c.App, r.Account, inviteRef(k), MaxPendingInvites, s.inviteIndexTTL())
	if err != nil {
		s.dropInvite(ctx, k, inv.Timer)
		if errors.Is(err, kv.ErrTooMany) {
			return nil, errTooManyInvites
		}
		return nil, err
	}
	byPeer := protocol.Event{Ev: protocol.EvInviteReceivedByPeer, ChannelID: r.ChannelID, Account: r.Account}
	if online {
		// To the account, not to sess.SID: a session that logged in since
		// we looked may have read the callee's index before this invitation
		// was in it, and must not miss it.
		if err := s.publish(ctx, subjects.User(c.App, r.Account), receivedEvent(k, inv)); err != nil {
			s.dropInvite(ctx, k, inv.Timer)
			return nil, err
		}
		return &protocol.Reply{Events: []protocol.Event{byPeer}}, nil
	}
	// The callee was offline. A login since then may have read its index
	// before this invitation was in it: look again now that it is.
	if sess, online, err := s.session(ctx, c.App, r.Account); err == nil && online {
		if rang, err := s.ring(ctx, k, sess.SID, false); err == nil && rang {
			return &protocol.Reply{Events: []protocol.Event{byPeer}}, nil
		}
	}
	return &protocol.Reply{}, nil
}

// inviteAccept answers an invitation with yes: the caller gets
// onInviteAcceptedByPeer, and the call lasts until either side ends it.
func (s *Service) inviteAccept(ctx context.Context, c *protocol.Call) (*protocol.Reply, error) {
	return s.inviteAnswer(ctx, c, true)
}

// inviteRefuse answers an invitation with no: the caller gets
// onInviteRefusedByPeer.
func (s *Service) inviteRefuse(ctx context.Context, c *protocol.Call) (*protocol.Reply, error) {
	return s.inviteAnswer(ctx, c, false)
}

// inviteAnswer answers the pending invitation from Req.Account to the
// caller of c. An accept whose caller has gone offline ends the invitation
// and fails with 703: nobody would be in the call.
func (s *Service) inviteAnswer(ctx context.Context, c *protocol.Call, accept bool) (*protocol.Reply, error) {
	r := &c.Req
	if _, err := inviteExtra(r.Extra); err != nil {
		return nil, err
	}
	k := kv.InviteKey{App: c.App, Caller: r.Account, Callee: c.Account, Channel: r.ChannelID}
	callerOnline := true
	if accept {
		var err error
		if _, callerOnline, err = s.session(ctx, c.App, r.Account); err != nil {
			return nil, err
		}
	}
	err := s.Store.UpdateInvite(ctx, k, func(cur *kv.Invite) (kv.InviteChange, error) {
		if cur == nil || !cur.Pending() {
			return kv.InviteChange{}, errNoInvite
		}
		if !accept || !callerOnline {
			return kv.InviteChange{Remove: true}, nil
		}
		call := *cur
		call.State, call.Timer, call.Deadline, call.CalleeSID = kv.InviteAccepted, "", 0, c.Session
		return kv.InviteChange{Next: &call, TTL: s.callTTL()}, nil
	})
	if err != nil {
		return nil, err
	}
	s.unindex(ctx, k)
	ev := protocol.Event{Ev: protocol.EvInviteRefusedByPeer, ChannelID: r.ChannelID, Account: c.Account, Extra: r.Extra}
	if accept {
		if !callerOnline {
			return nil, errCallerOffline
		}
		ev.Ev = protocol.EvInviteAcceptedByPeer
	}
	if err := s.publish(ctx, subjects.User(c.App, r.Account), ev); err != nil {
		return nil, err
	}
	return &protocol.Reply{}, nil
}

// inviteEnd ends the invitation or call between the caller of c and
// Req.Account on Req.ChannelID, whichever of the two made it: the caller
// of c gets onInviteEndByMyself, the peer onInviteEndByPeer (unless the
// invitation had not reached it yet). A caller ending an unanswered
// invitation cancels it.
func (s *Service) inviteEnd(ctx context.Context, c *protocol.Call) (*protocol.Reply, error) {
	r := &c.Req
	if _, err := inviteExtra(r.Extra); err != nil {
		return nil, err
	}
	peer := r.Account
	keys := []kv.InviteKey{
		{App: c.App, Caller: c.Account, Callee: peer, Channel: r.ChannelID},
		{App: c.App, Caller: peer, Callee: c.Account, Channel: r.ChannelID},
	}
	for _, k := range keys {
		var ended *kv.Invite
		err := s.Store.UpdateInvite(ctx, k, func(cur *kv.Invite) (kv.InviteChange, error) {
			ended = nil
			if cur == nil {
				return kv.InviteChange{}, nil
			}
			old := *cur
			ended = &old
			return kv.InviteChange{Remove: true}, nil
		})
		if err != nil {
			return nil, err
		}
		if ended == nil {
			continue
		}
		if ended.Pending() {
			s.unindex(ctx, k)
		}
		if !(k.Caller == c.Account && ended.State == kv.InviteWaiting) {
			ev := protocol.Event{Ev: protocol.EvInviteEndByPeer, ChannelID: r.ChannelID, Account: c.Account, Extra: r.Extra}
			if err := s.publish(ctx, subjects.User(c.App, peer), ev); err != nil {
				s.Log.Warn("invitation end not delivered", "app", c.App, "err", err)
			}
		}
		return &protocol.Reply{Events: []protocol.Event{{
			Ev: protocol.EvInviteEndByMyself, ChannelID: r.ChannelID, Account: peer,
		}}}, nil
	}
	return nil, errNoInvite
}

// deliverPendingInvites hands a session that just logged in the
// invitations pending for its account: those that waited for it ring now
// (their callers get onInviteReceivedByPeer), and those that rang at an
// earlier session ring again here. It costs one KV Get when there are
// none. Failures are logged: they must not fail the login.
func (s *Service) deliverPendingInvites(ctx context.Context, app, account, sid string) {
	refs, err := s.Store.PendingInvites(ctx, app, account)
	if err != nil {
		s.Log.Warn("reading pending invitations failed", "app", app, "err", err)
		return
	}
	for _, ref := range refs {
		k := kv.InviteKey{App: app, Caller: ref.Caller, Callee: account, Channel: ref.Channel}
		inv, err := s.Store.Invite(ctx, k)
		switch {
		case errors.Is(err, kv.ErrNotFound) || err == nil && !inv.Pending():
			s.unindex(ctx, k)
		case err != nil:
			s.Log.Warn("reading an invitation failed", "app", app, "err", err)
		case inv.State == kv.InviteWaiting:
			if _, err := s.ring(ctx, k, sid, true); err != nil {
				s.Log.Warn("delivering an invitation failed", "app", app, "err", err)
			}
		case inv.CalleeSID != sid:
			s.ringAgain(ctx, k, sid)
		}
	}
}

// ring delivers a waiting invitation to the callee's session sid and
// starts its ring timeout. It reports false when the invitation was not
// waiting (another worker rang it, or it ended). With tellCaller the caller
// gets onInviteReceivedByPeer here; otherwise the caller's handler replies
// with it.
func (s *Service) ring(ctx context.Context, k kv.InviteKey, sid string, tellCaller bool) (bool, error) {
	token, phase, now := newToken(), s.ringTimeout(), s.Now()
	// The timer first: a record that names a timer that does not exist
	// would ring until its backstop, and its caller would never hear 704.
	if err := s.Store.StartInviteTimer(ctx, k, token, phase); err != nil {
		return false, err
	}
	var rung *kv.Invite
	err := s.Store.UpdateInvite(ctx, k, func(cur *kv.Invite) (kv.InviteChange, error) {
		rung = nil
		if cur == nil || cur.State != kv.InviteWaiting {
			return kv.InviteChange{}, nil
		}
		next := *cur
		next.State, next.Timer, next.Deadline, next.CalleeSID = kv.InviteRinging, token, now.Add(phase).UnixMilli(), sid
		rung = &next
		return kv.InviteChange{Next: &next, TTL: phase + inviteBackstop}, nil
	})
	if err != nil || rung == nil {
		return false, err
	}
	if err := s.publish(ctx, subjects.User(k.App, k.Callee), receivedEvent(k, *rung), protocol.HdrSession, sid); err != nil {
		return true, err
	}
	if tellCaller {
		ev := protocol.Event{Ev: protocol.EvInviteReceivedByPeer, ChannelID: k.Channel, Account: k.Callee}
		if err := s.publish(ctx, subjects.User(k.App, k.Caller), ev); err != nil {
			return true, err
		}
	}
	return true, nil
}

// ringAgain delivers a ringing invitation to a new session of its callee:
// the client that logged in afresh knows nothing of it. Its deadline stays.
func (s *Service) ringAgain(ctx context.Context, k kv.InviteKey, sid string) {
	var inv *kv.Invite
	err := s.Store.UpdateInvite(ctx, k, func(cur *kv.Invite) (kv.InviteChange, error) {
		inv = nil
		if cur == nil || cur.State != kv.InviteRinging || cur.CalleeSID == sid {
			return kv.InviteChange{}, nil
		}
		next := *cur
		next.CalleeSID = sid
		inv = &next
		ttl := time.UnixMilli(cur.Deadline).Sub(s.Now()) + inviteBackstop
		return kv.InviteChange{Next: &next, TTL: max(ttl, time.Second)}, nil
	})
	if err == nil && inv != nil {
		err = s.publish(ctx, subjects.User(k.App, k.Callee), receivedEvent(k, *inv), protocol.HdrSession, sid)
	}
	if err != nil {
		s.Log.Warn("delivering an invitation again failed", "app", k.App, "err", err)
	}
}

// watchInvites makes this worker one of those that act on invitation
// timers.
func (s *Service) watchInvites(ctx context.Context) error {
	return s.Store.WatchInviteTimers(ctx, s.inviteTimerFired)
}

// inviteTimerFired ends the invitation whose current phase the timer
// token timed. Every worker sees every timer; the compare-and-swap lets one
// of them end the invitation and tell its parties, and timers of phases
// that are over do nothing.
func (s *Service) inviteTimerFired(k kv.InviteKey, token string) {
	ctx, cancel := context.WithTimeout(context.Background(), s.Cfg.RequestTimeout)
	defer cancel()
	var fired *kv.Invite
	err := s.Store.UpdateInvite(ctx, k, func(cur *kv.Invite) (kv.InviteChange, error) {
		fired = nil
		if cur == nil || !cur.Pending() || cur.Timer != token {
			return kv.InviteChange{}, nil
		}
		old := *cur
		fired = &old
		return kv.InviteChange{Remove: true}, nil
	})
	if err != nil {
		s.Log.Warn("invitation timeout not handled; the record expires by its TTL", "app", k.App, "err", err)
		return
	}
	if fired != nil {
		s.inviteExpired(ctx, k, *fired)
	}
}

// inviteExpired tells the parties of an invitation, already removed, whose
// phase ran out: the caller gets onInviteFailed, 703 if the callee never
// came online and 704 if it did not answer; a callee it rang gets
// onInviteEndByPeer with TimeoutExtra.
func (s *Service) inviteExpired(ctx context.Context, k kv.InviteKey, inv kv.Invite) {
	s.unindex(ctx, k)
	code := protocol.InviteTimeout
	if inv.State == kv.InviteWaiting {
		code = protocol.InvitePeerOffline
	}
	failed := protocol.Event{Ev: protocol.EvInviteFailed, ChannelID: k.Channel, Account: k.Callee, Ecode: code, Extra: inv.Extra}
	if err := s.publish(ctx, subjects.User(k.App, k.Caller), failed); err != nil {
		s.Log.Warn("invitation failure not delivered", "app", k.App, "err", err)
	}
	if inv.State == kv.InviteRinging {
		end := protocol.Event{Ev: protocol.EvInviteEndByPeer, ChannelID: k.Channel, Account: k.Caller, Extra: TimeoutExtra}
		if err := s.publish(ctx, subjects.User(k.App, k.Callee), end); err != nil {
			s.Log.Warn("invitation end not delivered", "app", k.App, "err", err)
		}
	}
}

// dropInvite removes an invitation that its own handler failed to finish,
// if it is still the one with that timer token.
func (s *Service) dropInvite(ctx context.Context, k kv.InviteKey, token string) {
	err := s.Store.UpdateInvite(ctx, k, func(cur *kv.Invite) (kv.InviteChange, error) {
		if cur == nil || cur.Timer != token {
			return kv.InviteChange{}, nil
		}
		return kv.InviteChange{Remove: true}, nil
	})
	if err == nil {
		s.unindex(ctx, k)
	}
}

// unindex removes an invitation from its callee's pending list. A failure
// leaves a stale entry, which the callee's next login prunes.
func (s *Service) unindex(ctx context.Context, k kv.InviteKey) {
	if err := s.Store.RemovePendingInvite(ctx, k.App, k.Callee, inviteRef(k), s.inviteIndexTTL()); err != nil {
		s.Log.Warn("removing a pending invitation from its index failed", "app", k.App, "err", err)
	}
}

func inviteRef(k kv.InviteKey) kv.InviteRef {
	return kv.InviteRef{Caller: k.Caller, Channel: k.Channel}
}

// receivedEvent is the callee's onInviteReceived.
func receivedEvent(k kv.InviteKey, inv kv.Invite) protocol.Event {
	return protocol.Event{Ev: protocol.EvInviteReceived, ChannelID: k.Channel, Account: k.Caller, Extra: inv.Extra}
}

// inviteExtra checks an invitation's extra (empty, or JSON) and reports
// whether it asks for _require_peer_online (1, "1" or true).
func inviteExtra(extra string) (requireOnline bool, err error) {
	if extra == "" {
		return false, nil
	}
	if !json.Valid([]byte(extra)) {
		return false, errExtraJSON
	}
	var opts map[string]json.RawMessage
	if json.Unmarshal([]byte(extra), &opts) != nil {
		return false, nil // JSON, but not an object: no options
	}
	switch strings.TrimSpace(string(opts[ExtraRequirePeerOnline])) {
	case "1", `"1"`, "true":
		return true, nil
	}
	return false, nil
}

// session returns account's live session and whether there is one.
func (s *Service) session(ctx context.Context, app, account string) (kv.Session, bool, error) {
	sess, _, err := s.Store.Session(ctx, app, account)
	if errors.Is(err, kv.ErrNotFound) {
		return sess, false, nil
	}
	return sess, err == nil, err
}

// online reports whether account has a live session.
func (s *Service) online(ctx context.Context, app, account string) (bool, error) {
	_, ok, err := s.session(ctx, app, account)
	return ok, err
}

// newToken names one phase of an invitation (its timer key's last token).
func newToken() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (s *Service) offlineWait() time.Duration {
	return orDefault(s.Cfg.InviteOfflineWait, DefaultInviteOfflineWait)
}

func (s *Service) ringTimeout() time.Duration {
	return orDefault(s.Cfg.InviteRingTimeout, DefaultInviteRingTimeout)
}

func (s *Service) callTTL() time.Duration { return orDefault(s.Cfg.CallTTL, DefaultCallTTL) }

// inviteIndexTTL is how long a callee's index of pending invitations is
// kept after its last change: as long as any of them may stay pending.
func (s *Service) inviteIndexTTL() time.Duration {
	return s.offlineWait() + s.ringTimeout() + inviteBackstop
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
