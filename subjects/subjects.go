// Package subjects is the only code that spells a NATS subject or a JetStream
// KV key. Every subject begins with the app ID, so apps are isolated by
// construction, and every name a user chose (app, account, channel) is
// encoded into one safe token first (encode.go), whose length is bounded so
// that no subject or key can exceed NATS's limits (bounds.go).
//
// It imports nothing of Switchboard's own.
package subjects

import "strings"

// Prefix begins every Switchboard subject.
const Prefix = "sb"

// Queue is the queue group the workers share.
const Queue = "workers"

// Req is the subject of requests for operation op in app. The protocol's
// operations encode to themselves; op is encoded all the same, so that no
// operation name can add a token.
func Req(app, op string) string { return join(Prefix, Encode(app), "req", Encode(op)) }

// ReqAll matches requests of every app and operation (workers).
const ReqAll = Prefix + ".*.req.*"

// User is the subject of events for one account: peer messages, kicks,
// invitations. The edge holding the account's session subscribes to it.
func User(app, account string) string { return join(Prefix, Encode(app), "user", Encode(account)) }

// Channel is the fan-out subject of a channel: messages, joins, leaves and
// attribute updates go to every edge with a member there.
func Channel(app, channel string) string {
	return join(Prefix, Encode(app), "chan", Encode(channel))
}

// ParseUser returns the app and account of a User subject.
func ParseUser(subject string) (app, account string, ok bool) {
	parts := strings.Split(subject, ".")
	if len(parts) != 4 || parts[0] != Prefix || parts[2] != "user" {
		return "", "", false
	}
	app, err1 := Decode(parts[1])
	account, err2 := Decode(parts[3])
	return app, account, err1 == nil && err2 == nil
}

// Online is the presence subject of one account: its logins and logouts.
func Online(app, account string) string {
	return join(Prefix, Encode(app), "online", Encode(account))
}

// OnlineAll matches the presence subjects of every account of app (members of
// the special channel _agora_user_online).
func OnlineAll(app string) string { return join(Prefix, Encode(app), "online", "*") }

// ChannelEvent is the subject of joins and leaves of one channel, as seen by
// members of the special channel _agora_channel_event.
func ChannelEvent(app, channel string) string {
	return join(Prefix, Encode(app), "chanev", Encode(channel))
}

// ChannelEventAll matches ChannelEvent for every channel of app.
func ChannelEventAll(app string) string { return join(Prefix, Encode(app), "chanev", "*") }

// Edge is the control subject of one edge instance.
func Edge(edgeID string) string { return join(Prefix, "edge", Encode(edgeID)) }

// Key joins encoded names into a JetStream KV key: Key(app, account) is
// "<app>.<account>", each part encoded. It takes at most MaxKeyNames names
// after the app ID, which keeps the key within MaxKeyBytes.
func Key(app string, names ...string) string {
	enc := make([]string, 0, 1+len(names))
	enc = append(enc, Encode(app))
	for _, n := range names {
		enc = append(enc, Encode(n))
	}
	return strings.Join(enc, ".")
}

// deadEdge begins the key that claims the cleanup after a dead edge.
const deadEdge = "dead"

// EdgeKey is the key of an edge's liveness lease in the edges bucket.
func EdgeKey(edgeID string) string { return Encode(edgeID) }

// DeadEdgeKey is the key that one worker creates to claim the cleanup after
// the edge edgeID died.
func DeadEdgeKey(edgeID string) string { return join(deadEdge, Encode(edgeID)) }

// ParseEdgeKey returns the edge ID of an EdgeKey; ok is false for any other
// key of the edges bucket.
func ParseEdgeKey(key string) (edgeID string, ok bool) {
	if strings.IndexByte(key, '.') >= 0 {
		return "", false
	}
	id, err := Decode(key)
	return id, err == nil
}

// KVSubject is the subject under which a JetStream KV bucket stores key:
// a write published there is a write of the key.
func KVSubject(bucket, key string) string { return join("$KV", bucket, key) }

// SplitKey undoes Key.
func SplitKey(key string) ([]string, error) {
	parts := strings.Split(key, ".")
	for i, p := range parts {
		d, err := Decode(p)
		if err != nil {
			return nil, err
		}
		parts[i] = d
	}
	return parts, nil
}

// LastToken decodes the last token of a subject, such as the account of an
// Online subject.
func LastToken(subject string) (string, error) {
	return Decode(subject[strings.LastIndexByte(subject, '.')+1:])
}

func join(tokens ...string) string { return strings.Join(tokens, ".") }
