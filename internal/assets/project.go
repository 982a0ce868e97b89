package assets

import (
	"github.com/custos-project/custos/internal/ledger"
)

// Project adds the registry's projectors and tables.
func Project(reg *ledger.Projections) {
	projectBODS(reg) // beneficial ownership (bods.go)
	reg.Tables(
		ledger.Table{Name: "assets_directory", Order: "id"},
		ledger.Table{Name: "assets_cases", Order: "id"},
		ledger.Table{Name: "assets_case_links", Order: "id"},
		ledger.Table{Name: "assets_persons", Order: "id"},
		ledger.Table{Name: "assets_assets", Order: "id"},
		ledger.Table{Name: "assets_measures", Order: "id"},
		ledger.Table{Name: "assets_rates", Order: "id"},
	)
}
