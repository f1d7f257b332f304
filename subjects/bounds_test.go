package subjects

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// natsMaxControlLine is nats-server's default max_control_line: a PUB, HPUB
// or SUB line longer than this closes the connection that sent it.
const natsMaxControlLine = 4096

// extremes are characters at the edges of each UTF-8 length and of each
// packed rune width, and the characters that the plain form escapes.
var extremes = []string{
	"a", "-", "!", "~", "\u0080", "é", "\u07FF", "\u0800", "中", "\uFFFD",
	"\U00010000", "😀", "\U0001FFFF", "\U00020000", "\U0010FFFF",
}

// worstNames are legal names of 128 characters (and a few shorter ones):
// every mix of two extremes, k of one and 128-k of the other.
func worstNames() []string {
	var names []string
	for _, a := range extremes {
		for _, b := range extremes {
			for k := 0; k <= MaxNameChars; k++ {
				names = append(names, strings.Repeat(a, k)+strings.Repeat(b, MaxNameChars-k))
			}
		}
		for n := 1; n < MaxNameChars; n += 7 {
			names = append(names, strings.Repeat(a, n))
		}
	}
	return names
}

// worstAppIDs are legal app IDs (visible ASCII) of up to 128 bytes.
func worstAppIDs() []string {
	var ids []string
	for _, a := range []string{"a", "!", "~", "_", ".", "*", ">", "="} {
		for _, b := range []string{"a", "Z", "!", "~"} {
			for k := 0; k <= MaxAppIDBytes; k++ {
				ids = append(ids, strings.Repeat(a, k)+strings.Repeat(b, MaxAppIDBytes-k))
			}
		}
		for n := 1; n < MaxAppIDBytes; n += 5 {
			ids = append(ids, strings.Repeat(a, n))
		}
	}
	return ids
}

// longest returns the input whose token is longest, after checking that
// every token is within max and decodes back.
func longest(t *testing.T, inputs []string, max int) string {
	t.Helper()
	var worst string
	n := -1
	for _, s := range inputs {
		tok := Encode(s)
		if len(tok) > max {
			t.Fatalf("Encode(%q) is %d bytes, over %d", s, len(tok), max)
		}
		if back, err := Decode(tok); err != nil || back != s {
			t.Fatalf("Decode(Encode(%q)) = %q, %v", s, back, err)
		}
		if len(tok) > n {
			worst, n = s, len(tok)
		}
	}
	return worst
}

// TestBounds proves the bounds of bounds.go: every token of a legal app ID
// or name is within its bound, and every builder, given the inputs with the
// longest tokens in every argument (a builder's length is the sum of its
// tokens' lengths), stays within MaxSubjectBytes.
func TestBounds(t *testing.T) {
	if MaxPlainToken > MaxAppToken || MaxPlainToken > MaxNameToken {
		t.Fatal("a plain token may be longer than the packed bounds")
	}
	if MaxSubjectBytes*2 > natsMaxControlLine {
		t.Fatal("MaxSubjectBytes leaves less than half of NATS's control line for the rest")
	}
	names := worstNames()
	for _, s := range names {
		if !utf8.ValidString(s) || utf8.RuneCountInString(s) > MaxNameChars {
			t.Fatalf("not a legal name: %q", s)
		}
	}
	name := longest(t, names, MaxNameToken)
	app := longest(t, worstAppIDs(), MaxAppToken)
	op := strings.Repeat("~", MaxOpBytes) // the protocol's operations are letters
	bucket := "sb-" + strings.Repeat("x", 29)
	key := Key(app, name, name, name, name)
	t.Logf("longest name token %d bytes (%d in the plain form), app token %d, key %d",
		len(Encode(name)), len(name)*3, len(Encode(app)), len(key))

	built := map[string]string{
		"Req":             Req(app, op),
		"User":            User(app, name),
		"Channel":         Channel(app, name),
		"Online":          Online(app, name),
		"OnlineAll":       OnlineAll(app),
		"ChannelEvent":    ChannelEvent(app, name),
		"ChannelEventAll": ChannelEventAll(app),
		"Events":          Events(app, "channel.message"),
		"EventsOf":        EventsOf(app),
		"ChannelAll":      ChannelAll(app),
		"Edge":            Edge(name), // edge IDs are the operator's; bounded as names
		"ReqAll":          ReqAll,
		"Key":             key,
		"EdgeKey":         EdgeKey(name),
		"DeadEdgeKey":     DeadEdgeKey(name),
		"KVSubject":       KVSubject(bucket, key),
		// What the JetStream client builds around a key to read it.
		"direct get": "$JS.API.DIRECT.GET.KV_" + bucket + "." + KVSubject(bucket, key),
	}
	for what, s := range built {
		if len(s) > MaxSubjectBytes {
			t.Errorf("%s is %d bytes, over MaxSubjectBytes %d", what, len(s), MaxSubjectBytes)
		}
		if strings.ContainsAny(s, " \t\r\n") {
			t.Errorf("%s has white space", what)
		}
	}
	if len(key) > MaxKeyBytes {
		t.Errorf("Key is %d bytes, over MaxKeyBytes %d", len(key), MaxKeyBytes)
	}
	if parts, err := SplitKey(key); err != nil || len(parts) != 5 || parts[0] != app || parts[4] != name {
		t.Errorf("SplitKey(Key(...)) = %d parts, %v", len(parts), err)
	}
	if a, acct, ok := ParseUser(built["User"]); !ok || a != app || acct != name {
		t.Errorf("ParseUser of the longest User subject failed")
	}
}
