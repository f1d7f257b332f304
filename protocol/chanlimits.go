package protocol

// Limits of a channel's attributes (docs/channels.md). They exist so that a
// join's reply — onChannelJoined, onChannelUserList and one
// onChannelAttrUpdated per attribute — always fits in one NATS message:
// without them anyone could make every later join of a channel fail by
// writing attributes to it. A write that would take a channel over either
// limit fails with KindTooLarge (1005) and changes nothing.
const (
	// MaxChanAttrs is how many custom attributes (names not beginning
	// with "_") a channel may hold. The built-ins are not counted: they
	// are a fixed set with short values, bounded on their own.
	MaxChanAttrs = 64
	// MaxChanAttrsTotalBytes bounds the custom attributes of a channel in
	// total: the bytes of their names and values, as UTF-8. One value may
	// still be up to MaxChanAttrBytes.
	MaxChanAttrsTotalBytes = 64 << 10
)

// NATSMaxPayload is the largest NATS message Switchboard relies on: the
// max_payload of nats-server's default configuration (1 MiB), which the
// embedded server and deploy/k8s keep. A cluster configured with less may
// refuse large join replies (docs/channels.md).
const NATSMaxPayload = 1 << 20

// MaxJoinReplyBytes is the largest encoded join reply a worker sends: the
// NATS payload less room for headers (trace context). A worker that would
// answer with more (a channel whose attributes were written before the
// limits existed) fails the join instead and leaves no membership behind.
const MaxJoinReplyBytes = NATSMaxPayload - 16<<10
