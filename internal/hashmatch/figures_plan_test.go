package hashmatch

import (
	"testing"

	"github.com/custos-project/custos/internal/module"
	"github.com/custos-project/custos/internal/storetest"
)

// TestFiguresReadARangeOfAnIndex checks SQLite's plan for each count of the
// dashboards: a range of the index of migration 3 on the period's dates,
// a case's report and removal found by the case, and no table scanned whole.
func TestFiguresReadARangeOfAnIndex(t *testing.T) {
	const cases = "USING COVERING INDEX hm_cases_opened (opened_at>? AND opened_at<?)"
	report, removal := "SEARCH r USING COVERING INDEX hm_reports_case (case_id=?)", "SEARCH m USING COVERING INDEX hm_removals_case (case_id=?)"
	storetest.CheckPlans(t, module.Projections([]module.Module{module.Core, Module}).Schemas(), []any{"2025-04", "2026-04"},
		storetest.PlanWant{Name: "cases by month", SQL: casesByMonthSQL, Want: []string{"SEARCH hm_cases " + cases}},
		storetest.PlanWant{Name: "reports by month", SQL: reportsByMonthSQL, Want: []string{"SEARCH hm_reports USING COVERING INDEX hm_reports_sent (sent_at>? AND sent_at<?)"}},
		storetest.PlanWant{Name: "removals by month", SQL: removalsByMonthSQL, Want: []string{"SEARCH hm_removals USING COVERING INDEX hm_removals_time (removed_at>? AND removed_at<?)"}},
		storetest.PlanWant{Name: "cases by stage", SQL: casesByStageSQL, Want: []string{"SEARCH c USING INDEX hm_cases_opened (opened_at>? AND opened_at<?)", removal, report}},
		storetest.PlanWant{Name: "match to report", SQL: toReportSQL, Want: []string{"SEARCH c USING INDEX hm_cases_opened (opened_at>? AND opened_at<?)", report}},
		storetest.PlanWant{Name: "match to removal", SQL: toRemovalSQL, Want: []string{"SEARCH c USING INDEX hm_cases_opened (opened_at>? AND opened_at<?)", removal}})
}
