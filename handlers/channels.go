package handlers

import (
	"context"

	"github.com/switchboard-io/switchboard/protocol"
)

// registerChannels adds the channel handlers.
func (s *Service) registerChannels() {}

// leaveAll takes account out of every channel in chans, telling the other
// members (code is the onChannelLeaved reason: logout, disconnect, kick).
func (s *Service) leaveAll(ctx context.Context, app, account string, chans []string, code int) {
}

var errNotYet = protocol.Errorf(protocol.KindUnavailable, "not implemented")

// setChannelAttr sets a channel attribute and tells every member
// (onChannelAttrUpdated "update").
func (s *Service) setChannelAttr(ctx context.Context, app, channel, name, value string) error {
	return errNotYet
}

// delChannelAttr deletes a channel attribute and tells every member ("del").
func (s *Service) delChannelAttr(ctx context.Context, app, channel, name string) error {
	return errNotYet
}

// clearChannelAttr deletes every attribute of a channel and tells every
// member ("clear").
func (s *Service) clearChannelAttr(ctx context.Context, app, channel string) error {
	return errNotYet
}

// channelMembers lists the accounts in a channel, in the order they joined.
func (s *Service) channelMembers(ctx context.Context, app, channel string) ([]string, error) {
	return nil, errNotYet
}

// channelIsIn reports whether account is in channel.
func (s *Service) channelIsIn(ctx context.Context, app, channel, account string) (bool, error) {
	return false, errNotYet
}
