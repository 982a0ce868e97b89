//go:build race

package vpdq

// raceEnabled makes the video tests sample frames: the race detector slows
// the PDQ filters down about fifty times.
const raceEnabled = true
