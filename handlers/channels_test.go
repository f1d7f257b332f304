package handlers

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
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

// worstName is a legal name of n characters, distinct for each i < 3^n,
// whose every byte JSON escapes to six (\u003c and the like).
func worstName(i, n int) string {
	b := make([]byte, n)
	for j := range b {
		b[j] = "<>&"[i%3]
		i /= 3
	}
	return string(b)
}

// TestJoinReply_WorstCaseFits proves that whatever the limits allow, a join's
// reply fits in one NATS message: 200 listed members and a channel with the
// longest names that JSON escapes the most, the most custom attributes with
// the most bytes (escaping the most too), and every built-in at its longest.
func TestJoinReply_WorstCaseFits(t *testing.T) {
	channel := worstName(0, protocol.MaxNameChars)
	var members []string
	for i := 0; i < 3*userListMax; i++ {
		members = append(members, worstName(i, protocol.MaxNameChars))
	}
	attrs := map[string]string{
		AttrChannelTTL:         strconv.Itoa(maxChannelTTL),
		AttrAutoUpdateNum:      strconv.Itoa(maxAutoUpdate),
		AttrAutoUpdateTotalNum: strconv.Itoa(maxAutoUpdate),
		AttrSendMsgLimit:       strconv.Itoa(maxRateLimit),
		AttrSetAttrLimit:       strconv.Itoa(maxRateLimit),
		AttrUserNotification:   "1",
	}
	per := protocol.MaxChanAttrsTotalBytes / protocol.MaxChanAttrs
	for i := 0; i < protocol.MaxChanAttrs; i++ {
		name := worstName(i, protocol.MaxNameChars)
		attrs[name] = strings.Repeat("\x01", per-len(name))
	}
	if n, size := customUsage(attrs); n != protocol.MaxChanAttrs || size != protocol.MaxChanAttrsTotalBytes {
		t.Fatalf("the test's channel has %d attributes of %d bytes, want the limits", n, size)
	}
	if err := checkUsage(nil, attrs); err != nil {
		t.Fatalf("the limits refuse the test's channel: %v", err)
	}
	res := memberResult{members: members}
	res.attrs.Attrs = attrs
	reply := &protocol.Reply{Events: joinEvents(channel, res), Rev: math.MaxUint64, AttrRev: math.MaxUint64}
	data, err := json.Marshal(reply)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("worst join reply: %d bytes of %d", len(data), protocol.MaxJoinReplyBytes)
	if len(data) > protocol.MaxJoinReplyBytes {
		t.Fatalf("worst join reply is %d bytes, over %d", len(data), protocol.MaxJoinReplyBytes)
	}
	if !replyFits(reply) {
		t.Fatalf("replyFits refuses a reply within the limits")
	}
	// The estimate, not the encoding, settles every reply within the limits.
	attrs[worstName(protocol.MaxChanAttrs, protocol.MaxNameChars)] = strings.Repeat("\x01", protocol.MaxChanAttrBytes)
	if !replyFits(&protocol.Reply{Events: joinEvents(channel, res)}) {
		t.Fatalf("replyFits refuses a reply one attribute over the limits")
	}
}

// TestReplyFits_RefusesAChannelWrittenBeforeTheLimits: 1,800 attributes of
// 8 KB (what an outsider could write before the limits) do not fit.
func TestReplyFits_RefusesAChannelWrittenBeforeTheLimits(t *testing.T) {
	res := memberResult{members: []string{"alice"}}
	res.attrs.Attrs = map[string]string{}
	for i := 0; i < 1800; i++ {
		res.attrs.Attrs[fmt.Sprintf("k%04d", i)] = strings.Repeat("v", protocol.MaxChanAttrBytes)
	}
	if replyFits(&protocol.Reply{Events: joinEvents("room", res)}) {
		t.Fatal("replyFits accepts a reply of about 14 MB")
	}
}

func TestCheckUsage_Limits(t *testing.T) {
	full := map[string]string{}
	for i := 0; i < protocol.MaxChanAttrs; i++ {
		full[fmt.Sprintf("k%02d", i)] = "v"
	}
	// big is one byte under the total: eight long values and "b".
	big := map[string]string{}
	used := 0
	for i := 0; i < 8; i++ {
		big[fmt.Sprintf("a%d", i)] = strings.Repeat("v", protocol.MaxChanAttrBytes)
		used += 2 + protocol.MaxChanAttrBytes
	}
	fill := strings.Repeat("v", protocol.MaxChanAttrsTotalBytes-used-len("b")-1)
	big["b"] = fill
	over := map[string]string{}
	for i := 0; i < 2*protocol.MaxChanAttrs; i++ {
		over[fmt.Sprintf("k%03d", i)] = "v"
	}
	with := func(m map[string]string, k, v string) map[string]string {
		m = maps.Clone(m)
		m[k] = v
		return m
	}
	without := func(m map[string]string, k string) map[string]string {
		m = maps.Clone(m)
		delete(m, k)
		return m
	}
	tests := []struct {
		name          string
		before, after map[string]string
		want          int
	}{
		{"a first attribute", nil, map[string]string{"k": "v"}, protocol.Success},
		{"the last one that fits", without(full, "k00"), full, protocol.Success},
		{"one too many", full, with(full, "extra", "v"), protocol.LargeParam},
		{"replacing at the count limit", full, with(full, "k00", "w"), protocol.Success},
		{"built-ins do not count", full, with(full, AttrSendMsgLimit, "5"), protocol.Success},
		{"the last byte that fits", big, with(big, "b", fill+"v"), protocol.Success},
		{"one byte over", big, with(big, "b", fill+"vv"), protocol.LargeParam},
		{"a longer name counts too", big, with(without(big, "b"), "bbb", fill), protocol.LargeParam},
		{"a channel over the limits can shrink", over, without(over, "k000"), protocol.Success},
		{"but not grow", over, with(over, "new", "v"), protocol.LargeParam},
	}
	for _, tt := range tests {
		got := protocol.Success
		if err := checkUsage(tt.before, tt.after); err != nil {
			got = protocol.CodeFor(protocol.OpChannelSetAttr, err)
		}
		if got != tt.want {
			t.Errorf("%s: code %d, want %d", tt.name, got, tt.want)
		}
	}
}
