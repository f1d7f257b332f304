package token

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	testApp  = "970ca35de60c44645bbae8a215061b33"
	testCert = "5f6d2b5bd9b4c2d4e1e3b4a6e1a2e3f"
	testExp  = int64(1700000000)
)

// before is a moment at which testExp is still in the future.
var before = time.Unix(testExp-60, 0)

// handV1 builds a v1 token by spelling out the MD5 input, independently of
// GenerateV1, so a mistake in the package cannot hide in its own test.
func handV1(app, cert, account string, exp int64) string {
	input := account + app + cert + strconv.FormatInt(exp, 10)
	sum := md5.Sum([]byte(input))
	return "1:" + app + ":" + strconv.FormatInt(exp, 10) + ":" + hex.EncodeToString(sum[:])
}

func handV2(app, cert, account string, exp int64) string {
	m := hmac.New(sha256.New, []byte(cert))
	m.Write([]byte(app + "\n" + account + "\n" + strconv.FormatInt(exp, 10)))
	return "2:" + app + ":" + strconv.FormatInt(exp, 10) + ":" + hex.EncodeToString(m.Sum(nil))
}

// The digests below were computed outside Go with md5sum and openssl, e.g.
// printf '%s' 'alice<app><cert>1700000000' | md5sum.
func TestGenerate_KnownVectors(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"v1 ascii", GenerateV1(testApp, testCert, "alice", testExp),
			"1:" + testApp + ":1700000000:76f8e8048cfc1eb3c8643dad3c23249b"},
		{"v1 utf-8 account", GenerateV1(testApp, testCert, "Zoë-東京", testExp),
			"1:" + testApp + ":1700000000:22f9a3f63047c42890e881c04c470fa6"},
		{"v1 by hand", GenerateV1(testApp, testCert, "Zoë-東京", testExp),
			handV1(testApp, testCert, "Zoë-東京", testExp)},
		{"v2 ascii", GenerateV2(testApp, testCert, "alice", testExp),
			"2:" + testApp + ":1700000000:8aaa3a5bd6954a0c32a536122d8054556a46dc8beffbb098784aa8799d40a64b"},
		{"v2 by hand", GenerateV2(testApp, testCert, "Zoë-東京", 0),
			handV2(testApp, testCert, "Zoë-東京", 0)},
		{"v1 never expires", GenerateV1(testApp, testCert, "bob", 0),
			handV1(testApp, testCert, "bob", 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got  %s\nwant %s", tt.got, tt.want)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	v1 := handV1(testApp, testCert, "alice", testExp)
	// Swapping one hex digit keeps the shape and breaks the signature.
	flipped := v1[:len(v1)-1] + map[bool]string{true: "0", false: "1"}[v1[len(v1)-1] != '0']

	tests := []struct {
		name    string
		tok     string
		app     string
		cert    string
		account string
		now     time.Time
		wantExp int64
		wantErr error
	}{
		{"v1 known vector", v1, testApp, testCert, "alice", before, testExp, nil},
		{"v1 utf-8 account", handV1(testApp, testCert, "Zoë-東京", testExp), testApp, testCert, "Zoë-東京", before, testExp, nil},
		{"v1 upper-case hex", v1[:len(v1)-32] + strings.ToUpper(v1[len(v1)-32:]), testApp, testCert, "alice", before, testExp, nil},
		{"v2 by hand", handV2(testApp, testCert, "alice", testExp), testApp, testCert, "alice", before, testExp, nil},
		{"expiry 0 never expires", handV1(testApp, testCert, "alice", 0), testApp, testCert, "alice", time.Unix(1<<40, 0), 0, nil},
		{"v2 expiry 0", handV2(testApp, testCert, "alice", 0), testApp, testCert, "alice", time.Unix(1<<40, 0), 0, nil},
		{"app id with colon", handV1("a:b", testCert, "alice", testExp), "a:b", testCert, "alice", before, testExp, nil},

		{"wrong certificate", v1, testApp, testCert + "x", "alice", before, 0, ErrBadSignature},
		{"wrong account", v1, testApp, testCert, "alicf", before, 0, ErrBadSignature},
		{"account is case-sensitive", v1, testApp, testCert, "Alice", before, 0, ErrBadSignature},
		{"flipped digit", flipped, testApp, testCert, "alice", before, 0, ErrBadSignature},
		{"empty certificate", v1, testApp, "", "alice", before, 0, ErrBadSignature},
		{"v1 digest under v2 label", "2" + v1[1:], testApp, testCert, "alice", before, 0, ErrMalformed},
		{"v2 with wrong certificate", handV2(testApp, testCert, "alice", testExp), testApp, "other", "alice", before, 0, ErrBadSignature},
		{"wrong app", v1, "another-app", testCert, "alice", before, 0, ErrWrongApp},
		{"wrong app is checked before signature", handV1("another-app", "x", "alice", testExp), testApp, testCert, "alice", before, 0, ErrWrongApp},

		{"expired", v1, testApp, testCert, "alice", time.Unix(testExp+1, 0), testExp, ErrExpired},
		{"expires exactly now", v1, testApp, testCert, "alice", time.Unix(testExp, 0), testExp, ErrExpired},
		{"valid one second before", v1, testApp, testCert, "alice", time.Unix(testExp-1, 0), testExp, nil},
		{"forged and expired says bad signature", flipped, testApp, testCert, "alice", time.Unix(testExp+1, 0), 0, ErrBadSignature},

		{"empty", "", testApp, testCert, "alice", before, 0, ErrMalformed},
		{"no_need_token is not a token", "_no_need_token", testApp, testCert, "alice", before, 0, ErrMalformed},
		{"version only", "1:", testApp, testCert, "alice", before, 0, ErrMalformed},
		{"missing digest", "1:" + testApp + ":1700000000", testApp, testCert, "alice", before, 0, ErrMalformed},
		{"missing app", "1:1700000000:76f8e8048cfc1eb3c8643dad3c23249b", testApp, testCert, "alice", before, 0, ErrMalformed},
		{"empty app", "1::1700000000:76f8e8048cfc1eb3c8643dad3c23249b", testApp, testCert, "alice", before, 0, ErrMalformed},
		{"empty expiry", "1:" + testApp + "::76f8e8048cfc1eb3c8643dad3c23249b", testApp, testCert, "alice", before, 0, ErrMalformed},
		{"non-numeric expiry", "1:" + testApp + ":soon:76f8e8048cfc1eb3c8643dad3c23249b", testApp, testCert, "alice", before, 0, ErrMalformed},
		{"negative expiry", "1:" + testApp + ":-5:76f8e8048cfc1eb3c8643dad3c23249b", testApp, testCert, "alice", before, 0, ErrMalformed},
		{"plus sign expiry", "1:" + testApp + ":+5:76f8e8048cfc1eb3c8643dad3c23249b", testApp, testCert, "alice", before, 0, ErrMalformed},
		{"leading zero expiry", "1:" + testApp + ":01700000000:76f8e8048cfc1eb3c8643dad3c23249b", testApp, testCert, "alice", before, 0, ErrMalformed},
		{"expiry overflows int64", "1:" + testApp + ":99999999999999999999:76f8e8048cfc1eb3c8643dad3c23249b", testApp, testCert, "alice", before, 0, ErrMalformed},
		{"bad hex", "1:" + testApp + ":1700000000:zzf8e8048cfc1eb3c8643dad3c23249b", testApp, testCert, "alice", before, 0, ErrMalformed},
		{"short digest", "1:" + testApp + ":1700000000:76f8e8", testApp, testCert, "alice", before, 0, ErrMalformed},
		{"empty digest", "1:" + testApp + ":1700000000:", testApp, testCert, "alice", before, 0, ErrMalformed},
		{"unknown version", "3" + v1[1:], testApp, testCert, "alice", before, 0, ErrMalformed},
		{"version 01", "0" + v1, testApp, testCert, "alice", before, 0, ErrMalformed},
		{"no colons", "76f8e8048cfc1eb3c8643dad3c23249b", testApp, testCert, "alice", before, 0, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exp, err := Verify(tt.tok, tt.app, tt.cert, tt.account, tt.now)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if exp != tt.wantExp {
				t.Errorf("expiry = %d, want %d", exp, tt.wantExp)
			}
			if err != nil {
				assertNoSecrets(t, err, tt.tok, tt.cert)
			}
		})
	}
}

