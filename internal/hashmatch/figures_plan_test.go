package hashmatch

import (
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/module"
	"github.com/custos-project/custos/internal/storetest"
)

// TestFiguresReadARangeOfAnIndex checks SQLite's plan for each count of the
// dashboards: a range of the index of migration 3 on the period's dates,
// a case's report and removal found by the case, and no table scanned whole.
func TestFiguresReadARangeOfAnIndex(t *testing.T) {
	const cases = "USING COVERING INDEX hm_cases_opened (opened_at>? AND opened_at<?)"
	tests := []struct {
		name, sql string
		want      []string
	}{
		{"cases by month", casesByMonthSQL, []string{"SEARCH hm_cases " + cases}},
		{"reports by month", reportsByMonthSQL, []string{"SEARCH hm_reports USING COVERING INDEX hm_reports_sent (sent_at>? AND sent_at<?)"}},
		{"removals by month", removalsByMonthSQL, []string{"SEARCH hm_removals USING COVERING INDEX hm_removals_time (removed_at>? AND removed_at<?)"}},
		{"cases by stage", casesByStageSQL, []string{"SEARCH c USING INDEX hm_cases_opened (opened_at>? AND opened_at<?)",
			"SEARCH m USING COVERING INDEX hm_removals_case (case_id=?)", "SEARCH r USING COVERING INDEX hm_reports_case (case_id=?)"}},
		{"match to report", toReportSQL, []string{"SEARCH r USING COVERING INDEX hm_reports_case (case_id=?)"}},
		{"match to removal", toRemovalSQL, []string{"SEARCH m USING COVERING INDEX hm_removals_case (case_id=?)"}},
	}
	var sqls []string
	for _, c := range tests {
		sqls = append(sqls, c.sql)
	}
	plans := storetest.Plans(t, []module.Module{module.Core, Module}, []any{"2025-04", "2026-04"}, sqls...)
	for i, c := range tests {
		for _, w := range c.want {
			if !strings.Contains(plans[i], w) {
				t.Errorf("%s: plan %q: want %q", c.name, plans[i], w)
			}
		}
		if storetest.Scans(plans[i]) {
			t.Errorf("%s: plan %q reads a table or an index whole", c.name, plans[i])
		}
	}
}
