//go:build !linux

package vpdq

// memoryLimited tells whether [Options.MaxMemory] is enforced here: only
// on Linux.
const memoryLimited = false

// limitMemory does nothing but on Linux.
func limitMemory(pid int, max int64) error { return nil }
