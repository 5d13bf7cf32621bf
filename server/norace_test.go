//go:build !race

package server_test

// raceEnabled reports that this test binary runs under the race detector.
const raceEnabled = false
