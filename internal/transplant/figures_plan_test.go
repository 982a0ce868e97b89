package transplant

import (
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/module"
	"github.com/custos-project/custos/internal/storetest"
)

// TestFiguresReadARangeOfAnIndex checks SQLite's plan for each count of the
// dashboards: it must search a range of the index of migration 6 that holds
// every column it reads (a covering index), and never scan a table whole,
// which at a million organs would read them all for a year's figures.
// (PostgreSQL plans by table size, so an empty test database says nothing
// there.) The organs from abroad transplanted here are the exception: no
// index holds their outcome's day, and organ_imports, which holds only the
// organs received from abroad, is read whole.
func TestFiguresReadARangeOfAnIndex(t *testing.T) {
	const procs, trans = "USING COVERING INDEX procurements_time (procured_at>? AND procured_at<?)", "USING COVERING INDEX transplants_time (performed_at>? AND performed_at<?)"
	storetest.CheckPlans(t, module.Projections([]module.Module{module.Core, Module}).Schemas(), []any{"2025-04", "2026-04"},
		storetest.PlanWant{Name: "donations by month and centre", SQL: donationsSQL, Want: []string{"SEARCH procurements " + procs}},
		storetest.PlanWant{Name: "organs procured by month and organ", SQL: organsSQL,
			Want: []string{"SEARCH p " + procs, "SEARCH o USING COVERING INDEX organs_procurement (procurement_id=?)"}},
		storetest.PlanWant{Name: "transplantations by month, centre and organ", SQL: transplantsSQL,
			Want: []string{"SEARCH t " + trans, "SEARCH o USING INDEX sqlite_autoindex_organs_1 (id=?)"}},
		storetest.PlanWant{Name: "last activity", SQL: strings.Replace(lastActivitySQL, lastImportSQL, "", 1),
			Want: []string{"SEARCH procurements USING COVERING INDEX procurements_time", "SEARCH transplants USING COVERING INDEX transplants_time"}})
	db := storetest.PlanDB(t, module.Projections([]module.Module{module.Core, Module}).Schemas())
	for _, c := range []struct{ name, sql string }{{"organs from abroad transplanted", importTransplantsSQL}, {"last activity", lastActivitySQL}} {
		p := storetest.Plan(t, db, c.sql, []any{"2025-04", "2026-04"}[:strings.Count(c.sql, "?")]...)
		for _, step := range strings.Split(p, "; ") {
			if strings.HasPrefix(step, "SCAN ") && step != "SCAN organ_imports" {
				t.Errorf("%s: plan %q reads a table other than organ_imports whole", c.name, p)
			}
		}
	}
}
