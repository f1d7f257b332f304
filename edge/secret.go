package edge

import (
	"crypto/sha256"
	"encoding/base64"
)

// A session's secret proves possession of the session: the edge makes it at
// login, hands it to the client in onLoginSuccess, and keeps nothing of it
// but its hash. The session ID, which names the session in KV, in NATS
// headers and in logs, is that hash: whoever sees an ID cannot resume the
// session, and only the client that logged in holds the secret that hashes
// to it. A resume presents the secret; the edge derives the ID and the
// workers confirm that the account's session record names it.

// secretBytes is the size of a session secret: 256 random bits.
const secretBytes = 32

// secretLen is the length of an encoded secret (base64url, unpadded).
var secretLen = base64.RawURLEncoding.EncodedLen(secretBytes)

// newSecret returns a fresh session secret.
func newSecret() string { return randomID(secretBytes) }

// sidOf is the session ID of a secret: 144 bits of its SHA-256.
func sidOf(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return base64.RawURLEncoding.EncodeToString(h[:18])
}

// validSecret reports whether s has the form of a secret. It says nothing
// of whether a session has it.
func validSecret(s string) bool {
	if len(s) != secretLen {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}
