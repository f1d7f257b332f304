package bench

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/switchboard-io/switchboard/protocol"
)

// probeChannels checks that the server can join a channel (and send to it,
// for fanout) before a scenario that needs channels is set up.
func (x *run) probeChannels(ctx context.Context, send bool) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	o := x.r.opt.Target
	acc := x.prefix + "-probe"
	c, err := Dial(ctx, newDialer("", 0), x.urls[0], DialOptions{Index: -1, Account: acc})
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	defer c.Close()
	ev, _, err := c.Call(ctx, &protocol.Request{Op: protocol.OpLogin, AppID: o.App, Account: acc, Token: o.tokenFor(acc)}, isAnswerTo(protocol.OpLogin))
	if err != nil || ev.Ev != protocol.EvLoginSuccess {
		return fmt.Errorf("probe login: %v %v", err, eventErrorText(&ev))
	}
	ch := x.prefix + "-probe"
	join := &protocol.Request{Op: protocol.OpChannelJoin, ChannelID: ch}
	ev, _, err = c.Call(ctx, join, isAnswerTo(protocol.OpChannelJoin))
	if err == nil && ev.Ecode == protocol.NotLoggedIn {
		// A request sent the moment onLoginSuccess arrives can still find
		// the edge without the session; say so, and try once more.
		x.note("channelJoin sent right after onLoginSuccess was refused with 1003 (not logged in): the edge answers the login before it records the session")
		sleepUntil(ctx, time.Now().Add(100*time.Millisecond))
		ev, _, err = c.Call(ctx, join, isAnswerTo(protocol.OpChannelJoin))
	}
	if err != nil {
		return errSkip("channels are not available on this server yet: channelJoin got no answer (" + err.Error() + ")")
	}
	if ev.Ev != protocol.EvChannelJoined {
		return errSkip("channels are not available on this server yet: channelJoin answered " + eventErrorText(&ev))
	}
	if send {
		id := "probe1"
		ev, _, err = c.Call(ctx, &protocol.Request{Op: protocol.OpMessageChannelSend, ChannelID: ch, Msg: "probe", MsgID: id},
			func(ev *protocol.Event) bool {
				return (ev.Ev == protocol.EvMessageSendSuccess || ev.Ev == protocol.EvMessageSendError) && ev.MessageID == id ||
					ev.Ev == protocol.EvError && ev.Name == protocol.OpMessageChannelSend
			})
		if err != nil {
			return errSkip("channel messages are not available on this server yet: messageChannelSend got no answer (" + err.Error() + ")")
		}
		if ev.Ev != protocol.EvMessageSendSuccess {
			return errSkip("channel messages are not available on this server yet: messageChannelSend answered " + eventErrorText(&ev))
		}
	}
	_, _, _ = c.Call(ctx, &protocol.Request{Op: protocol.OpLogout}, isAnswerTo(protocol.OpLogout))
	return nil
}

// prepareFanoutChannel raises the run channel's message limit (200 a
// second by default, which would cap the fan-out) and turns off join
// notifications, which the fan-out does not measure and which would cost
// K²/2 deliveries while the members join. A member sets the attributes and
// leaves; the channel keeps them for its TTL.
func (x *run) prepareFanoutChannel(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	o := x.r.opt.Target
	acc := x.prefix + "-admin"
	c, err := Dial(ctx, newDialer("", 0), x.urls[0], DialOptions{Index: -1, Account: acc})
	if err != nil {
		x.note("preparing the channel: " + err.Error())
		return
	}
	defer c.Close()
	ch := channelName(x.prefix)
	if ev, _, err := c.Call(ctx, &protocol.Request{Op: protocol.OpLogin, AppID: o.App, Account: acc, Token: o.tokenFor(acc)}, isAnswerTo(protocol.OpLogin)); err != nil || ev.Ev != protocol.EvLoginSuccess {
		x.note(fmt.Sprintf("preparing the channel: login: %v %s", err, eventErrorText(&ev)))
		return
	}
	if ev, _, err := c.Call(ctx, &protocol.Request{Op: protocol.OpChannelJoin, ChannelID: ch}, isAnswerTo(protocol.OpChannelJoin)); err != nil || ev.Ev != protocol.EvChannelJoined {
		x.note(fmt.Sprintf("preparing the channel: join: %v %s", err, eventErrorText(&ev)))
		return
	}
	for _, a := range []struct{ name, value, why string }{
		{"_sendmsg_limit", strconv.Itoa(channelMsgLimit), "the channel carries its default limit of messages a second, and faster steps fail"},
		{"_userNotification", "0", "members hear of every join during the setup"},
	} {
		ev, _, err := c.Call(ctx, &protocol.Request{Op: protocol.OpChannelSetAttr, ChannelID: ch, Name: a.name, Value: a.value},
			func(ev *protocol.Event) bool {
				return ev.Ev == protocol.EvChannelAttrUpdated && ev.Name == a.name || ev.Ev == protocol.EvError
			})
		if err == nil && ev.Ev != protocol.EvChannelAttrUpdated {
			err = eventError(&ev)
		}
		if err != nil {
			x.note(fmt.Sprintf("could not set the channel's %s (%v): %s", a.name, err, a.why))
			continue
		}
		x.note(fmt.Sprintf("channel attribute %s set to %s for the run", a.name, a.value))
	}
	_, _, _ = c.Call(ctx, &protocol.Request{Op: protocol.OpChannelLeave, ChannelID: ch}, func(ev *protocol.Event) bool { return ev.Ev == protocol.EvChannelLeaved })
	_, _, _ = c.Call(ctx, &protocol.Request{Op: protocol.OpLogout}, isAnswerTo(protocol.OpLogout))
}

// channelMsgLimit is the _sendmsg_limit of a fan-out channel: the highest
// the server accepts.
const channelMsgLimit = 1000000

func eventErrorText(ev *protocol.Event) string {
	if ev.Ev == "" {
		return ""
	}
	return eventError(ev).Error()
}
