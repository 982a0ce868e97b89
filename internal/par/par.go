// Package par runs the iterations of a loop on every core.
package par

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// For calls fn(0), …, fn(n-1), each once, on up to GOMAXPROCS goroutines
// that take the next index as they finish one, and returns when all are
// done. fn must be safe to run concurrently for different indices.
func For(n int, fn func(i int)) { ForN(0, n, fn) }

// ForN is For on up to workers goroutines (GOMAXPROCS when workers is 0 or
// less): for a caller told how many cores it may use (log verify
// --workers).
func ForN(workers, n int, fn func(i int)) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				fn(i)
			}
		})
	}
	wg.Wait()
}
