package cputime

import (
	"runtime"
	"testing"
	"time"
)

// TestAdvances checks that a busy loop shows up in both clocks.
func TestAdvances(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t0, ok := Thread()
	p0, _ := Process()
	if !ok {
		t.Skip("no per-thread CPU time on this platform")
	}
	x := 0
	for start := time.Now(); time.Since(start) < 50*time.Millisecond; {
		x++
	}
	t1, _ := Thread()
	p1, _ := Process()
	if t1-t0 < 10*time.Millisecond || p1-p0 < t1-t0-time.Millisecond {
		t.Fatalf("50 ms busy loop: thread CPU %v, process CPU %v (x=%d)", t1-t0, p1-p0, x)
	}
}
