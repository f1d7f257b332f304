package sdk_test

import (
	"fmt"
	"log"

	"github.com/switchboard-io/switchboard/sdk"
)

// chat handles the callbacks it needs; NoopCallback supplies the others.
type chat struct {
	sdk.NoopCallback
	c    *sdk.Client
	done chan struct{}
}

func (h *chat) OnLoginSuccess(uid uint32, fd int) {
	h.c.ChannelJoin("room")
}

func (h *chat) OnLoginFailed(ecode int) {
	log.Printf("login failed: %d", ecode)
	close(h.done)
}

func (h *chat) OnChannelJoined(channelID string) {
	h.c.MessageChannelSend(channelID, "hello room", "")
}

func (h *chat) OnMessageSendSuccess(messageID string) {
	h.c.Logout()
}

// OnMessageSendError is the other answer every message gets: without it, a
// message that fails (over the rate limit, not a member) would leave the
// example waiting for a success that never comes.
func (h *chat) OnMessageSendError(messageID string, ecode int) {
	log.Printf("message %s not delivered: %d", messageID, ecode)
	h.c.Logout()
}

func (h *chat) OnMessageChannelReceive(channelID, account string, uid uint32, msg string) {
	fmt.Printf("%s in %s: %s\n", account, channelID, msg)
}

// OnChannelUserJoinedIn is ChannelUserCallback's: it names the channel, so
// the SDK calls it instead of OnChannelUserJoined.
func (h *chat) OnChannelUserJoinedIn(channelID, account string, uid uint32) {
	fmt.Printf("%s joined %s\n", account, channelID)
}
func (h *chat) OnChannelUserLeavedIn(channelID, account string, uid uint32) {}
func (h *chat) OnChannelUserListIn(channelID string, n int, accounts []string, uids []uint32) {
	fmt.Printf("%s has %d members\n", channelID, n)
}

func (h *chat) OnReconnecting(nretry uint32) { log.Printf("reconnecting (%d)", nretry) }

func (h *chat) OnLogout(ecode int) {
	log.Printf("logged out: %d", ecode)
	close(h.done)
}

func Example() {
	c := sdk.CreateAgoraSDKInstance("switchboard-dev", sdk.WithURL("ws://127.0.0.1:7400/ws"))
	defer c.Destroy()
	h := &chat{c: c, done: make(chan struct{})}
	c.CallbackSet(h)
	c.Login("switchboard-dev", "alice", "_no_need_token", 0, "")
	<-h.done
}
