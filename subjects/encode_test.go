package subjects

import (
	"strings"
	"testing"
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

func TestDecode_RejectsWhatEncodeCannotProduce(t *testing.T) {
	for _, tok := range []string{"", "a.b", "a b", "_", "_4", "_41", "_zz", "a_2", "__", "_2e"} {
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
	parts, err := SplitKey(Key("app", "x.y", ""))
	if err != nil || len(parts) != 3 || parts[1] != "x.y" || parts[2] != "" {
		t.Fatalf("SplitKey(Key(...)) = %q, %v", parts, err)
	}
}

func FuzzEncode(f *testing.F) {
	for _, s := range []string{"", "alice", "a.b", "_", "_41", "é", "\xff", "a b>*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok := Encode(s)
		for i := 0; i < len(tok); i++ {
			if !safe(tok[i]) && tok[i] != '_' {
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
