package assets

import (
	"testing"

	"github.com/custos-project/custos/internal/module"
	"github.com/custos-project/custos/internal/storetest"
)

// TestImportReadsUseTheIndex checks SQLite's plan for the statements that
// read one import's statements in order (the ownership graph built at
// start, log verify's check of the chunks): each searches the index on
// (import_id, id), without a scan of the table.
// Before assets migration 9 each went through the whole table by its
// primary key, so K imports read every statement K times.
func TestImportReadsUseTheIndex(t *testing.T) {
	want := []string{"SEARCH assets_bods_statements USING INDEX assets_bods_import (import_id=?)"}
	storetest.CheckPlans(t, module.Projections([]module.Module{module.Core, Module}).Schemas(), []any{"BI-X"},
		storetest.PlanWant{Name: "ownership graph", SQL: importGraphSQL, Want: want},
		storetest.PlanWant{Name: "chunk check", SQL: chunkCheckSQL, Want: want})
}
