// Package e2e_test drives Switchboard end to end: the Go SDK over real
// WebSockets against edges and workers on a real embedded nats-server with
// JetStream, and the built binaries as separate processes.
package e2e_test
