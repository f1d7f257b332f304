package handlers

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard-io/switchboard/protocol"
)

func TestApplyOps_InOrder(t *testing.T) {
	join := func(a string) *memberOp { return &memberOp{join: true, account: a} }
	leave := func(a string) *memberOp { return &memberOp{account: a} }
	tests := []struct {
		name    string
		cur     []string
		ops     []*memberOp
		refuse  bool
		want    []string
		changed []bool
		full    []bool
	}{
		{"joins append in order", []string{"a"}, []*memberOp{join("b"), join("c")}, false,
			[]string{"a", "b", "c"}, []bool{true, true}, []bool{false, false}},
		{"a second join changes nothing", []string{"a", "b"}, []*memberOp{join("a")}, false,
			[]string{"a", "b"}, []bool{false}, []bool{false}},
		{"leave keeps the others' order", []string{"a", "b", "c"}, []*memberOp{leave("b")}, false,
			[]string{"a", "c"}, []bool{true}, []bool{false}},
		{"leave of a non-member changes nothing", []string{"a"}, []*memberOp{leave("z")}, false,
			[]string{"a"}, []bool{false}, []bool{false}},
		{"join, leave, join again ends at the back", []string{"a", "b"}, []*memberOp{leave("a"), join("a")}, false,
			[]string{"b", "a"}, []bool{true, true}, []bool{false, false}},
		{"join then leave in one batch", nil, []*memberOp{join("a"), leave("a")}, false,
			[]string{}, []bool{true, true}, []bool{false, false}},
		{"a full channel refuses joins, not leaves", []string{"a", "b"}, []*memberOp{join("c"), leave("a"), join("b")}, true,
			[]string{"b"}, []bool{false, true, false}, []bool{true, false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur := slices.Clone(tt.cur)
			got, changed, full := applyOps(cur, tt.ops, tt.refuse)
			if !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Errorf("list = %v, want %v", got, tt.want)
			}
			if !slices.Equal(changed, tt.changed) || !slices.Equal(full, tt.full) {
				t.Errorf("changed = %v, full = %v; want %v, %v", changed, full, tt.changed, tt.full)
			}
			if !slices.Equal(cur, tt.cur) {
				t.Errorf("applyOps changed its input to %v", cur)
			}
		})
	}
}

func TestCheckChannelAttr_Codes(t *testing.T) {
	long := strings.Repeat("n", protocol.MaxNameChars+1)
	tests := []struct {
		channel, name, value string
		del                  bool
		want                 int
	}{
		{"room", "topic", "go", false, protocol.Success},
		{"room", "topic", strings.Repeat("v", protocol.MaxChanAttrBytes), false, protocol.Success},
		{"room", "topic", strings.Repeat("v", protocol.MaxChanAttrBytes+1), false, protocol.LargeParam},
		{"room", long, "v", false, protocol.WrongParam},
		{"room", "a b", "v", false, protocol.WrongParam},
		{"a room", "topic", "v", false, protocol.WrongParam},
		{"room", AttrMemberNum, "3", false, protocol.GeneralFailed},
		{"room", AttrMemberNum, "", true, protocol.GeneralFailed},
		{"room", AttrTotalMemberNum, "3", false, protocol.GeneralFailed},
		{"room", "_unknown", "1", false, protocol.WrongParam},
		{"room", AttrChannelTTL, "60", false, protocol.Success},
		{"room", AttrChannelTTL, "0", false, protocol.Success},
		{"room", AttrChannelTTL, "-1", false, protocol.WrongParam},
		{"room", AttrChannelTTL, "soon", false, protocol.WrongParam},
		{"room", AttrChannelTTL, "", true, protocol.Success},
		{"room", AttrAutoUpdateNum, "5", false, protocol.Success},
		{"room", AttrSendMsgLimit, "1000", false, protocol.Success},
		{"room", AttrSetAttrLimit, "2000000", false, protocol.WrongParam},
		{"room", AttrUserNotification, "0", false, protocol.Success},
		{"room", AttrUserNotification, "yes", false, protocol.WrongParam},
		{ChannelUserOnline, "topic", "v", false, protocol.GeneralFailed},
		{ChannelChannelEvent, "topic", "", true, protocol.GeneralFailed},
	}
	for _, tt := range tests {
		got := protocol.Success
		if err := checkChannelAttr(tt.channel, tt.name, tt.value, tt.del); err != nil {
			got = protocol.CodeFor(protocol.OpChannelSetAttr, err)
		}
		if got != tt.want {
			t.Errorf("checkChannelAttr(%q, %.20q, %.20q, del=%v) code %d, want %d", tt.channel, tt.name, tt.value, tt.del, got, tt.want)
		}
	}
}

func TestChannelTTL(t *testing.T) {
	tests := []struct {
		attrs map[string]string
		want  time.Duration
	}{
		{nil, DefaultChannelTTL},
		{map[string]string{AttrChannelTTL: "30"}, 30 * time.Second},
		{map[string]string{AttrChannelTTL: "0"}, time.Second},
		{map[string]string{AttrChannelTTL: "junk"}, DefaultChannelTTL},
	}
	for _, tt := range tests {
		if got := channelTTL(tt.attrs); got != tt.want {
			t.Errorf("channelTTL(%v) = %v, want %v", tt.attrs, got, tt.want)
		}
	}
}

func TestJoinEvents_ListTheLatest200AndAttrsInNameOrder(t *testing.T) {
	var members []string
	for i := 0; i < 250; i++ {
		members = append(members, fmt.Sprintf("u%03d", i))
	}
	res := memberResult{members: members}
	res.attrs.Attrs = map[string]string{"b": "2", "a": "1", AttrMemberNum: "stale"}
	evs := joinEvents("room", res)
	if evs[0].Ev != protocol.EvChannelJoined || evs[1].Ev != protocol.EvChannelUserList {
		t.Fatalf("first events: %+v", evs[:2])
	}
	list := evs[1]
	if list.N != 250 || len(list.Accounts) != userListMax || list.Accounts[0] != "u050" || len(list.Uids) != userListMax {
		t.Fatalf("user list: n=%d, %d accounts from %q, %d uids", list.N, len(list.Accounts), list.Accounts[0], len(list.Uids))
	}
	var attrs []string
	for _, e := range evs[2:] {
		attrs = append(attrs, e.Name+"="+e.Value)
	}
	if want := []string{"_member_num=250", "a=1", "b=2"}; !slices.Equal(attrs, want) {
		t.Fatalf("attributes %v, want %v", attrs, want)
	}
}
