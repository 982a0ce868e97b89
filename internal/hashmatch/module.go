package hashmatch

import (
	"embed"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/module"
)

//go:embed schema/*.sql
var schemaFS embed.FS

// Module is the hash-matching registry of known child sexual abuse material.
var Module = module.Module{
	Name:   "hashmatch",
	Title:  "Known-image hash registry",
	Schema: module.Dir(schemaFS, "schema"),
	// Releases before per-module schema versions numbered migrations
	// globally: 3 and 4 were this registry's.
	Adopt:   map[int]int{3: 1, 4: 2},
	Project: Project,
	Demo:    Demo,
	Kinds: []auth.Kind{
		{Name: auth.KindCompetentAuthority, Prefix: "CM", Label: "Competent authority"},
		{Name: auth.KindServiceProvider, Prefix: "SP", Label: "Service provider"},
	},
	Roles: []auth.RoleSpec{
		{Role: auth.Analyst, Kind: auth.KindCompetentAuthority, Label: "Analyst: publishes hash banks, receives reports",
			KindRule: "analyst_authority", KindMessage: "an analyst must belong to a competent authority"},
		{Role: auth.Service, Kind: auth.KindServiceProvider, Label: "Service: an online service's system; subscribes, pulls, matches",
			KindRule: "service_provider", KindMessage: "a service principal must belong to a service provider"},
		{Role: auth.Reviewer, Kind: auth.KindServiceProvider, Label: "Reviewer: reviews a service's matches, reports, removes",
			KindRule: "service_provider", KindMessage: "a reviewer principal must belong to a service provider"},
	},
}
