package handlers

import (
	"context"
	"sync"

	"github.com/switchboard-io/switchboard/kv"
	"github.com/switchboard-io/switchboard/protocol"
)

// staleCleanups bounds how many accounts EndStaleSessions cleans up at
// once: a development server may restart with thousands of sessions left
// by a benchmark.
const staleCleanups = 32

// EndStaleSessions ends, at the start of the embedded default, every
// session its previous run left: that run's edge was the only one, so no
// client can resume them, and without this they would show as online until
// their records expire (SB_SESSION_TTL, then _conn_timeout). Each is
// cleaned up as an expired session is (sessionExpired): its channels are
// left with 604 and its account goes offline. Channel records that a
// session left behind without a record of its own (it expired while the
// process was down) are cleaned up the same way. It returns how many
// accounts it cleaned up.
//
// Only a process that knows no other edge exists may call it, before its
// own edge takes logins (node.Alone): in production other edges hold live
// sessions.
func (s *Service) EndStaleSessions(ctx context.Context) (int, error) {
	ended, err := s.Store.EndAllSessions(ctx)
	if err != nil {
		return 0, err
	}
	online := make(map[kv.Account]bool, len(ended))
	for _, a := range ended {
		online[a] = true
	}
	withChannels, err := s.Store.ChannelRecordAccounts(ctx)
	if err != nil {
		return 0, err
	}
	accounts := ended
	for _, a := range withChannels {
		if !online[a] {
			accounts = append(accounts, a)
		}
	}
	sem := make(chan struct{}, staleCleanups)
	var wg sync.WaitGroup
	for _, a := range accounts {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			s.endStale(ctx, a, online[a])
		}()
	}
	wg.Wait()
	return len(accounts), ctx.Err()
}

// endStale leaves the channels of an account's ended session with 604 and
// says the account went offline, once: TakeUserChannels lets only one
// caller (this, or a worker that saw the record expire) have the channels.
func (s *Service) endStale(ctx context.Context, a kv.Account, wasOnline bool) {
	uc, err := s.Store.TakeUserChannels(ctx, a.App, a.Name, func(string) bool { return true })
	if err != nil {
		s.Log.Warn("cleanup of a session of the last run failed", "app", a.App, "err", err)
		return
	}
	s.leaveAll(ctx, a.App, a.Name, uc.Channels, protocol.LeaveChannelDisconn)
	if wasOnline || uc.SID != "" {
		s.emitLogout(ctx, a.App, a.Name, protocol.LogoutNet)
		s.presence(ctx, a.App, a.Name, false)
	}
}
