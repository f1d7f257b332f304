package handlers

import "context"

// registerChannels adds the channel handlers.
func (s *Service) registerChannels() {}

// leaveAll takes account out of every channel in chans, telling the other
// members (code is the onChannelLeaved reason: logout, disconnect, kick).
func (s *Service) leaveAll(ctx context.Context, app, account string, chans []string, code int) {
}
