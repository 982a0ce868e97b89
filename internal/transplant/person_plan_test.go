package transplant

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/module"
	"github.com/custos-project/custos/internal/storetest"
)

// TestPersonLookUpsReadIndexes checks SQLite's plan for each statement of a
// person look-up, which a registration runs too: each finds its rows through
// an index, never by reading a whole table (a million donors at national
// scale).
func TestPersonLookUpsReadIndexes(t *testing.T) {
	ctx := context.Background()
	db := storetest.PlanDB(t, module.Projections([]module.Module{module.Core, Module}).Schemas())
	for _, c := range []struct{ name, sql, want string }{
		{"donors by pseudonym", fmt.Sprintf(byPseudonymSQL, "d.kind", "donors"), "USING INDEX donors_person"},
		{"recipients by pseudonym", fmt.Sprintf(byPseudonymSQL, "d.organ_needed", "recipients"), "USING INDEX recipients_person"},
		{"donors by name", fmt.Sprintf(byNameSQL, "d.kind", "donors"), "USING INDEX person_names_name_dob"},
		{"recipients by name", fmt.Sprintf(byNameSQL, "d.organ_needed", "recipients"), "USING INDEX person_names_name_dob"},
		{"donors by name, by subject", fmt.Sprintf(byNameSQL, "d.kind", "donors"), "USING INDEX donors_subject"},
		{"recipients by name, by subject", fmt.Sprintf(byNameSQL, "d.organ_needed", "recipients"), "USING INDEX recipients_subject"},
	} {
		rows, err := db.Read().Query(ctx, "EXPLAIN QUERY PLAN "+c.sql, "BI-X")
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
		if !strings.Contains(p, c.want) || strings.Contains(p, "SCAN") {
			t.Errorf("%s: plan %q: want a search %s and no scan", c.name, p, c.want)
		}
	}
}