func TestGenerate_RoundTrip(t *testing.T) {
	accounts := []string{"alice", "Zoë-東京", "", "with:colon", "with\nnewline", strings.Repeat("x", 1000)}
	gens := map[string]func(string, string, string, int64) string{"v1": GenerateV1, "v2": GenerateV2}
	for name, gen := range gens {
		for _, acct := range accounts {
			for _, exp := range []int64{0, testExp} {
				tok := gen(testApp, testCert, acct, exp)
				got, err := Verify(tok, testApp, testCert, acct, before)
				if err != nil || got != exp {
					t.Errorf("%s(%q, %d): Verify = %d, %v", name, acct, exp, got, err)
				}
				if _, err := Verify(tok, testApp, testCert, acct+"x", before); !errors.Is(err, ErrBadSignature) {
					t.Errorf("%s(%q, %d) accepted for another account: %v", name, acct, exp, err)
				}
			}
		}
	}
}

// A v2 token must not verify as v1 even if relabelled with a v1 digest
// length, and the versions must not collide for the same inputs.
func TestGenerate_VersionsDiffer(t *testing.T) {
	a := GenerateV1(testApp, testCert, "alice", testExp)
	b := GenerateV2(testApp, testCert, "alice", testExp)
	if a[2:] == b[2:] {
		t.Fatal("v1 and v2 produced the same body")
	}
	if !strings.HasPrefix(a, "1:") || !strings.HasPrefix(b, "2:") {
		t.Fatalf("wrong version labels: %s %s", a, b)
	}
}

