package edge

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-io/switchboard/protocol"
)

func TestRevSeen_DropsWhatIsOlderThanSeen(t *testing.T) {
	var r revSeen
	now := time.Now()
	steps := []struct {
		key  string
		rev  uint64
		want bool
	}{
		{"a", 5, true},
		{"a", 3, false}, // a late event about a
		{"b", 3, true},  // other keys are not held back
		{"a", 5, true},  // the same revision: one batch's events
		{"a", 9, true},
		{"a", 8, false},
	}
	for _, s := range steps {
		if got := r.fresh(s.key, s.rev, now); got != s.want {
			t.Fatalf("fresh(%s, %d) = %v, want %v", s.key, s.rev, got, s.want)
		}
	}
	// Entries outlive one rotation, not two.
	if r.fresh("a", 7, now.Add(seenSpan+time.Second)) {
		t.Fatal("forgot a after one span")
	}
	if !r.fresh("a", 7, now.Add(3*seenSpan)) {
		t.Fatal("still remembers a after two spans")
	}
}

func TestMemberWants(t *testing.T) {
	sess := &session{account: "me"}
	m := &member{since: 10, sinceAttr: 20}
	tests := []struct {
		d    delivery
		want bool
	}{
		{delivery{mrev: 11, from: "other"}, true},
		{delivery{mrev: 10, from: "other"}, false}, // in the snapshot
		{delivery{mrev: 12, from: "me"}, false},    // one's own join or leave
		{delivery{arev: 21}, true},
		{delivery{arev: 20}, false},
		{delivery{from: "other"}, true}, // a message
		{delivery{from: "me"}, false},   // no echo
	}
	for _, tt := range tests {
		if got := m.wants(sess, tt.d); got != tt.want {
			t.Errorf("wants(%+v) = %v, want %v", tt.d, got, tt.want)
		}
	}
}

func TestAttrChange_OrdersByRevision(t *testing.T) {
	ch := &channel{srv: &Server{cfg: DefaultConfig()}, attrs: map[string]attrEvent{}}
	ev := func(typ, name, value string) *protocol.Event {
		return &protocol.Event{Ev: protocol.EvChannelAttrUpdated, Name: name, Value: value, Type: typ}
	}
	d := func(rev uint64) delivery { return delivery{arev: rev} }
	if got := ch.attrChange(ev("update", "x", "2"), d(12)); len(got) != 1 {
		t.Fatalf("first change: %d deliveries", len(got))
	}
	// An older change of x arriving late is its writer's answer: delivered,
	// then the newer one again.
	if got := ch.attrChange(ev("update", "x", "1"), d(11)); len(got) != 2 || got[0].arev != 11 || got[1].arev != 12 {
		t.Fatalf("a late change of x delivered %+v, want it then x at 12", got)
	}
	if got := ch.attrChange(ev("update", "y", "1"), d(5)); len(got) != 1 {
		t.Fatal("a change of y was held back by x")
	}
	// A clear older than x's change arrives: delivered, then x again.
	got := ch.attrChange(ev("clear", "", ""), d(10))
	if len(got) != 2 || got[0].arev != 10 || got[1].arev != 12 {
		t.Fatalf("a late clear delivered %+v, want the clear then x", got)
	}
	// A change older than the clear: delivered, then the clear and x again.
	if got := ch.attrChange(ev("update", "y", "2"), d(9)); len(got) != 3 || got[0].arev != 9 || got[1].arev != 10 || got[2].arev != 12 {
		t.Fatalf("a change older than the clear delivered %+v, want it, the clear, x", got)
	}
	// The built-ins follow the same order.
	ch.attrChange(ev("update", attrSendMsgLimit, "7"), d(20))
	ch.attrChange(ev("update", attrSendMsgLimit, "3"), d(19))
	if ch.msgLimit() != 7 {
		t.Fatalf("msgLimit = %d, want 7", ch.msgLimit())
	}
	ch.attrChange(ev("del", attrSendMsgLimit, ""), d(21))
	if ch.msgLimit() != DefaultConfig().ChannelRate {
		t.Fatalf("msgLimit after del = %d, want the default", ch.msgLimit())
	}
}

