package storetest

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/store"
)

// PlanDB is a new SQLite database with the schemas (a module list's:
// module.Projections(mods).Schemas()), empty, closed when t ends: for reading
// query plans.
func PlanDB(t *testing.T, schemas []store.Schema) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "plan.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx, schemas); err != nil {
		t.Fatal(err)
	}
	return db
}

// Plan returns SQLite's plan of the statement run with args: its steps'
// details joined by "; ". Tests check from it that a statement reads the
// index it was given and scans no table whole.
func Plan(t testing.TB, db *store.DB, sql string, args ...any) string {
	t.Helper()
	rows, err := db.Read().Query(context.Background(), "EXPLAIN QUERY PLAN "+sql, args...)
	if err != nil {
		t.Fatalf("plan of %s: %v", sql, err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "; ")
}

// PlanWant is a statement whose plan a test checks, and the steps its plan
// must have.
type PlanWant struct {
	Name, SQL string
	Want      []string
}

// CheckPlans fails t for each statement (run with args, or none when it
// takes none) whose SQLite plan on an empty database of the schemas lacks one
// of the steps it wants, or reads a table or an index whole ("SCAN") rather
// than searching a range of it.
func CheckPlans(t *testing.T, schemas []store.Schema, args []any, ws ...PlanWant) {
	t.Helper()
	db := PlanDB(t, schemas)
	for _, w := range ws {
		a := args
		if !strings.Contains(w.SQL, "?") {
			a = nil
		}
		p := Plan(t, db, w.SQL, a...)
		for _, want := range w.Want {
			if !strings.Contains(p, want) {
				t.Errorf("%s: plan %q: want %q", w.Name, p, want)
			}
		}
		for _, step := range strings.Split(p, "; ") {
			if strings.HasPrefix(step, "SCAN ") {
				t.Errorf("%s: plan %q reads a table or an index whole", w.Name, p)
			}
		}
	}
}
