package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"
	"time"
)

func TestSign_IsHMACOfTimestampDotBody(t *testing.T) {
	secret, body := "whsec-0123456789abcdef", []byte(`{"id":"evt_1","type":"login"}`)
	at := time.Unix(1764676800, 0)
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte("1764676800." + string(body)))
	want := "t=1764676800,v1=" + hex.EncodeToString(h.Sum(nil))
	if got := Sign(secret, at, body); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestVerify(t *testing.T) {
	secret, body := "whsec-0123456789abcdef", []byte(`{"id":"evt_1"}`)
	at := time.Unix(1764676800, 0)
	good := Sign(secret, at, body)
	for _, tc := range []struct {
		name   string
		secret string
		header string
		body   string
		now    time.Time
		want   error
	}{
		{"valid", secret, good, string(body), at.Add(time.Minute), nil},
		{"several v1, one matches", secret, "t=1764676800,v1=00ff," + good[len("t=1764676800,"):], string(body), at, nil},
		{"other secret", "whsec-another-secret-00", good, string(body), at, ErrBadSignature},
		{"body changed", secret, good, `{"id":"evt_2"}`, at, ErrBadSignature},
		{"timestamp changed", secret, "t=1764676801," + good[len("t=1764676800,"):], string(body), at, ErrBadSignature},
		{"replayed later", secret, good, string(body), at.Add(6 * time.Minute), ErrStale},
		{"from the future", secret, good, string(body), at.Add(-6 * time.Minute), ErrStale},
		{"empty header", secret, "", string(body), at, ErrNoSignature},
		{"no v1", secret, "t=1764676800", string(body), at, ErrNoSignature},
		{"no timestamp", secret, good[len("t=1764676800,"):], string(body), at, ErrNoSignature},
		{"garbage", secret, "sha256=abc", string(body), at, ErrNoSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(tc.secret, tc.header, []byte(tc.body), tc.now, 5*time.Minute)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestBackoff_DoublesToTheCap(t *testing.T) {
	s := time.Second
	for _, tc := range []struct {
		n    int
		want time.Duration
	}{
		{0, s}, {1, s}, {2, 2 * s}, {3, 4 * s}, {4, 8 * s}, {5, 16 * s}, {6, 32 * s},
		{7, time.Minute}, {8, time.Minute}, {100, time.Minute}, {1 << 30, time.Minute},
	} {
		if got := Backoff(tc.n, s, time.Minute); got != tc.want {
			t.Errorf("Backoff(%d) = %v, want %v", tc.n, got, tc.want)
		}
	}
	if got := Backoff(3, 100*time.Millisecond, 250*time.Millisecond); got != 250*time.Millisecond {
		t.Errorf("Backoff over a cap that is not a power of two = %v", got)
	}
}
