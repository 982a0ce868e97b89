// Package cputime reads the CPU time a thread or the process has consumed.
// Benchmarks report CPU time per operation next to wall-clock rates because
// the machines they run on are shared: wall-clock figures swing with other
// tenants' load, CPU time per operation much less.
package cputime

import "time"

// Thread returns the CPU time (user + system) consumed by the calling OS
// thread; lock the goroutine to its thread around the measurement. ok is
// false where the platform cannot say.
func Thread() (d time.Duration, ok bool) { return rusage(rusageThread) }

// Process returns the CPU time (user + system) consumed by the whole process.
func Process() (d time.Duration, ok bool) { return rusage(rusageSelf) }