func TestGenerate_NegativeExpiryIsRejected(t *testing.T) {
	tok := GenerateV2(testApp, testCert, "alice", -1)
	if _, err := Verify(tok, testApp, testCert, "alice", before); !errors.Is(err, ErrMalformed) {
		t.Fatalf("err = %v, want ErrMalformed", err)
	}
}

// assertNoSecrets fails if err's text holds the certificate, or a token with
// a hex digest of 8 or more digits, or that digest. (Short or non-hex inputs
// could be mere substrings of our fixed messages, so they prove nothing.)
func assertNoSecrets(t *testing.T, err error, tok, cert string) {
	t.Helper()
	msg := err.Error()
	if len(cert) >= 4 && strings.Contains(msg, cert) {
		t.Errorf("error %q contains the certificate", msg)
	}
	d := tok[strings.LastIndexByte(tok, ':')+1:]
	if _, herr := hex.DecodeString(d); herr != nil || len(d) < 8 {
		return
	}
	if strings.Contains(msg, d) {
		t.Errorf("error %q contains the digest", msg)
	}
	if strings.Contains(msg, tok) {
		t.Errorf("error %q contains the token", msg)
	}
}

func FuzzVerify(f *testing.F) {
	f.Add(GenerateV1(testApp, testCert, "alice", testExp), "alice", testExp-1)
	f.Add(GenerateV2(testApp, testCert, "alice", 0), "alice", int64(0))
	f.Add("1:"+testApp+":1700000000:zz", "bob", int64(5))
	f.Add("2::::", "", int64(-1))
	f.Add(":::", "x", int64(1<<62))
	f.Add("1:a:b:c:d:e", "\xff", int64(0))
	f.Fuzz(func(t *testing.T, tok, account string, now int64) {
		exp, err := Verify(tok, testApp, testCert, account, time.Unix(now, 0))
		switch {
		case err == nil:
			// Anything accepted must be exactly what a generator makes,
			// up to the case of the hex digest.
			gen := GenerateV1
			if strings.HasPrefix(tok, "2:") {
				gen = GenerateV2
			}
			if want := gen(testApp, testCert, account, exp); !strings.EqualFold(tok, want) {
				t.Fatalf("accepted %q, generator gives %q", tok, want)
			}
		case errors.Is(err, ErrExpired):
			if exp == 0 || exp > now {
				t.Fatalf("expired with expiry %d at %d", exp, now)
			}
		default:
			if exp != 0 {
				t.Fatalf("error %v with expiry %d", err, exp)
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrWrongApp) && !errors.Is(err, ErrBadSignature) {
				t.Fatalf("unexpected error %v", err)
			}
		}
		if err != nil {
			assertNoSecrets(t, err, tok, testCert)
		}
	})
}
