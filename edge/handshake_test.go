package edge

import (
	"net/http/httptest"
	"testing"
	"time"
)

func TestParseAllowedOrigins(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		bad  bool
	}{
		{in: "", want: nil},
		{in: " , ", want: nil},
		{in: "*", want: []string{"*"}},
		{in: "https://App.Example.com/", want: []string{"https://app.example.com"}},
		{in: "https://a.example, http://localhost:3000", want: []string{"https://a.example", "http://localhost:3000"}},
		{in: "a.example", bad: true},
		{in: "https://a.example/path", bad: true},
		{in: "https://a.example?x=1", bad: true},
		{in: "https://user@a.example", bad: true},
		{in: "https://", bad: true},
	} {
		got, err := ParseAllowedOrigins(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("ParseAllowedOrigins(%q) = %q, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || len(got) != len(tc.want) {
			t.Errorf("ParseAllowedOrigins(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("ParseAllowedOrigins(%q) = %q, want %q", tc.in, got, tc.want)
			}
		}
	}
}

func TestOriginAllowed(t *testing.T) {
	for _, tc := range []struct {
		allowed []string
		host    string
		origin  string
		want    bool
	}{
		{host: "rtm.example:7400", origin: "", want: true},
		{host: "rtm.example:7400", origin: "https://rtm.example:7400", want: true},
		{host: "rtm.example:7400", origin: "https://RTM.example:7400", want: true},
		{host: "rtm.example:7400", origin: "https://rtm.example", want: false},
		{host: "rtm.example:7400", origin: "https://evil.example", want: false},
		{host: "rtm.example:7400", origin: "null", want: false},
		{allowed: []string{"https://app.example"}, host: "rtm.example", origin: "https://app.example", want: true},
		{allowed: []string{"https://app.example"}, host: "rtm.example", origin: "https://APP.example/", want: true},
		{allowed: []string{"https://app.example"}, host: "rtm.example", origin: "http://app.example", want: false},
		{allowed: []string{"https://app.example"}, host: "rtm.example", origin: "https://rtm.example", want: false},
		{allowed: []string{"https://app.example"}, host: "rtm.example", origin: "", want: true},
		{allowed: []string{AnyOrigin}, host: "rtm.example", origin: "https://evil.example", want: true},
	} {
		s := &Server{cfg: Config{AllowedOrigins: tc.allowed}}
		r := httptest.NewRequest("GET", "http://"+tc.host+"/ws", nil)
		if tc.origin != "" {
			r.Header.Set("Origin", tc.origin)
		}
		if got := s.originAllowed(r); got != tc.want {
			t.Errorf("allowed %q, Host %s, Origin %q: %v, want %v", tc.allowed, tc.host, tc.origin, got, tc.want)
		}
	}
}

func TestAdmission_CapsAndReleases(t *testing.T) {
	var a admission
	for i := 0; i < 3; i++ {
		if !a.admit("10.0.0.1", 3) {
			t.Fatalf("connection %d refused under the cap", i+1)
		}
	}
	if a.admit("10.0.0.1", 3) {
		t.Fatal("fourth connection admitted over a cap of 3")
	}
	if !a.admit("10.0.0.2", 3) {
		t.Fatal("another address refused")
	}
	a.release("10.0.0.1")
	if !a.admit("10.0.0.1", 3) {
		t.Fatal("a released place was not given back")
	}
	if !a.admit("10.0.0.1", -1) {
		t.Fatal("no cap refused")
	}
	for _, addr := range []string{"10.0.0.1", "10.0.0.1", "10.0.0.1", "10.0.0.1", "10.0.0.2"} {
		a.release(addr)
	}
	if len(a.perAddr) != 0 {
		t.Fatalf("counts left after every release: %v", a.perAddr)
	}
}

func TestAdmission_WarnsOncePerAddressAndMinute(t *testing.T) {
	var a admission
	now := time.Now()
	if !a.shouldWarn("addr_limit", "10.0.0.1", now) {
		t.Fatal("first refusal not logged")
	}
	if a.shouldWarn("addr_limit", "10.0.0.1", now.Add(30*time.Second)) {
		t.Fatal("second refusal within a minute logged")
	}
	if !a.shouldWarn("origin", "10.0.0.1", now.Add(30*time.Second)) {
		t.Fatal("a refusal of another kind not logged")
	}
	if !a.shouldWarn("addr_limit", "10.0.0.1", now.Add(61*time.Second)) {
		t.Fatal("a refusal a minute later not logged")
	}
	// Many addresses: the memory of warnings stays bounded.
	for i := 0; i < 3*maxWarned; i++ {
		a.shouldWarn("addr_limit", string(rune(i)), now.Add(2*time.Minute))
	}
	if len(a.warned) > maxWarned {
		t.Fatalf("%d addresses remembered, bound %d", len(a.warned), maxWarned)
	}
}
