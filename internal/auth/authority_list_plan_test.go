package auth

import (
	"fmt"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/page"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
)

// TestAuthoritiesReadAnIndexInOrder checks SQLite's plan for a page of
// authorities, filtered or not: a walk of the index on (log_index DESC, id)
// in order, from the cursor when there is one, never a sort of the table.
func TestAuthoritiesReadAnIndexInOrder(t *testing.T) {
	db := storetest.PlanDB(t, []store.Schema{store.CoreSchema()})
	for _, r := range []page.Request{{Limit: 100}, {Limit: 100, After: &page.Key{Log: 1000, ID: "AU-X"}}} {
		for _, v := range []string{"", "transplant_centre"} {
			args := []any{v, v, "", "", "", "%%"}
			where, after := r.Where("log_index", "id")
			p := storetest.Plan(t, db, fmt.Sprintf(listAuthoritiesSQL, where), append(append(args, after...), r.Limit+1)...)
			if !strings.Contains(p, "USING INDEX authorities_log") || strings.Contains(p, "TEMP B-TREE") {
				t.Errorf("kind %q, cursor %v: plan %q: want a walk of authorities_log in order, and no sort", v, r.After, p)
			}
			if r.After != nil && !strings.Contains(p, "log_index<?") {
				t.Errorf("kind %q, after a cursor: plan %q: want the walk to start at the cursor", v, p)
			}
		}
	}
}
