package edge

import "testing"

// An acknowledgement as the SDKs write it is read without a decoding; any
// other spelling is left to json.Unmarshal, which reads it as it always did.
func TestParseAck_TakesOnlyTheSDKsSpelling(t *testing.T) {
	for _, c := range []struct {
		frame string
		n     uint64
		ok    bool
	}{
		{`{"op":"ack","n":42}`, 42, true},
		{`{"op":"ack","n":0}`, 0, true},
		{`{"op":"ack","n":9999999999999999999}`, 9999999999999999999, true},
		{`{"op":"ack","n":99999999999999999999}`, 0, false}, // past uint64: json refuses it
		{`{"op":"ack","n":042}`, 0, false},
		{`{"op":"ack","n":-1}`, 0, false},
		{`{"op":"ack","n":1.5}`, 0, false},
		{`{"op":"ack","n":"7"}`, 0, false},
		{`{"op":"ack","n":}`, 0, false},
		{`{"op":"ack","n":7 }`, 0, false},
		{`{"op":"ack","n":7,"x":1}`, 0, false},
		{`{"op":"ack","n":7}x`, 0, false},
		{`{"op":"ack", "n":7}`, 0, false},
		{`{"n":7,"op":"ack"}`, 0, false},
	} {
		n, ok := parseAck([]byte(c.frame))
		if n != c.n || ok != c.ok {
			t.Errorf("parseAck(%s) = %d, %v; want %d, %v", c.frame, n, ok, c.n, c.ok)
		}
	}
}
