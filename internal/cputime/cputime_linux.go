package cputime

import (
	"syscall"
	"time"
)

const (
	rusageThread = syscall.RUSAGE_THREAD
	rusageSelf   = syscall.RUSAGE_SELF
)

func rusage(who int) (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
