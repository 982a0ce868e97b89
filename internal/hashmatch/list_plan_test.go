package hashmatch

import (
	"fmt"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/module"
	"github.com/custos-project/custos/internal/page"
	"github.com/custos-project/custos/internal/storetest"
)

// TestListsReadAnIndexInOrder checks SQLite's plan for each list page: it
// must walk its owner's part of the list's (owner, log_index DESC, id) index
// in order and stop at the page's limit, never sort the rows; a page after a
// cursor starts the walk there. (PostgreSQL plans by table size, so an empty
// test database says nothing there.)
func TestListsReadAnIndexInOrder(t *testing.T) {
	db := storetest.PlanDB(t, module.Projections([]module.Module{module.Core, Module}).Schemas())
	after := page.Request{Limit: 100, After: &page.Key{Log: 1000, ID: "X"}}
	for _, r := range []page.Request{{Limit: 100}, after} {
		for _, c := range []struct {
			name, sql, index, log, id string
			n                         int
			v                         string
		}{
			{"cases", listCasesSQL, "hm_cases_log", "c.log_index", "c.id", 5, ""},
			{"open cases", listCasesSQL, "hm_cases_log", "c.log_index", "c.id", 5, "open"},
			{"reports received", listReportsReceivedSQL, "hm_reports_received_log", "log_index", "id", 6, ""},
			{"reports received, unacknowledged", listReportsReceivedSQL, "hm_reports_received_log", "log_index", "id", 6, "sent"},
			{"reports sent", listReportsSentSQL, "hm_reports_sent_log", "log_index", "id", 6, ""},
			{"entries", listEntriesSQL, "hm_entries_log", "log_index", "entry_id", 2, ""},
			{"quarantined entries", listEntriesSQL, "hm_entries_log", "log_index", "entry_id", 2, "quarantined"},
			{"versions", listVersionsSQL, "hm_versions_log", "log_index", "id", 2, ""},
		} {
			args := []any{"OWNER", c.v, c.v}
			for range c.n - 1 {
				args = append(args, "", "")
			}
			where, a := r.Where(c.log, c.id)
			args = append(append(args, a...), r.Limit+1)
			name := c.name
			if r.After != nil {
				name += ", after a cursor"
			}
			p := storetest.Plan(t, db, fmt.Sprintf(c.sql, where), args...)
			if !strings.Contains(p, "USING INDEX "+c.index) || strings.Contains(p, "TEMP B-TREE") {
				t.Errorf("%s: plan %q: want a walk of %s in order, and no sort", name, p, c.index)
			}
			if r.After != nil && !strings.Contains(p, "log_index<?") {
				t.Errorf("%s: plan %q: want the walk to start at the cursor", name, p)
			}
		}
	}
}
