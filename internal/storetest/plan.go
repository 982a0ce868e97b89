package storetest

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/module"
	"github.com/custos-project/custos/internal/store"
)

// Plans migrates a new SQLite database with the modules' schemas and returns,
// for each statement (run with args), SQLite's query plan: its steps' details
// joined by "; ". Tests check from it that a statement reads the index it was
// given and scans no table whole.
func Plans(t *testing.T, modules []module.Module, args []any, statements ...string) []string {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "plan.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx, module.Projections(modules).Schemas()); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range statements {
		a := args
		if strings.Count(s, "?") == 0 {
			a = nil
		}
		rows, err := db.Read().Query(ctx, "EXPLAIN QUERY PLAN "+s, a...)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		out = append(out, strings.Join(plan, "; "))
	}
	return out
}

// Scans tells whether a plan (as Plans gives it) reads a table, or an index,
// whole rather than searching a range of it.
func Scans(plan string) bool {
	for _, step := range strings.Split(plan, "; ") {
		if strings.HasPrefix(step, "SCAN ") {
			return true
		}
	}
	return false
}
