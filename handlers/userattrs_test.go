package handlers

import (
	"context"
	"testing"

	"github.com/switchboard-io/switchboard/protocol"
)

func TestParseConnTimeout(t *testing.T) {
	tests := []struct {
		v    string
		want int
		ok   bool
	}{
		{"20", 20, true},
		{"120", 120, true},
		{"60", 60, true},
		{"19", 0, false},
		{"121", 0, false},
		{"-30", 0, false},
		{"30s", 0, false},
		{"30.5", 0, false},
		{"", 0, false},
		{" 30", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseConnTimeout(tt.v)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseConnTimeout(%q) = %d, %v; want %d, %v", tt.v, got, ok, tt.want, tt.ok)
		}
	}
}

func TestInvokeArgs(t *testing.T) {
	for _, req := range []string{"", "null", "[]", `"x"`, "1", "{", `{"a":1}x`} {
		if _, err := parseInvokeArgs(req); err == nil {
			t.Errorf("parseInvokeArgs(%q) accepted a req that is not a JSON object", req)
		}
	}
	a, err := parseInvokeArgs(`{"s":"x","n":5,"bad":"a b","neg":-1,"frac":1.5,"null":null}`)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := a.str("s"); v != "x" || err != nil {
		t.Errorf(`str("s") = %q, %v`, v, err)
	}
	for _, key := range []string{"n", "missing", "null"} {
		if _, err := a.str(key); err == nil {
			t.Errorf("str(%q) accepted a field that is not a string", key)
		}
	}
	if _, err := a.name("bad"); err == nil {
		t.Error(`name("bad") accepted "a b"`)
	}
	counts := []struct {
		key  string
		want int
		ok   bool
	}{
		{"n", 5, true}, {"missing", 7, true}, {"null", 7, true}, {"neg", 0, false}, {"frac", 0, false}, {"s", 0, false},
	}
	for _, tt := range counts {
		got, err := a.count(tt.key, 7, 100)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("count(%q) = %d, %v; want %d, ok=%v", tt.key, got, err, tt.want, tt.ok)
		}
	}
	if got, _ := a.count("n", 7, 3); got != 3 {
		t.Errorf("count is not capped: %d", got)
	}
}

func TestSetAttr_ConnTimeoutReply(t *testing.T) {
	s, _ := newTestService(t, DefaultConfig())
	ctx := context.Background()
	set := func(name, value string) (*protocol.Reply, error) {
		return s.Handle(ctx, &protocol.Call{App: "app", Account: "alice", Session: "s", Edge: "e",
			Req: protocol.Request{Op: protocol.OpSetAttr, Name: name, Value: value}})
	}
	if r, err := set(AttrConnTimeout, "45"); err != nil || r.ConnTimeout != 45 {
		t.Fatalf("setAttr _conn_timeout 45: %+v, %v", r, err)
	}
	if v, ok := s.userConnTimeout(ctx, "app", "alice"); !ok || v != 45 {
		t.Fatalf("userConnTimeout = %d, %v; want 45 for the next login", v, ok)
	}
	// Deleting it brings the default back, at once and at the next login.
	if r, err := set(AttrConnTimeout, ""); err != nil || r.ConnTimeout != s.Cfg.ConnTimeout {
		t.Fatalf("deleting _conn_timeout: %+v, %v; want the default %d", r, err, s.Cfg.ConnTimeout)
	}
	if _, ok := s.userConnTimeout(ctx, "app", "alice"); ok {
		t.Fatal("a deleted _conn_timeout still applies")
	}
	// Other attributes leave the session's conn timeout alone.
	if r, err := set("color", "red"); err != nil || r.ConnTimeout != 0 {
		t.Fatalf("setAttr color: %+v, %v", r, err)
	}
	if _, err := set(AttrConnTimeout, "200"); protocol.CodeFor(protocol.OpSetAttr, err) != protocol.WrongParam {
		t.Fatalf("_conn_timeout 200: %v, want 1004", err)
	}
}
