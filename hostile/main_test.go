// Package hostile is the hostile-input suite: each test plays an attacker
// against real edges and workers on a real embedded JetStream, with raw
// WebSocket frames, and asserts what the attacker and every other user see
// (docs/security.md). CI runs it with the rest of the tests.
package hostile
