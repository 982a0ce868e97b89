package transplant

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/module"
	"github.com/custos-project/custos/internal/store"
)

// TestListsReadAnIndexInOrder checks SQLite's plan for each list page: it
// must walk the table's log_index index in order and stop at the page's
// limit, never sort the whole table, which took seconds at a million organs.
// (PostgreSQL plans by table size, so an empty test database says nothing
// there.)
func TestListsReadAnIndexInOrder(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "plan.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx, module.Projections([]module.Module{module.Core, Module}).Schemas()); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, sql, index string
		args             []any
	}{
		{"donors", listDonorsSQL, "donors_log", []any{"", "", 100}},
		{"donors of a centre", listDonorsSQL, "donors_log", []any{"AU-X", "AU-X", 100}},
		{"recipients", listRecipientsSQL, "recipients_log", []any{"", "", "waiting", "waiting", 100}},
		{"available organs", availableOrgansSQL, "organs_log", []any{100}},
		{"pending authorizations", pendingAuthorizationsSQL, "transplant_authorizations_log", []any{100}},
	} {
		rows, err := db.Read().Query(ctx, "EXPLAIN QUERY PLAN "+c.sql, c.args...)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
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
		p := strings.Join(plan, "; ")
		if !strings.Contains(p, "USING INDEX "+c.index) || strings.Contains(p, "TEMP B-TREE") {
			t.Errorf("%s: plan %q: want a walk of %s in order, and no sort", c.name, p, c.index)
		}
	}
}
