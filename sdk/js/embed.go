// Package sigjs holds the browser SDK (AgoraSig.js 1.4's shape, speaking
// Switchboard's protocol) as files for an edge to serve: the ES module, the
// classic-script build and the TypeScript declarations. It imports nothing of
// Switchboard; serving them is the edge's job.
package sigjs

import "embed"

// Files holds agorasig.mjs (the ES module), agorasig.js (the classic script,
// defining the global AgoraSig), agorasig.d.ts (its declarations) and
// agorasig.d.mts (the same, for TypeScript's resolution of the .mjs).
//
//go:embed agorasig.mjs agorasig.js agorasig.d.ts agorasig.d.mts
var Files embed.FS

// Version is the SDK's version; getSDKVersion() returns the same string, and a
// test checks that they agree.
const Version = "1.4.0"
