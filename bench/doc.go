// Package bench is the library of sigbench, Switchboard's load tool: a lean
// protocol client (client.go), load workers that hold a share of a run's
// users in child processes of the tool (worker.go, phases.go, events.go,
// fleet.go), the scenarios a parent runs through them (scenarios.go), the
// Switchboard processes it starts and reads (server.go, measure.go), and the
// results (result.go). docs/benchmarks.md says what it measures and how.
//
// It speaks the wire protocol of package protocol, starts servers through
// package node and reads edge.DebugHandler's /debug/stats. Nothing of the
// server may import it.
package bench
