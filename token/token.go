// Package token owns the SignalingToken formats: it generates and verifies
// the strings a client passes to login. It knows nothing of configured apps,
// sessions or error codes; callers map its sentinel errors to Agora codes
// (ErrExpired to 204, anything else to 206).
//
// Two formats are accepted:
//
//	1:<appId>:<expiry>:<md5hex>         Agora's v1.4 format, for compatibility
//	2:<appId>:<expiry>:<hmacsha256hex>  Switchboard's stronger format
//
// <expiry> is an absolute Unix time in seconds, written in decimal without
// sign or leading zeros. An expiry of 0 means the token never expires.
//
// It imports nothing of Switchboard's own.
package token

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The sentinel errors Verify returns, possibly wrapped with a detail; test
// them with errors.Is. No error text ever holds the token, its digest or the
// certificate, so any of them may be logged as is.
var (
	// ErrMalformed: the token is not of a known version or shape.
	ErrMalformed = errors.New("token: malformed")
	// ErrWrongApp: the token was issued for another app.
	ErrWrongApp = errors.New("token: issued for another app")
	// ErrBadSignature: the digest does not match account, app, certificate
	// and expiry, or there is no certificate to check it against.
	ErrBadSignature = errors.New("token: bad signature")
	// ErrExpired: the signature is good but the expiry has passed.
	ErrExpired = errors.New("token: expired")
)

// Versions of the format, the token's first field.
const (
	V1 = 1 // MD5, Agora Signaling v1.4; weak, accepted for compatibility
	V2 = 2 // HMAC-SHA256 keyed with the certificate; recommended
)

// NeverExpires is the expiry of a token that is valid forever.
const NeverExpires int64 = 0

// GenerateV1 returns an Agora v1.4 SignalingToken:
// 1:<appId>:<expiry>:<md5hex>, where md5hex is the lower-case hex MD5 of
// account + appID + appCertificate + expiry (decimal), with no separator.
//
// expiry is absolute Unix seconds, or NeverExpires. A negative expiry gives a
// token Verify rejects as malformed.
func GenerateV1(appID, appCertificate, account string, expiry int64) string {
	exp := strconv.FormatInt(expiry, 10)
	sum := digestV1(appID, appCertificate, account, exp)
	return join(V1, appID, exp, hex.EncodeToString(sum))
}

// GenerateV2 returns a Switchboard v2 token:
// 2:<appId>:<expiry>:<hex HMAC-SHA256>, keyed with appCertificate over
// appID + "\n" + account + "\n" + expiry (decimal).
//
// v1 is a plain MD5 of text that contains the secret, not a MAC, and MD5 is
// broken; v2 is a real MAC with the certificate as its key, and the newlines
// keep the fields apart, so no two (account, expiry) pairs sign the same text.
func GenerateV2(appID, appCertificate, account string, expiry int64) string {
	exp := strconv.FormatInt(expiry, 10)
	sum := digestV2(appID, appCertificate, account, exp)
	return join(V2, appID, exp, hex.EncodeToString(sum))
}

// Verify checks tok, of either version, for account in app appID with its
// certificate, at time now. It returns the token's expiry in Unix seconds
// (NeverExpires for a token that never expires).
//
// Checks run in this order, and the first failure is returned: shape
// (ErrMalformed), app (ErrWrongApp), signature (ErrBadSignature), then
// expiry (ErrExpired). A forged token therefore never reports "expired".
// With ErrExpired the expiry is returned too, so a caller can say when; with
// any other error it is 0.
//
// An empty appCertificate verifies nothing: every well-formed token for the
// app fails with ErrBadSignature, because anyone could sign with "".
func Verify(tok, appID, appCertificate, account string, now time.Time) (expiry int64, err error) {
	p, err := parse(tok)
	if err != nil {
		return 0, err
	}
	if p.appID != appID {
		return 0, ErrWrongApp
	}
	if appCertificate == "" {
		return 0, fmt.Errorf("%w: the app has no certificate", ErrBadSignature)
	}

	var want []byte
	switch p.version {
	case V1:
		want = digestV1(appID, appCertificate, account, p.expiryText)
	case V2:
		want = digestV2(appID, appCertificate, account, p.expiryText)
	}
	// Constant time, so the time to reject a guess does not say how many of
	// its leading bytes were right.
	if subtle.ConstantTimeCompare(want, p.digest) != 1 {
		return 0, ErrBadSignature
	}

	if p.expiry != NeverExpires && p.expiry <= now.Unix() {
		return p.expiry, ErrExpired
	}
	return p.expiry, nil
}

