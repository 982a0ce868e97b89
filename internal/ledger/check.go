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
// one; Covered says, in one line with its counts, what the check read and
// found as the log says (an auditor's report names what an OK covers).
type Check func(ctx context.Context, c CheckRun) error

// CheckRun is what a Check is given.
type CheckRun struct {
	Live, Replay store.Queryer
	Problem      func(format string, args ...any) bool
	Note         func(format string, args ...any)
	Covered      func(format string, args ...any)
	// Workers is how many goroutines the check may keep busy: the
	// verification's (VerifyOptions.Workers, log verify --workers; the
	// number of cores by default).
	Workers int
	// Kept is what the check kept (Keep) at the verification whose state
	// this one starts from (VerifyOptions.From), "" when none: a check may
	// skip what it checked then, if a digest as strong as the check shows
	// it unchanged since. It lives in the auditor's replay file, sealed
	// with the state.
	Kept string
	// Keep records what the check keeps for a later verification from this
	// one's state; it is kept only when the state is saved.
	Keep func(memo string)
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

// memosTable holds, in the replay file of a saved state, what each check
// kept (CheckRun.Keep).
const memosTable = "custos_verify_memos_v1"

// loadMemos reads what the checks kept in the replay file q, none when it
// has no such table.
func loadMemos(ctx context.Context, q store.Queryer) (map[string]string, error) {
	var n int
	if err := q.QueryRow(ctx, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?", memosTable).Scan(&n); err != nil || n == 0 {
		return nil, err
	}
	rows, err := q.Query(ctx, "SELECT name, memo FROM "+memosTable)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, memo string
		if err := rows.Scan(&name, &memo); err != nil {
			return nil, err
		}
		out[name] = memo
	}
	return out, rows.Err()
}

// saveMemos replaces what the checks kept in the replay file.
func saveMemos(ctx context.Context, db *store.DB, memos map[string]string) error {
	tx, err := db.BeginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, s := range []string{
		"DROP TABLE IF EXISTS " + memosTable,
		"CREATE TABLE " + memosTable + " (name TEXT PRIMARY KEY, memo TEXT NOT NULL)",
	} {
		if _, err := tx.Exec(ctx, s); err != nil {
			return err
		}
	}
	for name, memo := range memos {
		if _, err := tx.Exec(ctx, "INSERT INTO "+memosTable+" (name, memo) VALUES (?, ?)", name, memo); err != nil {
			return err
		}
	}
	return tx.Commit()
}
