package hashmatch

import (
	"embed"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/module"
)

// The roles and the authority kinds of the registry (resolution III).
const (
	RoleAnalyst  auth.Role = "analyst"  // competent authority staff: publishes banks, receives reports
	RoleService  auth.Role = "service"  // an online service's system principal: subscribes, pulls, matches
	RoleReviewer auth.Role = "reviewer" // an online service's human reviewer: reviews cases, reports, removes

	KindCompetentAuthority = "competent_authority" // holds hash banks, receives reports
	KindServiceProvider    = "service_provider"    // an online service that matches and reports
)

// AuthorityKinds are the kinds of authority the registry's own route
// registers (POST /api/v1/hashmatch/authorities).
var AuthorityKinds = []string{KindCompetentAuthority, KindServiceProvider}

// The actions of the registry, and who may take them.
var (
	PublishBanks     = auth.NewAction("create and publish hash banks", RoleAnalyst)
	SubscribeBanks   = auth.NewAction("subscribe to and pull hash banks", RoleService)
	MatchHashes      = auth.NewAction("match hashes against hash banks", RoleService)
	ReviewCases      = auth.NewAction("review match cases, report them and record removals", RoleReviewer)
	ReadCases        = auth.NewAction("read match cases", RoleService, RoleReviewer)
	ReceiveReports   = auth.NewAction("receive and acknowledge reports", RoleAnalyst)
	ReadBankMetadata = auth.NewAction("read hash bank metadata (never the hashes)", auth.Admin, auth.Regulator, auth.Auditor, RoleAnalyst, RoleService, RoleReviewer)
)

//go:embed schema/*.sql
var schemaFS embed.FS

//go:embed locales/*.json
var localesFS embed.FS

// Module is the hash-matching registry of known child sexual abuse material.
var Module = module.Module{
	Name:    "hashmatch",
	Title:   i18n.M("Known-image hash registry"),
	Schema:  module.Dir(schemaFS, "schema"),
	Locales: module.Dir(localesFS, "locales"),
	// Releases before per-module schema versions numbered migrations
	// globally: 3 and 4 were this registry's.
	Adopt:   map[int]int{3: 1, 4: 2},
	Project: Project,
	Demo:    Demo,
	// A list acted on by another authority, a service matching without a
	// subscription, an entry quarantined, one service's matches of an entry
	// past the quarantine limit on their own.
	AlertRules: []string{"own_bank", "subscription", "hashmatch_quarantine", "hashmatch_flood"},
	Kinds: []auth.Kind{
		{Name: KindCompetentAuthority, Prefix: "CM", Label: i18n.M("Competent authority")},
		{Name: KindServiceProvider, Prefix: "SP", Label: i18n.M("Service provider")},
	},
	Roles: []auth.RoleSpec{
		{Role: RoleAnalyst, Kind: KindCompetentAuthority, Label: i18n.M("Analyst: publishes hash banks, receives reports"),
			KindRefusal: errs.Invalidf("analyst_authority", "authority_id", "an analyst must belong to a competent authority")},
		{Role: RoleService, Kind: KindServiceProvider, Label: i18n.M("Service: an online service's system; subscribes, pulls, matches"),
			KindRefusal: errs.Invalidf("service_provider", "authority_id", "a service principal must belong to a service provider")},
		{Role: RoleReviewer, Kind: KindServiceProvider, Label: i18n.M("Reviewer: reviews a service's matches, reports, removes"),
			KindRefusal: errs.Invalidf("service_provider", "authority_id", "a reviewer principal must belong to a service provider")},
	},
}
