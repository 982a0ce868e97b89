package assets

import (
	"context"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/module"
	"github.com/custos-project/custos/internal/storetest"
)

// TestImportReadsUseTheIndex checks SQLite's plan for the statements that
// read one import's statements in order (the ownership graph built at
// start, log verify's check of the chunks): each searches the index on
// (import_id, id), without a scan of the table or a sort. Before assets
// migration 9 each went through the whole table by its primary key, so K
// imports read every statement K times.
func TestImportReadsUseTheIndex(t *testing.T) {
	ctx := context.Background()
	db := storetest.PlanDB(t, module.Projections([]module.Module{module.Core, Module}).Schemas())
	for name, q := range map[string]string{"ownership graph": importGraphSQL, "chunk check": chunkCheckSQL} {
		rows, err := db.Read().Query(ctx, "EXPLAIN QUERY PLAN "+q, "BI-X")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
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
		if !strings.Contains(p, "SEARCH assets_bods_statements USING INDEX assets_bods_import (import_id=?)") || strings.Contains(p, "SCAN") || strings.Contains(p, "TEMP B-TREE") {
			t.Errorf("%s: plan %q: want a search of assets_bods_import, no scan, no sort", name, p)
		}
	}
}
