//go:build race

package hostile

// raceEnabled: under the race detector, resident memory is mostly the
// detector's shadow memory, which it never gives back, so the flood tests
// check their memory bounds only in a build without it (make test runs them
// both ways).
const raceEnabled = true
