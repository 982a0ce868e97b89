//go:build !linux

package index

import "time"

// threadCPU is unavailable here; benchmarks report wall-clock rates only.
func threadCPU() (time.Duration, bool) { return 0, false }

// processCPU is unavailable here; benchmarks report wall-clock rates only.
func processCPU() (time.Duration, bool) { return 0, false }
