package webhooks

import (
	"encoding/json"
	"strconv"
	"strings"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/switchboard-io/switchboard/apps"
	"github.com/switchboard-io/switchboard/protocol"
	"github.com/switchboard-io/switchboard/subjects"
)

// Channel messages go from the sender's edge straight to the channel's
// subject, with no worker on the way. For an app whose webhook selects
// them, the event stream captures that subject (jetstream.EnsureEventStream),
// so a message is in the stream as soon as it is published, in the order the
// channel's members get it, and between the joins and leaves around it. The
// captured frame is turned into an event when it is delivered: its ID comes
// from its stream sequence and its timestamp from the stream, so that every
// delivery of it carries the same body.

// filters are the subjects of an app's consumer.
func filters(app string, messages bool) []string {
	f := []string{subjects.EventsOf(app)}
	if messages {
		f = append(f, subjects.ChannelAll(app))
	}
	return f
}

// eventOf reads the event of a stream message and the body to post; ok is
// false for a captured channel frame that is not a message.
func eventOf(app string, m njs.Msg, meta *njs.MsgMetadata) (ev Event, body []byte, ok bool) {
	if strings.HasPrefix(m.Subject(), subjects.EventsPrefix+".") {
		if err := json.Unmarshal(m.Data(), &ev); err != nil {
			return ev, nil, false
		}
		return ev, m.Data(), true
	}
	var f protocol.Event
	if err := json.Unmarshal(m.Data(), &f); err != nil || f.Ev != protocol.EvMessageChannelReceive {
		return ev, nil, false
	}
	ev = Event{
		ID:        "evt_msg_" + strconv.FormatUint(meta.Sequence.Stream, 10),
		Timestamp: meta.Timestamp.UnixMilli(),
		App:       app,
		Type:      apps.EventChannelMessage,
		Account:   f.Account,
		Channel:   f.ChannelID,
		Message:   f.Msg,
	}
	body, err := json.Marshal(ev)
	return ev, body, err == nil
}

// Captured lists the channel subjects the event stream must capture for
// the apps of r whose webhooks select channel messages; r may be nil.
func Captured(r Registry) []string {
	var out []string
	if r == nil {
		return nil
	}
	for _, id := range r.IDs() {
		if a, ok := r.Lookup(id); ok && a.Webhook.Wants(apps.EventChannelMessage) {
			out = append(out, subjects.ChannelAll(id))
		}
	}
	return out
}
