// Package sdk is the Go SDK of Switchboard: the methods and callbacks of the
// Agora Signaling API v1.4, in Go casing, over the wire protocol of
// docs/protocol.md.
//
// A Client owns one login session at a time. It keeps the session across
// lost connections (resume, or a fresh login and channel re-join when the
// edge no longer knows the session), acknowledges what it receives, and
// delivers callbacks in order on one goroutine per Client.
//
// It imports protocol/ for the wire types and nothing else of Switchboard's.
package sdk
