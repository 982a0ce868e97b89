// Package tick runs custos serve's background work: at once, then
// periodically, until the server stops.
package tick

import (
	"context"
	"time"
)

// Run calls work at once, then every d and whenever wake receives (a nil
// wake never does), until ctx ends. An error work returns while ctx is
// live goes to fail, when fail is not nil; the next call comes all the
// same.
func Run(ctx context.Context, d time.Duration, wake <-chan struct{}, work func(context.Context) error, fail func(error)) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		if err := work(ctx); err != nil && ctx.Err() == nil && fail != nil {
			fail(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-wake:
		}
	}
}
