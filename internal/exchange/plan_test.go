package exchange

import (
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/page"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
)

// TestListsReadAnIndexInOrder checks SQLite's plan for a page of the outbox
// and of the inbox, filtered by module or peer or not: a walk of the index on
// (log_index DESC, id) in order (core migration 7), from the cursor when
// there is one, never a sort of the table.
func TestListsReadAnIndexInOrder(t *testing.T) {
	db := storetest.PlanDB(t, []store.Schema{store.CoreSchema()})
	for _, r := range []page.Request{{Limit: 200}, {Limit: 200, After: &page.Key{Log: 1000, ID: "XM-X"}}} {
		for _, f := range []Filter{{}, {Module: "core"}, {PeerID: "PEER-X"}} {
			f.Request = r
			for index, q := range map[string]func() (string, []any){
				"exchange_outbox_log":   func() (string, []any) { return outboxQuery(f, "2026-01-01T00:00:00.000000Z") },
				"exchange_inbox_log_id": func() (string, []any) { return inboxQuery(f) },
			} {
				sql, args := q()
				p := storetest.Plan(t, db, sql, args...)
				if !strings.Contains(p, "USING INDEX "+index) || strings.Contains(p, "TEMP B-TREE") {
					t.Errorf("%+v: plan %q: want a walk of %s in order, and no sort", f, p, index)
				}
				if r.After != nil && !strings.Contains(p, "log_index<?") {
					t.Errorf("%+v, after a cursor: plan %q: want the walk to start at the cursor", f, p)
				}
			}
		}
	}
}
