package par

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestForNKeepsToItsWorkers runs each index once and never more of them at
// a time than it was given workers.
func TestForNKeepsToItsWorkers(t *testing.T) {
	for _, workers := range []int{1, 2, 3} {
		var running, most atomic.Int64
		done := make([]atomic.Int64, 40)
		ForN(workers, len(done), func(i int) {
			n := running.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(time.Millisecond)
			done[i].Add(1)
			running.Add(-1)
		})
		for i := range done {
			if done[i].Load() != 1 {
				t.Fatalf("workers %d: index %d ran %d times", workers, i, done[i].Load())
			}
		}
		if most.Load() > int64(workers) {
			t.Errorf("workers %d: %d ran at once", workers, most.Load())
		}
	}
}
