package cputime

import (
	"runtime"
	"testing"
	"time"
)

// TestAdvances checks that a busy loop shows up in both clocks. It spins
// until the thread's clock has counted 50 ms, or fails after 10 s of wall
// time: on a loaded machine a fixed wall-time loop may get little CPU, and
// the test would say nothing about the clocks. The kernel adjusts each
// figure getrusage gives (split into user and system time by tick samples,
// kept from going backwards) for the thread and for the process apart, so
// the process's may lag the thread's by about a tick (10 ms at HZ=100): CI
// saw 20.4 against 21.7 ms.
func TestAdvances(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t0, ok := Thread()
	p0, _ := Process()
	if !ok {
		t.Skip("no per-thread CPU time on this platform")
	}
	x := 0
	t1 := t0
	for start := time.Now(); t1-t0 < 50*time.Millisecond && time.Since(start) < 10*time.Second; t1, _ = Thread() {
		for range 100_000 {
			x++
		}
	}
	p1, _ := Process()
	if t1-t0 < 50*time.Millisecond || p1-p0 < t1-t0-15*time.Millisecond {
		t.Fatalf("busy loop: thread CPU %v, process CPU %v (x=%d)", t1-t0, p1-p0, x)
	}
}
