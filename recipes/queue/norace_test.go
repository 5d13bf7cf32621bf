//go:build !race

package queue

// raceEnabled reports that this test binary runs under the race detector.
const raceEnabled = false
