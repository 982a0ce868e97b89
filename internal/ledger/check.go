package ledger

import (
	"context"

	"github.com/custos-project/custos/internal/store"
)

// A Check is a module's own part of log verify, for data the log commits
// to without replaying it (a digest in an entry of what the module stores
// beside the log, such as the statistics registry's column chunks). Live
// reads the registry, in the one state the rest of the verification reads;
// Replay reads the tables replayed from the log, which hold what the
// entries said; unless the replay is kept (a verify state saved), they have
// their keys and unique indexes but not all their other indexes
// (lateIndexes), so a check reads them whole or by key, not row by row
// through another column. Problem reports a difference (it tells true when enough
// were found and the check should stop); Note reports something that is not
// one.
type Check func(ctx context.Context, c CheckRun) error

// CheckRun is what a Check is given.
type CheckRun struct {
	Live, Replay store.Queryer
	Problem      func(format string, args ...any) bool
	Note         func(format string, args ...any)
}

type namedCheck struct {
	name string
	run  Check
}

// Check declares a module's check, named for the progress and for errors.
// Checks run after the replay, beside the comparison of the tables.
func (r *Projections) Check(name string, c Check) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.checks = append(r.checks, namedCheck{name, c})
}

func (r *Projections) moduleChecks() []namedCheck {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return append([]namedCheck(nil), r.checks...)
}
