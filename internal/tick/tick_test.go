package tick

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// TestRun runs work at once, on a wake and on the ticker, hands its errors
// to fail, and returns when the context ends.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	wake := make(chan struct{})
	var calls, fails atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, time.Hour, wake, func(context.Context) error {
			if calls.Add(1) == 2 {
				return errors.New("second call fails")
			}
			return nil
		}, func(error) { fails.Add(1) })
	}()
	waitFor := func(what string, n int64) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); calls.Load() < n; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d calls, want %d", what, calls.Load(), n)
			}
		}
	}
	waitFor("at once", 1)
	wake <- struct{}{}
	waitFor("after a wake", 2)
	cancel()
	<-done
	if c, f := calls.Load(), fails.Load(); c != 2 || f != 1 {
		t.Fatalf("%d calls and %d failures, want 2 and 1", c, f)
	}

	// On the ticker, with no wake and no fail.
	ctx, cancel = context.WithCancel(context.Background())
	calls.Store(0)
	done = make(chan struct{})
	go func() {
		defer close(done)
		Run(ctx, time.Millisecond, nil, func(context.Context) error { calls.Add(1); return errors.New("unheard") }, nil)
	}()
	waitFor("on the ticker", 3)
	cancel()
	<-done
}
