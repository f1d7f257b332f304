package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader carries a delivery's signature: "t=<unix seconds>,v1=<hex>",
// where the hex is HMAC-SHA256, keyed with the app's webhook secret, of
// "<unix seconds>.<body>" (docs/webhooks.md).
const SignatureHeader = "Switchboard-Signature"

// Other headers of a delivery, for receivers that route before they parse.
const (
	IDHeader   = "Switchboard-Event-Id"
	TypeHeader = "Switchboard-Event-Type"
)

// Sign returns the SignatureHeader value for body sent at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(secret, ts, body)
}

func mac(secret, ts string, body []byte) string {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// Errors of Verify.
var (
	ErrBadSignature = errors.New("webhooks: signature does not match")
	ErrStale        = errors.New("webhooks: signature timestamp outside the tolerance")
	ErrNoSignature  = errors.New("webhooks: malformed or missing signature header")
)

// Verify checks a SignatureHeader value against body, as a receiver does: the
// MAC must match (compared in constant time) and the timestamp must be
// within tolerance of now, so that a captured delivery cannot be replayed
// later. Any v1 entry may match (a header may carry several while a secret
// is being changed).
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return ErrNoSignature
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrNoSignature
	}
	want := []byte(mac(secret, ts, body))
	ok := false
	for _, s := range sigs {
		if hmac.Equal([]byte(s), want) {
			ok = true
		}
	}
	if !ok {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return ErrStale
	}
	return nil
}
