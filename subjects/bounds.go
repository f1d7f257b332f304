package subjects

// Bounds. NATS refuses a protocol line longer than 4,096 bytes and closes
// the connection that sent it, which takes every session of the process
// with it; a JetStream KV read puts the key inside a longer API subject
// ($JS.API.DIRECT.GET.KV_<bucket>.$KV.<bucket>.<key>), and a PUB line also
// carries a reply inbox and sizes. So every subject and key built here from
// legal input stays within MaxSubjectBytes, half of NATS's limit.
//
// Legal input is what the edge and the workers let through
// (protocol.ValidAppID, protocol.ValidName); the limits below repeat
// protocol's, because this package imports nothing of ours, and a test in
// the hostile suite checks that they agree. TestBounds proves each bound with
// the worst inputs of every builder, and FuzzEncode the token bounds.
const (
	// MaxAppIDBytes is the longest legal app ID: visible ASCII bytes.
	MaxAppIDBytes = 128
	// MaxNameChars is the longest legal account, channel or attribute
	// name, in characters (code points).
	MaxNameChars = 128
	// MaxOpBytes bounds the operation of a Req subject; the edge forwards
	// only the protocol's operations (the longest has 23 bytes).
	MaxOpBytes = 32

	// MaxPlainToken is the longest token kept in the plain (_XX) form when
	// packing would make it shorter: names up to it keep their readable
	// subjects and keys.
	MaxPlainToken = 128
	// MaxAppToken bounds the token of a legal app ID: packed, 7 bits per
	// character.
	MaxAppToken = 2 + (MaxAppIDBytes*7+5)/6 // 152
	// MaxNameToken bounds the token of a legal name: packed, at most 21
	// bits per character.
	MaxNameToken = 2 + (MaxNameChars*maxPackWidth+5)/6 // 450

	// MaxKeyNames is how many names a KV key may join after the app ID
	// (an invitation's timer: caller, callee, channel, phase).
	MaxKeyNames = 4
	// MaxKeyBytes bounds every KV key built by Key: 1,956 bytes.
	MaxKeyBytes = MaxAppToken + MaxKeyNames*(1+MaxNameToken)
	// MaxSubjectBytes bounds every subject and KV key this package builds
	// from legal input, including the $KV.<bucket>. prefix of KVSubject.
	MaxSubjectBytes = 2048
)