// parsed is a token taken apart, not yet checked against anything.
type parsed struct {
	version    int
	appID      string
	expiry     int64
	expiryText string // hashed as written; parse accepts only canonical form
	digest     []byte
}

// parse splits tok into its fields. The version is taken from the front and
// the expiry and digest from the back, so an app ID containing ':' still
// parses. Error details name the field, never its content.
func parse(tok string) (parsed, error) {
	verText, rest, ok := strings.Cut(tok, ":")
	if !ok {
		return parsed{}, fmt.Errorf("%w: missing fields", ErrMalformed)
	}
	var p parsed
	switch verText {
	case "1":
		p.version = V1
	case "2":
		p.version = V2
	default:
		return parsed{}, fmt.Errorf("%w: unknown version", ErrMalformed)
	}

	i := strings.LastIndexByte(rest, ':')
	if i < 0 {
		return parsed{}, fmt.Errorf("%w: missing fields", ErrMalformed)
	}
	digestText := rest[i+1:]
	rest = rest[:i]
	j := strings.LastIndexByte(rest, ':')
	if j < 0 {
		return parsed{}, fmt.Errorf("%w: missing fields", ErrMalformed)
	}
	p.appID, p.expiryText = rest[:j], rest[j+1:]
	if p.appID == "" {
		return parsed{}, fmt.Errorf("%w: empty app ID", ErrMalformed)
	}

	exp, err := parseExpiry(p.expiryText)
	if err != nil {
		return parsed{}, err
	}
	p.expiry = exp

	size := md5.Size
	if p.version == V2 {
		size = sha256.Size
	}
	if len(digestText) != 2*size {
		return parsed{}, fmt.Errorf("%w: digest has the wrong length", ErrMalformed)
	}
	// hex.DecodeString's errors quote the offending byte; ours do not.
	d, err := hex.DecodeString(digestText)
	if err != nil {
		return parsed{}, fmt.Errorf("%w: digest is not hex", ErrMalformed)
	}
	p.digest = d
	return p, nil
}

// parseExpiry accepts only the canonical decimal form: digits, no sign, no
// leading zero. One spelling per expiry keeps the signed text unambiguous and
// matches what every generator writes.
func parseExpiry(s string) (int64, error) {
	if s == "" {
		return 0, fmt.Errorf("%w: empty expiry", ErrMalformed)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%w: expiry is not a decimal number", ErrMalformed)
		}
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, fmt.Errorf("%w: expiry has a leading zero", ErrMalformed)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: expiry out of range", ErrMalformed)
	}
	return n, nil
}

// digestV1 is MD5(account + appID + certificate + expiry). Go strings are
// byte strings, so a UTF-8 account is hashed as its UTF-8 bytes, as Agora did.
func digestV1(appID, cert, account, expiry string) []byte {
	h := md5.New()
	h.Write([]byte(account))
	h.Write([]byte(appID))
	h.Write([]byte(cert))
	h.Write([]byte(expiry))
	return h.Sum(nil)
}

// digestV2 is HMAC-SHA256 keyed with the certificate. The app ID is fixed by
// the verifier and the expiry holds no newline, so the account is recovered
// unambiguously from the message even if it contains one.
func digestV2(appID, cert, account, expiry string) []byte {
	m := hmac.New(sha256.New, []byte(cert))
	m.Write([]byte(appID))
	m.Write([]byte{'\n'})
	m.Write([]byte(account))
	m.Write([]byte{'\n'})
	m.Write([]byte(expiry))
	return m.Sum(nil)
}

func join(version int, appID, expiry, digest string) string {
	return strconv.Itoa(version) + ":" + appID + ":" + expiry + ":" + digest
}
