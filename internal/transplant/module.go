package transplant

import (
	"embed"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/module"
)

//go:embed schema/*.sql
var schemaFS embed.FS

// Module is the organ donation and transplantation registry.
var Module = module.Module{
	Name:   "transplant",
	Title:  "Organ donation and transplantation registry",
	Schema: module.Dir(schemaFS, "schema"),
	// Releases before per-module schema versions numbered migrations
	// globally: 2, 5 and 6 were this registry's.
	Adopt:   map[int]int{2: 1, 5: 2, 6: 3},
	Project: Project,
	Demo:    Demo,
	Kinds:   []auth.Kind{{Name: auth.KindCentre, Prefix: "TC", Label: "Transplant centre"}},
	Roles: []auth.RoleSpec{{Role: auth.Coordinator, Kind: auth.KindCentre, Label: "Coordinator: records for their own centre",
		KindRule: "coordinator_centre", KindMessage: "a coordinator must belong to a transplant centre"}},
}
