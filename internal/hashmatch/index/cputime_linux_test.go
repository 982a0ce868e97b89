package index

import (
	"syscall"
	"time"
)

// threadCPU returns the CPU time consumed by the calling OS thread. The
// benchmarks lock their goroutine to a thread and report CPU-time rates
// next to wall-clock ones, because the reference machine is shared and
// wall-clock figures swing with other tenants' load.
func threadCPU() (time.Duration, bool) { return rusage(syscall.RUSAGE_THREAD) }

// processCPU returns the CPU time consumed by the whole process, for the
// multi-threaded batch benchmark.
func processCPU() (time.Duration, bool) { return rusage(syscall.RUSAGE_SELF) }

func rusage(who int) (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
