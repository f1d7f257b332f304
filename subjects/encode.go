package subjects

import (
	"errors"
	"strings"
)

// ErrBadToken is returned by Decode for a token that Encode cannot produce.
var ErrBadToken = errors.New("subjects: malformed encoded token")

const hexDigits = "0123456789ABCDEF"

// safe reports whether b passes through Encode unchanged.
func safe(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-'
}

// Encode turns any string into one token that is valid both in a NATS subject
// and in a JetStream KV key: every byte outside [A-Za-z0-9-] becomes _XX (two
// upper-case hex digits). The empty string becomes "_", which no other input
// produces. Readable names stay readable and the encoding round-trips.
func Encode(s string) string {
	if s == "" {
		return "_"
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if !safe(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if safe(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('_')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// Decode undoes Encode. It rejects every token Encode cannot produce, so
// that each name has exactly one encoding.
func Decode(tok string) (string, error) {
	if tok == "_" {
		return "", nil
	}
	if tok == "" {
		return "", ErrBadToken
	}
	if strings.IndexByte(tok, '_') < 0 {
		for i := 0; i < len(tok); i++ {
			if !safe(tok[i]) {
				return "", ErrBadToken
			}
		}
		return tok, nil
	}
	out := make([]byte, 0, len(tok))
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if safe(c) {
			out = append(out, c)
			continue
		}
		if c != '_' || i+2 >= len(tok) {
			return "", ErrBadToken
		}
		hi, lo := unhex(tok[i+1]), unhex(tok[i+2])
		if hi < 0 || lo < 0 {
			return "", ErrBadToken
		}
		v := byte(hi<<4 | lo)
		if safe(v) {
			return "", ErrBadToken
		}
		out = append(out, v)
		i += 2
	}
	return string(out), nil
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
