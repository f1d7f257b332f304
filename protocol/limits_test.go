package protocol

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

func TestValidName(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"alice", true},
		{"a", true},
		{strings.Repeat("x", 128), true},
		{strings.Repeat("é", 128), true},
		{strings.Repeat("x", 129), false},
		{"", false},
		{"a b", false},
		{"a\tb", false},
		{"a\x00", false},
		{"a\u00a0b", false},
		{"\xff", false},
		{"_agora_user_online", true},
	}
	for _, tt := range tests {
		if got := ValidName(tt.in); got != tt.want {
			t.Errorf("ValidName(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestValidName_OneSpellingPerName: a name must already be in NFKC, so two
// names that look the same cannot both be accounts (docs/protocol.md).
func TestValidName_OneSpellingPerName(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"precomposed é (NFC)", "\u00e9", true},
		{"e and a combining accent (NFD)", "e\u0301", false},
		{"full-width alice", "ａｌｉｃｅ", false},
		{"alice", "alice", true},
		{"ligature ﬁ", "\ufb01le", false},
		{"Angstrom sign", "\u212b", false},
		{"Å", "\u00c5", true},
		{"circled digit", "\u2460", false},
		{"superscript two", "x\u00b2", false},
		{"Roman numeral", "\u2163", false},
		{"precomposed Hangul", "\ud55c\uad6d", true},
		{"Hangul jamo", "\u1112\u1161\u11ab", false},
		{"CJK", "中文", true},
		{"emoji", "😀", true},
		{"emoji with variation selector", "\u2764\ufe0f", true},
		{"128 precomposed é", strings.Repeat("\u00e9", 128), true},
		{"128 decomposed é", strings.Repeat("e\u0301", 64), false},
		{"128 emoji", strings.Repeat("😀", 128), true},
	}
	for _, tt := range tests {
		if got := ValidName(tt.in); got != tt.want {
			t.Errorf("%s: ValidName(%+q) = %v, want %v", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestValidate_CodesByOperation(t *testing.T) {
	big := strings.Repeat("x", MaxMsgBytes+1)
	tests := []struct {
		req  Request
		code int
	}{
		{Request{Op: OpLogin, AppID: "app", Account: "a b"}, WrongParam},
		{Request{Op: OpMessageInstantSend, Account: "bob", Msg: big}, LargeParam},
		{Request{Op: OpMessageInstantSend, Account: "bob", Msg: "hi"}, Success},
		{Request{Op: OpSetAttr, Name: "k", Value: strings.Repeat("v", 1025)}, LargeParam},
		{Request{Op: OpChannelSetAttr, ChannelID: "c", Name: "k", Value: strings.Repeat("v", 8096)}, Success},
		{Request{Op: OpChannelJoin, ChannelID: strings.Repeat("c", 129)}, WrongParam},
		{Request{Op: OpLogin, AppID: "app", Account: "e\u0301"}, WrongParam},
		{Request{Op: OpLogin, AppID: "app", Account: "ａｌｉｃｅ"}, WrongParam},
		{Request{Op: OpLogin, AppID: "app", Account: "\u00e9"}, Success},
		{Request{Op: OpLogin, AppID: strings.Repeat("a", MaxAppIDBytes+1), Account: "alice"}, WrongParam},
		{Request{Op: OpChannelJoin, ChannelID: "ｃｈａｎ"}, WrongParam},
		{Request{Op: OpChannelSetAttr, ChannelID: "c", Name: "ﬁ", Value: "v"}, WrongParam},
		{Request{Op: OpChannelInviteUser, ChannelID: "c", Account: "e\u0301"}, WrongParam},
	}
	for _, tt := range tests {
		err := Validate(&tt.req)
		got := Success
		if err != nil {
			got = CodeFor(tt.req.Op, err)
		}
		if got != tt.code {
			t.Errorf("Validate(%+v) code = %d, want %d", tt.req.Op, got, tt.code)
		}
	}
}

func TestFailureEvent_UsesTheOperationsCallback(t *testing.T) {
	tests := []struct {
		req  Request
		err  error
		want Event
	}{
		{Request{Op: OpLogin}, Coded(KindInvalid, LoginTokenWrong, "bad token"), Event{Ev: EvLoginFailed, Ecode: LoginTokenWrong}},
		{Request{Op: OpMessageInstantSend, MsgID: "m1"}, Errorf(KindNotFound, "offline"), Event{Ev: EvMessageSendError, MessageID: "m1", Ecode: SendMessageOther}},
		{Request{Op: OpChannelJoin, ChannelID: "c"}, ErrNotLoggedIn, Event{Ev: EvChannelJoinFailed, ChannelID: "c", Ecode: NotLoggedIn}},
		{Request{Op: OpSetAttr}, Errorf(KindTooLarge, "x"), Event{Ev: EvError, Name: OpSetAttr, Ecode: LargeParam, Desc: "x"}},
	}
	for _, tt := range tests {
		if got := FailureEvent(&tt.req, tt.err); got.Ev != tt.want.Ev || got.Ecode != tt.want.Ecode ||
			got.MessageID != tt.want.MessageID || got.ChannelID != tt.want.ChannelID {
			t.Errorf("FailureEvent(%s) = %+v, want %+v", tt.req.Op, got, tt.want)
		}
	}
}

func TestAsError_HidesInternalText(t *testing.T) {
	e := AsError(errString("dial tcp 10.0.0.1: secret detail"))
	if e != ErrInternal || strings.Contains(e.Msg, "secret") {
		t.Fatalf("AsError leaked %q", e.Msg)
	}
}

type errString string

func (e errString) Error() string { return string(e) }

// TestValidName_ASCIIIsCheckedWithoutAllocating: every visible ASCII
// character is in NFKC, so an ASCII name skips the normalization check,
// which allocates; the answer is the same.
func TestValidName_ASCIIIsCheckedWithoutAllocating(t *testing.T) {
	for c := byte(0); c < utf8.RuneSelf; c++ {
		s := "a" + string(rune(c)) + "z"
		want := c > ' ' && c != 0x7f && norm.NFKC.IsNormalString(s)
		if got := ValidName(s); got != want {
			t.Errorf("ValidName(%q) = %v, want %v", s, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { ValidName("alice-1_x.y") }); n != 0 {
		t.Fatalf("%v allocations to check an ASCII name", n)
	}
}
