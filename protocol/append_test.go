package protocol_test

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/switchboard-io/switchboard/protocol"
)

// The hand-written frames are json.Marshal's bytes, for every string a
// client can send: escapes, HTML characters, invalid UTF-8, U+2028.
func TestAppend_IsWhatJSONMarshalWrites(t *testing.T) {
	texts := []string{
		"", "hello", `say "hi"`, `back\slash`, "tab\tnew\nline\rcr\bbs\fff", "\x00\x01\x1f\x7f",
		"<script>&amp;</script>", "ünïcødé 日本語 🎉", "\u2028\u2029", "bad \xff utf-8 \xc3", "\xed\xa0\x80",
		"~T1764676803790~xxxx",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		texts = append(texts, string(b))
	}
	for _, s := range texts {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := protocol.AppendString(nil, s); string(got) != string(want) {
			t.Fatalf("AppendString(%q) = %s, json.Marshal: %s", s, got, want)
		}
		want, _ = json.Marshal(protocol.Event{Ev: protocol.EvMessageInstantReceive, Account: "alice", Msg: s, Ack: true})
		if got := protocol.AppendInstantReceive(nil, "alice", s); string(got) != string(want) {
			t.Fatalf("AppendInstantReceive(%q) = %s, json.Marshal: %s", s, got, want)
		}
		want, _ = json.Marshal(protocol.Event{Ev: protocol.EvMessageSendSuccess, MessageID: s})
		if got := protocol.AppendSendSuccess([]byte("kept"), s); string(got) != "kept"+string(want) {
			t.Fatalf("AppendSendSuccess(%q) = %s, json.Marshal: %s", s, got, want)
		}
	}
	want, _ := json.Marshal(protocol.Event{Ev: protocol.EvMessageInstantReceive, Ack: true})
	if got := protocol.AppendInstantReceive(nil, "", ""); string(got) != string(want) {
		t.Fatalf("AppendInstantReceive with nothing = %s, json.Marshal: %s", got, want)
	}
}

func BenchmarkAppendInstantReceive(b *testing.B) {
	buf := make([]byte, 0, 256)
	msg := "~T1764676803790~" + strings.Repeat("x", 48)
	for b.Loop() {
		buf = protocol.AppendInstantReceive(buf[:0], "user-123", msg)
	}
}
