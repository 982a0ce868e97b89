//go:build !linux

package cputime

import "time"

const (
	rusageThread = iota
	rusageSelf
)

func rusage(int) (time.Duration, bool) { return 0, false }
