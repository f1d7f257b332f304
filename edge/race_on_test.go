//go:build race

package edge

// raceEnabled: the tests run under the race detector, where sync.Pool
// drops a share of what it is given, so pooled records are allocated anew
// now and then.
const raceEnabled = true