func TestFrame_SharedIsFramedOnceAndReadsTheSame(t *testing.T) {
	// Every length form of RFC 6455: 7 bits, 16 bits, 64 bits.
	var frames []*frame
	for _, n := range []int{0, 1, 125, 126, 127, 65535, 65536, 70000} {
		frames = append(frames, newSharedFrame([]byte(strings.Repeat("x", n))))
	}
	f := frames[2]
	if w1, w2 := f.framed(), f.framed(); &w1[0] != &w2[0] {
		t.Fatal("a shared frame was framed twice")
	}
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		for _, f := range frames {
			// Raw framing and gorilla's, one after the other.
			if _, err := ws.NetConn().Write(f.framed()); err != nil {
				return
			}
			_ = newFrame([]byte(`{"ev":"x"}`)).writeTo(ws)
		}
		_, _, _ = ws.ReadMessage()
	}))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	for i := 0; i < 2; i++ {
		ws, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range frames {
			typ, got, err := ws.ReadMessage()
			if err != nil || typ != websocket.TextMessage || string(got) != string(f.data) {
				t.Fatalf("client %d read type %d, %d bytes, %v; want the %d-byte frame", i, typ, len(got), err, len(f.data))
			}
			if _, got, _ := ws.ReadMessage(); string(got) != `{"ev":"x"}` {
				t.Fatalf("client %d read %q after the shared frame", i, got)
			}
		}
		ws.Close()
	}
}

func TestMemberNum_NewestRevisionWins(t *testing.T) {
	var m memberNum
	now := time.Now()
	steps := []struct {
		n     int
		rev   uint64
		wantN int
	}{
		{3, 10, 3},
		{2, 9, 3}, // a late count of an older list
		{5, 12, 5},
		{5, 12, 5}, // the same list again (a snapshot and a count message)
		{4, 11, 5},
		{1, 13, 1},
	}
	for _, s := range steps {
		m.set(s.n, s.rev, now)
		if !m.known || m.n != s.wantN {
			t.Fatalf("after set(%d, %d): n = %d (known %v), want %d", s.n, s.rev, m.n, m.known, s.wantN)
		}
	}
	m.frame = newSharedFrame([]byte(`{}`))
	m.set(1, 14, now)
	if m.frame == nil {
		t.Fatal("the push frame was dropped for an unchanged count")
	}
	m.set(2, 15, now)
	if m.frame != nil {
		t.Fatal("the push frame of the old count was kept")
	}
}

func TestAutoSchedule_OneEntryPerChannelWhateverTheSettingDoes(t *testing.T) {
	srv := &Server{cfg: DefaultConfig()}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	srv.ctx = ctx
	chans := make([]*channel, 3)
	for i := range chans {
		chans[i] = &channel{srv: srv, members: map[*session]*member{}, attrs: map[string]attrEvent{}}
	}
	set := func(ch *channel, v string, rev uint64) {
		ch.mu.Lock()
		ch.applySetting(attrAutoUpdateNum, protocol.AttrUpdate, v, rev)
		ch.mu.Unlock()
	}
	start := time.Now()
	rev := uint64(0)
	// A user toggles the setting of every channel again and again.
	for range 100 {
		for _, ch := range chans {
			rev++
			set(ch, "1", rev)
			rev++
			set(ch, "86400", rev)
		}
	}
	if got := srv.auto.size(); got != len(chans) {
		t.Fatalf("%d entries on the schedule for %d channels", got, len(chans))
	}
	for _, ch := range chans {
		ch.mu.Lock()
		due := ch.auto.due
		ch.mu.Unlock()
		if due.Before(start.Add(autoMinGap)) {
			t.Fatalf("a channel is due %v after its setting changed, want at least %v", due.Sub(start), autoMinGap)
		}
	}
	rev++
	set(chans[0], "0", rev)
	chans[1].mu.Lock()
	chans[1].closed = true
	chans[1].syncAuto()
	chans[1].mu.Unlock()
	if got := srv.auto.size(); got != 1 {
		t.Fatalf("%d entries on the schedule after one channel turned it off and one closed, want 1", got)
	}
}

func TestAutoPush_NeverCatchesUpInABurst(t *testing.T) {
	srv := &Server{cfg: DefaultConfig()}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	srv.ctx = ctx
	ch := &channel{srv: srv, members: map[*session]*member{}, attrs: map[string]attrEvent{}}
	now := time.Now()
	e := &autoEntry{ch: ch, every: time.Second, due: now.Add(-time.Minute), idx: -1}
	ch.mu.Lock()
	ch.auto = e
	ch.mu.Unlock()
	// The schedule fell a minute behind: the next push is a gap later,
	// not now.
	ch.autoPush(e, now)
	ch.mu.Lock()
	due := e.due
	ch.mu.Unlock()
	if due.Before(now.Add(autoMinGap)) {
		t.Fatalf("next push %v after a late one, want at least %v", due.Sub(now), autoMinGap)
	}
}
