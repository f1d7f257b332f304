package subjects

// EventsPrefix begins the subjects of the webhook event stream. It is not
// Prefix: the stream captures every subject under it, and nothing of the
// live traffic under "sb" must land there.
const EventsPrefix = "sbev"

// Events is the subject an event of type typ of app is written to in the
// event stream (package webhooks). typ is encoded like any name, so that
// "channel.join" stays one token.
func Events(app, typ string) string { return join(EventsPrefix, Encode(app), Encode(typ)) }

// EventsOf matches every event of app: one app's webhook consumer.
func EventsOf(app string) string { return join(EventsPrefix, Encode(app), "*") }

// EventsAll matches every event of every app: the stream's subjects.
const EventsAll = EventsPrefix + ".>"

// ChannelAll matches the fan-out subjects of every channel of app: the event
// stream captures them for an app whose webhook selects channel messages.
func ChannelAll(app string) string { return join(Prefix, Encode(app), "chan", "*") }
