package subjects

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEncode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"alice", "alice"},
		{"Bob-42", "Bob-42"},
		{"", "_"},
		{"a.b", "a_2Eb"},
		{"a b", "a_20b"},
		{"*", "_2A"},
		{">", "_3E"},
		{"_agora_user_online", "_5Fagora_5Fuser_5Fonline"},
		{"é", "_C3_A9"},
		{"\x00\x7f", "_00_7F"},
	}
	for _, tt := range tests {
		if got := Encode(tt.in); got != tt.want {
			t.Errorf("Encode(%q) = %q, want %q", tt.in, got, tt.want)
		}
		back, err := Decode(tt.want)
		if err != nil || back != tt.in {
			t.Errorf("Decode(%q) = %q, %v, want %q", tt.want, back, err, tt.in)
		}
	}
}

func TestEncode_LongNamesArePacked(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // the token's first two bytes: form and width
		max  int    // the token's length at most
	}{
		{"128 letters stay plain", strings.Repeat("a", 128), "aa", 128},
		{"packing 7 bits a letter is longer than plain", strings.Repeat("a", 126) + "!", "aa", 129},
		{"plain at MaxPlainToken", strings.Repeat("a", 59) + strings.Repeat("!", 23), "aa", 128},
		{"packed just over it", strings.Repeat("a", 60) + strings.Repeat("!", 23), "=H", 2 + (83*7+5)/6},
		{"long letters stay plain when packing is longer", strings.Repeat("a", 300), "aa", 300},
		{"128 emoji", strings.Repeat("😀", 128), "=R", MaxNameToken}, // 17 bits
		{"largest code points", strings.Repeat("\U0010FFFF", 128), "=V", MaxNameToken},
		{"accented", strings.Repeat("é", 128), "=I", 2 + (128*8+5)/6},
		{"CJK", strings.Repeat("中", 128), "=P", 2 + (128*15+5)/6}, // U+4E2D: 15 bits
		{"punctuation", strings.Repeat("~", 128), "=H", MaxAppToken},
		{"control characters pack 6 bits wide", strings.Repeat("\x01", 50), "=G", 2 + 50},
		{"invalid UTF-8 stays plain", strings.Repeat("\xff", 128), "_F", 3 * 128},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := Encode(tt.in)
			if !strings.HasPrefix(tok, tt.want) || len(tok) > tt.max {
				t.Errorf("Encode = %q (%d bytes), want prefix %q and at most %d bytes", tok, len(tok), tt.want, tt.max)
			}
			if back, err := Decode(tok); err != nil || back != tt.in {
				t.Errorf("Decode(Encode(x)) = %q, %v", back, err)
			}
		})
	}
}

func TestDecode_RejectsWhatEncodeCannotProduce(t *testing.T) {
	long := strings.Repeat("😀", 128)
	packed := Encode(long)
	for _, tok := range []string{
		"", "a.b", "a b", "_", "_4", "_41", "_zz", "a_2", "__", "_2e",
		"=", "=G", "=GA", // packed forms of nothing, or of too little
		"=A" + packed[2:], "=W" + packed[2:], // widths outside 6 to 21
		pack(long, 18, 128),             // wider than the name needs
		packed[:len(packed)-1],          // a rune cut short
		packed + "A",                    // one digit too many
		packed[:len(packed)-1] + "B",    // padding bits set (128 × 17 bits leaves 4)
		packed[:10] + "=" + packed[11:], // a digit outside base64url
		"=G" + strings.Repeat("A", 20),  // U+0000 × 20: short enough to be plain
		"=V_____",                       // beyond the largest code point
		"=Q" + "2AA",                    // U+D800, a surrogate
		strings.Repeat("_C3_A9", 30),    // packing é × 30 is shorter
	} {
		if tok == "_" {
			continue // the empty name
		}
		if got, err := Decode(tok); err == nil {
			t.Errorf("Decode(%q) = %q, want an error", tok, got)
		}
	}
}

func TestSubjects_AreSafeTokens(t *testing.T) {
	s := User("app 1", "a.b*c>")
	if strings.Count(s, ".") != 3 || strings.ContainsAny(s, " *>") {
		t.Fatalf("User subject %q is not four safe tokens", s)
	}
	acct, err := LastToken(s)
	if err != nil || acct != "a.b*c>" {
		t.Fatalf("LastToken(%q) = %q, %v", s, acct, err)
	}
	if app, acct, ok := ParseUser(s); !ok || app != "app 1" || acct != "a.b*c>" {
		t.Fatalf("ParseUser(%q) = %q, %q, %v", s, app, acct, ok)
	}
	if _, _, ok := ParseUser(Channel("app", "c")); ok {
		t.Fatal("ParseUser accepted a channel subject")
	}
	if got := Req("app", "channelJoin"); got != "sb.app.req.channelJoin" {
		t.Fatalf("Req = %q", got)
	}
	if id, ok := ParseEdgeKey(EdgeKey("edge.1")); !ok || id != "edge.1" {
		t.Fatalf("ParseEdgeKey(EdgeKey(edge.1)) = %q, %v", id, ok)
	}
	if _, ok := ParseEdgeKey(DeadEdgeKey("edge")); ok {
		t.Fatal("ParseEdgeKey accepted a dead-edge claim")
	}
	if got := KVSubject("sb-sessions", Key("app", "a")); got != "$KV.sb-sessions.app.a" {
		t.Fatalf("KVSubject = %q", got)
	}
	parts, err := SplitKey(Key("app", "x.y", ""))
	if err != nil || len(parts) != 3 || parts[1] != "x.y" || parts[2] != "" {
		t.Fatalf("SplitKey(Key(...)) = %q, %v", parts, err)
	}
}

func FuzzEncode(f *testing.F) {
	for _, s := range []string{"", "alice", "a.b", "_", "_41", "é", "\xff", "a b>*",
		strings.Repeat("😀", 128), strings.Repeat("é", 70), "=Hd", "=R" + strings.Repeat("A", 40)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok := Encode(s)
		for i := 0; i < len(tok); i++ {
			if !safe(tok[i]) && tok[i] != '_' && (tok[i] != packMark || i > 0) {
				t.Fatalf("Encode(%q) = %q has unsafe byte %q", s, tok, tok[i])
			}
		}
		back, err := Decode(tok)
		if err != nil || back != s {
			t.Fatalf("Decode(Encode(%q)) = %q, %v", s, back, err)
		}
		// Any token that decodes must be the one encoding of its name.
		if d, err := Decode(s); err == nil && Encode(d) != s {
			t.Fatalf("Decode(%q) = %q, but Encode gives %q", s, d, Encode(d))
		}
	})
}

func FuzzEncode_LegalNamesAreBounded(f *testing.F) {
	for _, s := range []string{"alice", strings.Repeat("😀", 128), strings.Repeat("é", 128), strings.Repeat("!", 128), "\U0010FFFF"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) || utf8.RuneCountInString(s) > MaxNameChars {
			return
		}
		if tok := Encode(s); len(tok) > MaxNameToken {
			t.Fatalf("Encode(%q) is %d bytes, over MaxNameToken %d", s, len(tok), MaxNameToken)
		}
	})
}
