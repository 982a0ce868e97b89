package ledger

import (
	"fmt"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/page"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
)

// TestAlertsReadAnIndexInOrder checks SQLite's plan for a page of alerts,
// filtered or not: a walk of the index on (log_index DESC, id) in order,
// from the cursor when there is one, never a sort of the table.
func TestAlertsReadAnIndexInOrder(t *testing.T) {
	db := storetest.PlanDB(t, []store.Schema{store.CoreSchema()})
	for _, r := range []page.Request{{Limit: 200}, {Limit: 200, After: &page.Key{Log: 1000, ID: "AL-X"}}} {
		for _, v := range []string{"", "open"} {
			args := []any{"", "", "", "", v, v, "", "", "", ""}
			where, after := r.Where("al.log_index", "al.id")
			p := storetest.Plan(t, db, fmt.Sprintf(listAlertsSQL, where), append(append(args, after...), r.Limit+1)...)
			if !strings.Contains(p, "USING INDEX alerts_log") || strings.Contains(p, "TEMP B-TREE") {
				t.Errorf("state %q, cursor %v: plan %q: want a walk of alerts_log in order, and no sort", v, r.After, p)
			}
			if r.After != nil && !strings.Contains(p, "log_index<?") {
				t.Errorf("state %q, after a cursor: plan %q: want the walk to start at the cursor", v, p)
			}
		}
	}
}
