package protocol

import (
	"bytes"
	"unicode/utf8"
)

// DecodePeerMessage fills r from data when data is a messageInstantSend
// request written the plain way the SDKs write it, and reports whether it
// did. Plain means a JSON object whose keys are among "op", "account",
// "msg", "msgID" (strings with no escape, no control character and valid
// UTF-8) and "uid" (an unsigned integer that fits in 32 bits), each spelled
// exactly so and present at most once, and whose op is messageInstantSend.
//
// A peer message is the request a busy client sends most, and
// encoding/json spends eight allocations and a fifth of the edge's decoding
// time on it. Any frame that is not plain is left to encoding/json, whose
// result it always agrees with: an escape, a key in another case, a
// duplicate key or a number out of range decodes the slow way, not wrongly.
func DecodePeerMessage(data []byte, r *Request) bool {
	d := peerDecoder{data: data}
	if !d.byte('{') {
		return false
	}
	var seen uint8
	var out Request
	for more := !d.byte('}'); more; more = !d.byte('}') {
		if seen != 0 && !d.byte(',') {
			return false
		}
		key, ok := d.str()
		if !ok || !d.byte(':') {
			return false
		}
		var bit uint8
		var dst *string
		switch string(key) {
		case "op":
			bit, dst = 1, &out.Op
		case "account":
			bit, dst = 2, &out.Account
		case "msg":
			bit, dst = 4, &out.Msg
		case "msgID":
			bit, dst = 8, &out.MsgID
		case "uid":
			bit = 16
		default:
			return false
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		if dst == nil {
			if out.UID, ok = d.uint32(); !ok {
				return false
			}
			continue
		}
		v, ok := d.str()
		if !ok {
			return false
		}
		if bit == 1 {
			// The op is compared, not copied: it must be this one.
			if string(v) != OpMessageInstantSend {
				return false
			}
			out.Op = OpMessageInstantSend
			continue
		}
		*dst = string(v)
	}
	d.space()
	if d.i != len(d.data) || seen&1 == 0 {
		return false
	}
	*r = out
	return true
}

type peerDecoder struct {
	data []byte
	i    int
}

// space skips JSON whitespace.
func (d *peerDecoder) space() {
	for d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// byte consumes c, after whitespace, if it comes next.
func (d *peerDecoder) byte(c byte) bool {
	d.space()
	if d.i < len(d.data) && d.data[d.i] == c {
		d.i++
		return true
	}
	return false
}

// str consumes a plain string and returns its contents, which alias data.
func (d *peerDecoder) str() ([]byte, bool) {
	if !d.byte('"') {
		return nil, false
	}
	rest := d.data[d.i:]
	end := bytes.IndexByte(rest, '"')
	if end < 0 {
		return nil, false
	}
	s := rest[:end]
	for _, c := range s {
		if c < 0x20 || c == '\\' {
			return nil, false
		}
	}
	if !utf8.Valid(s) {
		return nil, false
	}
	d.i += end + 1
	return s, true
}

// uint32 consumes an unsigned integer that fits in 32 bits, written as JSON
// writes one: digits, with no leading zero.
func (d *peerDecoder) uint32() (uint32, bool) {
	d.space()
	start := d.i
	var n uint64
	for d.i < len(d.data) && d.data[d.i] >= '0' && d.data[d.i] <= '9' {
		n = n*10 + uint64(d.data[d.i]-'0')
		d.i++
		if n > 1<<32-1 {
			return 0, false
		}
	}
	digits := d.i - start
	if digits == 0 || (digits > 1 && d.data[start] == '0') {
		return 0, false
	}
	if d.i < len(d.data) {
		switch d.data[d.i] {
		case '.', 'e', 'E':
			return 0, false // a number with a fraction or an exponent
		}
	}
	return uint32(n), true
}
