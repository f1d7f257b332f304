package protocol

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

// agreesWithJSON fails t when DecodePeerMessage takes data and encoding/json
// decodes it differently, or not at all.
func agreesWithJSON(t *testing.T, data []byte) bool {
	t.Helper()
	var fast Request
	if !DecodePeerMessage(data, &fast) {
		return false
	}
	var slow Request
	if err := json.Unmarshal(data, &slow); err != nil {
		t.Fatalf("took %q, which encoding/json refuses: %v", data, err)
	}
	if fast != slow {
		t.Fatalf("%q: decoded %+v, encoding/json %+v", data, fast, slow)
	}
	return true
}

func TestDecodePeerMessage_TakesWhatTheSDKsWrite(t *testing.T) {
	for _, s := range []string{
		// The Web SDK and the Go client.
		`{"op":"messageInstantSend","account":"bob","msg":"hello","msgID":"m-1"}`,
		// The C++ SDK writes the uid too.
		`{"op":"messageInstantSend","account":"bob","uid":0,"msg":"hello","msgID":"m-1"}`,
		`{"op":"messageInstantSend","account":"bob","uid":4294967295,"msg":"héllo 你好 😀"}`,
		// Order and whitespace are free.
		" {\n\t\"msg\" : \"\" , \"account\":\"bob\",\"op\":\"messageInstantSend\"\r} ",
		`{"op":"messageInstantSend"}`,
	} {
		if !agreesWithJSON(t, []byte(s)) {
			t.Errorf("%s: not taken", s)
		}
	}
}

func TestDecodePeerMessage_LeavesTheRestToEncodingJSON(t *testing.T) {
	for _, s := range []string{
		``, `{}`, `[]`, `null`, `{"op":"messageInstantSend"`,
		`{"op":"messageChannelSend","channelID":"c","msg":"x"}`, // another op
		`{"op":"login","account":"bob"}`,
		`{"account":"bob","msg":"x"}`,                             // no op
		`{"op":"messageInstantSend","msg":"say \"hi\""}`,          // an escape
		`{"op":"messageInstantSend","msg":"a\u0000b"}`,            // an escape
		"{\"op\":\"messageInstantSend\",\"msg\":\"a\tb\"}",        // a raw control character: invalid JSON
		"{\"op\":\"messageInstantSend\",\"msg\":\"\xff\"}",        // invalid UTF-8, which encoding/json replaces
		`{"op":"messageInstantSend","Account":"bob"}`,             // another case
		`{"op":"messageInstantSend","msgid":"m"}`,                 // another case
		`{"op":"messageInstantSend","account":"a","account":"b"}`, // a duplicate: the last wins
		`{"op":"messageInstantSend","msgID":null}`,
		`{"op":"messageInstantSend","account":5}`,
		`{"op":"messageInstantSend","uid":"5"}`,
		`{"op":"messageInstantSend","uid":-1}`,
		`{"op":"messageInstantSend","uid":4294967296}`,
		`{"op":"messageInstantSend","uid":01}`,
		`{"op":"messageInstantSend","uid":1.5}`,
		`{"op":"messageInstantSend","uid":1e3}`,
		`{"op":"messageInstantSend","uid":}`,
		`{"op":"messageInstantSend",}`,
		`{"op":"messageInstantSend" "msg":"x"}`,
		`{"op":"messageInstantSend"}x`,
		`{"op":"messageInstantSend"}{}`,
		`{"op":"messageInstantSend","token":"t"}`, // a field of another op
	} {
		if agreesWithJSON(t, []byte(s)) {
			t.Errorf("%q: taken", s)
		}
	}
}

// TestDecodePeerMessage_AgreesWithEncodingJSON decodes frames built from
// random pieces, valid and not, and checks every one it takes against
// encoding/json.
func TestDecodePeerMessage_AgreesWithEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	strs := []string{"", "bob", "héllo", "😀", "a b", `q"uote`, "tab\t", "nul\x00", "bad\xff", "back\\slash", "</script>", "\u2028", strings.Repeat("x", 300)}
	keys := []string{"op", "account", "msg", "msgID", "uid", "Account", "MSG", "channelID", "n"}
	ws := []string{"", "", "", " ", "\n", "\t "}
	taken := 0
	for range 20000 {
		var b strings.Builder
		b.WriteString(ws[rng.IntN(len(ws))] + "{")
		for k := range rng.IntN(6) {
			if k > 0 {
				b.WriteString(ws[rng.IntN(len(ws))] + ",")
			}
			key := keys[rng.IntN(len(keys))]
			if rng.IntN(8) > 0 && k == 0 {
				key = "op"
			}
			kj, _ := json.Marshal(key)
			b.WriteString(ws[rng.IntN(len(ws))] + string(kj) + ws[rng.IntN(len(ws))] + ":" + ws[rng.IntN(len(ws))])
			switch {
			case key == "op" && rng.IntN(6) > 0:
				b.WriteString(`"messageInstantSend"`)
			case key == "uid" || rng.IntN(10) == 0:
				b.WriteString([]string{"0", "7", "4294967295", "4294967296", "-3", "1.0", "01", "null", `"9"`}[rng.IntN(9)])
			case rng.IntN(3) == 0:
				v, _ := json.Marshal(strs[rng.IntN(len(strs))]) // escaped as encoding/json escapes
				b.Write(v)
			default:
				b.WriteString(`"` + strs[rng.IntN(len(strs))] + `"`) // raw, perhaps invalid
			}
		}
		b.WriteString(ws[rng.IntN(len(ws))] + "}" + ws[rng.IntN(len(ws))])
		if agreesWithJSON(t, []byte(b.String())) {
			taken++
		}
	}
	if taken < 1000 {
		t.Fatalf("only %d of 20,000 frames were taken: the generator no longer reaches the decoder", taken)
	}
}

func TestDecodePeerMessage_Allocates(t *testing.T) {
	data := []byte(`{"op":"messageInstantSend","account":"bob","msg":"hello","msgID":"m-1"}`)
	var r Request
	// One string each for the account, the message and its ID.
	if n := testing.AllocsPerRun(100, func() { DecodePeerMessage(data, &r) }); n > 3 {
		t.Fatalf("%v allocations per frame, want at most 3", n)
	}
}

func FuzzDecodePeerMessage(f *testing.F) {
	f.Add([]byte(`{"op":"messageInstantSend","account":"bob","uid":3,"msg":"hello","msgID":"m-1"}`))
	f.Add([]byte(`{"op":"messageInstantSend","msg":"say \"hi\""}`))
	f.Fuzz(func(t *testing.T, data []byte) { agreesWithJSON(t, data) })
}
