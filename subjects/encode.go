package subjects

import (
	"errors"
	"math/bits"
	"strings"
	"unicode/utf8"
)

// ErrBadToken is returned by Decode for a token that Encode cannot produce.
var ErrBadToken = errors.New("subjects: malformed encoded token")

const hexDigits = "0123456789ABCDEF"

// packMark begins a packed token. Plain tokens never contain it, and it is
// legal both in a NATS subject and in a JetStream KV key.
const packMark = '='

// packDigits are the 64 digits of a packed token (base64url's alphabet):
// all legal in subjects and KV keys, none a dot.
const packDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// Rune widths of a packed token. Keeping the narrowest one at least one
// digit (6 bits) wide makes the rune count follow from the token's length:
// the padding is always shorter than a rune. The widest holds any code point.
const (
	minPackWidth = 6
	maxPackWidth = 21 // bits.Len32(unicode.MaxRune)
)

// safe reports whether b passes through Encode unchanged.
func safe(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-'
}

// Encode turns any string into one token that is valid both in a NATS subject
// and in a JetStream KV key. It has two forms:
//
//   - plain: every byte outside [A-Za-z0-9-] becomes _XX (two upper-case hex
//     digits), and the empty string becomes "_". Readable names stay
//     readable. A name keeps this form while it is at most MaxPlainToken
//     bytes long, or when it is not valid UTF-8, or when packing would not
//     make it shorter.
//   - packed: "=", one digit w (bits per rune, 6 to 21), then the name's
//     code points as w-bit numbers, concatenated and written six bits to a
//     digit of base64url. A legal name of 128 four-byte characters is then
//     450 bytes instead of 1,536 in the plain form, which is what bounds
//     every subject and key (bounds.go).
//
// Each string has exactly one encoding, and Decode undoes it.
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
	plainLen := len(s) + 2*n
	if plainLen > MaxPlainToken && utf8.ValidString(s) {
		if w, runes := packWidth(s); packedLen(w, runes) < plainLen {
			return pack(s, w, runes)
		}
	}
	if n == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(plainLen)
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

// packWidth returns the bits per rune of s's packed form and its rune count.
func packWidth(s string) (w, runes int) {
	w = minPackWidth
	for _, r := range s {
		runes++
		w = max(w, bits.Len32(uint32(r)))
	}
	return w, runes
}

// packedLen is the length of a packed token of runes runes of w bits.
func packedLen(w, runes int) int { return 2 + (runes*w+5)/6 }

func pack(s string, w, runes int) string {
	out := make([]byte, 2, packedLen(w, runes))
	out[0], out[1] = packMark, packDigits[w]
	var acc uint64 // bits not yet written, in the low nb bits
	nb := 0
	for _, r := range s {
		acc = acc<<w | uint64(r)
		nb += w
		for nb >= 6 {
			nb -= 6
			out = append(out, packDigits[acc>>nb&63])
		}
	}
	if nb > 0 {
		out = append(out, packDigits[acc<<(6-nb)&63])
	}
	return string(out)
}

// unpack reads a packed token. It checks only the shape; Decode checks that
// Encode gives the token back.
func unpack(tok string) (string, bool) {
	if len(tok) < 3 {
		return "", false
	}
	w := strings.IndexByte(packDigits, tok[1])
	if w < minPackWidth || w > maxPackWidth {
		return "", false
	}
	payload := tok[2:]
	runes := len(payload) * 6 / w
	out := make([]byte, 0, runes*utf8.UTFMax)
	var acc uint64
	nb := 0
	for i := 0; i < len(payload); i++ {
		d := strings.IndexByte(packDigits, payload[i])
		if d < 0 {
			return "", false
		}
		acc = acc<<6 | uint64(d)
		nb += 6
		if nb >= w && runes > 0 {
			nb -= w
			r := rune(acc >> nb & (1<<w - 1))
			if !utf8.ValidRune(r) {
				return "", false
			}
			out = utf8.AppendRune(out, r)
			runes--
		}
	}
	return string(out), true
}

// Decode undoes Encode. It rejects every token Encode cannot produce, so
// that each name has exactly one encoding.
func Decode(tok string) (string, error) {
	if tok != "" && tok[0] == packMark {
		s, ok := unpack(tok)
		if !ok || Encode(s) != tok {
			return "", ErrBadToken
		}
		return s, nil
	}
	s, err := decodePlain(tok)
	if err != nil {
		return "", err
	}
	// A long plain token is the encoding of its name only if packing the
	// name would not have been shorter.
	if len(tok) > MaxPlainToken && Encode(s) != tok {
		return "", ErrBadToken
	}
	return s, nil
}

func decodePlain(tok string) (string, error) {
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
