package protocol

import "unicode/utf8"

// The two frames an edge writes for every peer message are encoded by hand:
// json.Marshal of an Event copies the whole struct to the heap and the
// result once more, which at thousands of messages a second is most of what
// the collector has to do. The bytes are json.Marshal's, field for field.

// AppendInstantReceive appends the frame of Event{Ev:
// EvMessageInstantReceive, Account: account, Msg: msg, Ack: true}.
func AppendInstantReceive(b []byte, account, msg string) []byte {
	b = append(b, `{"ev":"`+EvMessageInstantReceive+`"`...)
	if account != "" {
		b = append(b, `,"account":`...)
		b = AppendString(b, account)
	}
	if msg != "" {
		b = append(b, `,"msg":`...)
		b = AppendString(b, msg)
	}
	return append(b, `,"ack":true}`...)
}

// AppendSendSuccess appends the frame of Event{Ev: EvMessageSendSuccess,
// MessageID: messageID}.
func AppendSendSuccess(b []byte, messageID string) []byte {
	b = append(b, `{"ev":"`+EvMessageSendSuccess+`"`...)
	if messageID != "" {
		b = append(b, `,"messageID":`...)
		b = AppendString(b, messageID)
	}
	return append(b, '}')
}

// AppendString appends s as a JSON string the way encoding/json writes it:
// <, > and & escaped for HTML, invalid UTF-8 as U+FFFD, and U+2028 and
// U+2029 escaped for JavaScript.
func AppendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
