package transplant

import (
	"fmt"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/module"
	"github.com/custos-project/custos/internal/page"
	"github.com/custos-project/custos/internal/storetest"
)

// TestListsReadAnIndexInOrder checks SQLite's plan for each list page: it
// must walk the table's log_index index in order and stop at the page's
// limit, never sort the whole table, which took seconds at a million organs.
// (PostgreSQL plans by table size, so an empty test database says nothing
// there.)
func TestListsReadAnIndexInOrder(t *testing.T) {
	db := storetest.PlanDB(t, module.Projections([]module.Module{module.Core, Module}).Schemas())
	after := page.Request{Limit: 100, After: &page.Key{Log: 1000, ID: "X"}}
	type plan struct {
		name, sql, index string
		args             []any
	}
	// pageArgs are the arguments of a list's statement: n filters, the first
	// given as v, the cursor's when r has one, the limit.
	pageArgs := func(r page.Request, logCol, idCol string, n int, v string) (string, []any) {
		args := []any{v, v}
		for range n - 1 {
			args = append(args, "", "")
		}
		where, a := r.Where(logCol, idCol)
		return where, append(append(args, a...), r.Limit+1)
	}
	var cases []plan
	for _, r := range []page.Request{{Limit: 100}, after} {
		for _, c := range []struct {
			name, sql, index, log, id string
			n                         int
			v                         string
		}{
			{"donors", listDonorsSQL, "donors_log", "log_index", "id", 5, ""},
			{"donors of a centre", listDonorsSQL, "donors_log", "log_index", "id", 5, "AU-X"},
			{"recipients", listRecipientsSQL, "recipients_log", "r.log_index", "r.id", 7, ""},
			{"recipients of a centre", listRecipientsSQL, "recipients_log", "r.log_index", "r.id", 7, "AU-X"},
			{"available organs", availableOrgansSQL, "organs_log", "o.log_index", "o.id", 6, ""},
			{"available organs of a centre", availableOrgansSQL, "organs_log", "o.log_index", "o.id", 6, "AU-X"},
			{"pending authorizations", pendingAuthorizationsSQL, "transplant_authorizations_log", "ta.log_index", "ta.id", 5, ""},
		} {
			where, args := pageArgs(r, c.log, c.id, c.n, c.v)
			name := c.name
			if r.After != nil {
				name += ", after a cursor"
			}
			cases = append(cases, plan{name, fmt.Sprintf(c.sql, where), c.index, args})
		}
	}
	for _, c := range cases {
		p := storetest.Plan(t, db, c.sql, c.args...)
		if !strings.Contains(p, "USING INDEX "+c.index) || strings.Contains(p, "TEMP B-TREE") {
			t.Errorf("%s: plan %q: want a walk of %s in order, and no sort", c.name, p, c.index)
		}
		if strings.HasSuffix(c.name, "after a cursor") && !strings.Contains(p, "(log_index<?)") {
			t.Errorf("%s: plan %q: want the walk to start at the cursor", c.name, p)
		}
	}
}
