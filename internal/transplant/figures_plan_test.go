package transplant

import (
	"testing"

	"github.com/custos-project/custos/internal/module"
	"github.com/custos-project/custos/internal/storetest"
)

// TestFiguresReadARangeOfAnIndex checks SQLite's plan for each count of the
// dashboards: it must search a range of the index of migration 6 (21 for the
// organs from abroad) that holds every column it reads (a covering index;
// the donations read each procurement of the range, and its donor's others,
// by key), and never scan a table whole, which at a million organs would read them
// all for a year's figures. (PostgreSQL plans by table size, so an empty
// test database says nothing there.)
func TestFiguresReadARangeOfAnIndex(t *testing.T) {
	const procs, trans = "USING COVERING INDEX procurements_time (procured_at>? AND procured_at<?)", "USING COVERING INDEX transplants_time (performed_at>? AND performed_at<?)"
	const imports = "USING COVERING INDEX organ_imports_transplanted"
	storetest.CheckPlans(t, module.Projections([]module.Module{module.Core, Module}).Schemas(), []any{"2025-04", "2026-04"},
		storetest.PlanWant{Name: "donations by month and centre", SQL: donationsSQL, Want: []string{"SEARCH p USING INDEX procurements_time (procured_at>? AND procured_at<?)",
			// The donor's procurements first, the donor's kind only after.
			"SEARCH f USING INDEX procurements_donor (donor_id=?); SEARCH d EXISTS USING INDEX sqlite_autoindex_donors_1 (id=?)"}},
		storetest.PlanWant{Name: "organs procured by month and organ", SQL: organsSQL,
			Want: []string{"SEARCH p " + procs, "SEARCH o USING COVERING INDEX organs_procurement (procurement_id=?)"}},
		storetest.PlanWant{Name: "transplantations by month, centre and organ", SQL: transplantsSQL,
			Want: []string{"SEARCH t " + trans, "SEARCH o USING INDEX sqlite_autoindex_organs_1 (id=?)"}},
		storetest.PlanWant{Name: "organs from abroad transplanted by month, centre and organ", SQL: importTransplantsSQL,
			Want: []string{"SEARCH organ_imports " + imports + " (outcome_on>? AND outcome_on<?)"}},
		storetest.PlanWant{Name: "last activity", SQL: lastActivitySQL,
			Want: []string{"SEARCH procurements USING COVERING INDEX procurements_time", "SEARCH transplants USING COVERING INDEX transplants_time",
				"SEARCH organ_imports " + imports}})
}
