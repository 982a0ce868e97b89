package transplant

import (
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/module"
	"github.com/custos-project/custos/internal/storetest"
)

// TestFiguresReadARangeOfAnIndex checks SQLite's plan for each count of the
// dashboards: it must search a range of the index of migration 5 that holds
// every column it reads (a covering index), and never scan a table whole,
// which at a million organs would read them all for a year's figures.
// (PostgreSQL plans by table size, so an empty test database says nothing
// there.)
func TestFiguresReadARangeOfAnIndex(t *testing.T) {
	const procs, trans = "USING COVERING INDEX procurements_time (procured_at>? AND procured_at<?)", "USING COVERING INDEX transplants_time (performed_at>? AND performed_at<?)"
	cases := []struct {
		name, sql string
		want      []string
	}{
		{"donations by month", donationsByMonthSQL, []string{"SEARCH procurements " + procs}},
		{"organs by month", organsByMonthSQL, []string{"SEARCH p " + procs, "SEARCH o USING COVERING INDEX organs_procurement (procurement_id=?)"}},
		{"transplants by month", transplantsByMonthSQL, []string{"SEARCH transplants " + trans}},
		{"donations by centre", donationsByCentreSQL, []string{"SEARCH procurements " + procs}},
		{"transplants by centre", transplantsByCentreSQL, []string{"SEARCH transplants " + trans}},
		{"organs procured", organsProcuredSQL, []string{"SEARCH p " + procs, "SEARCH o USING COVERING INDEX organs_procurement (procurement_id=?)"}},
		{"organs transplanted", organsTransplantedSQL, []string{"SEARCH t " + trans, "SEARCH o USING INDEX sqlite_autoindex_organs_1 (id=?)"}},
		{"last activity", lastActivitySQL, []string{"SEARCH procurements USING COVERING INDEX procurements_time", "SEARCH transplants USING COVERING INDEX transplants_time"}},
	}
	var sqls []string
	for _, c := range cases {
		sqls = append(sqls, c.sql)
	}
	plans := storetest.Plans(t, []module.Module{module.Core, Module}, []any{"2025-04", "2026-04"}, sqls...)
	for i, c := range cases {
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
