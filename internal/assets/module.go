package assets

import (
	"context"
	"embed"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/module"
	"github.com/custos-project/custos/internal/store"
)

// The roles and the authority kinds of the registry.
const (
	// RoleCentralAuthority is the staff of a state's central authority for
	// mutual legal assistance and asset recovery: keeps the directory, sees
	// and records its state's cases, records exchange rates.
	RoleCentralAuthority auth.Role = "central_authority_officer"
	// RoleProsecutor is a prosecutor or the staff of an asset recovery
	// office (a competent authority): records its state's cases, their
	// persons, assets and measures.
	RoleProsecutor auth.Role = "prosecutor"

	KindCentralAuthority = "central_authority"   // a state's central authority (UNCAC art. 46(13), UNTOC art. 18(13))
	KindProsecution      = "prosecution_service" // a prosecution service, asset recovery office or other competent authority
)

// The actions of the registry, and who may take them. A central authority
// and a prosecutor act on their own state's cases only (their authority's
// jurisdiction); the regulator and the auditor read every state's.
var (
	// A central authority officer changes its own state's entries only
	// (keeperOf); the regulator and the administrator curate every state's.
	ManageDirectory = auth.NewAction("record central authorities and contact points", RoleCentralAuthority, auth.Regulator, auth.Admin)
	ReadDirectory   = auth.NewAction("read the directory of central authorities and contact points",
		RoleCentralAuthority, RoleProsecutor, auth.Regulator, auth.Auditor, auth.Admin)
	RecordCases      = auth.NewAction("record asset-recovery cases, their persons, assets and measures", RoleProsecutor, RoleCentralAuthority)
	ReadCases        = auth.NewAction("read asset-recovery cases", RoleProsecutor, RoleCentralAuthority, auth.Regulator, auth.Auditor)
	OpenPersonalData = auth.NewAction("open the personal data of a case's persons", RoleProsecutor, RoleCentralAuthority)
	RecordRates      = auth.NewAction("record exchange rates", RoleCentralAuthority, auth.Regulator)
	ReadStatistics   = auth.NewAction("read asset-recovery statistics", RoleCentralAuthority, RoleProsecutor, auth.Regulator, auth.Auditor)
)

// Entry types of the registry.
const (
	TypeDirectoryRecorded = "assets.directory_recorded"
	TypeCaseOpened        = "assets.case_opened"
	TypePersonAdded       = "assets.person_added"
	TypeCasesLinked       = "assets.cases_linked"
	TypeAssetIdentified   = "assets.asset_identified"
	TypeMeasureRecorded   = "assets.measure_recorded"
	TypeRateRecorded      = "assets.rate_recorded"
)

//go:embed schema/*.sql
var schemaFS embed.FS

//go:embed locales/*.json
var localesFS embed.FS

// Module is the asset-recovery registry.
var Module = module.Module{
	Name:   "assets",
	Title:  i18n.M("Asset recovery"),
	Schema: module.Dir(schemaFS, "schema"),
	// Migration 10 fills in the keys of the case references (cases.go).
	SchemaSteps: map[int]func(ctx context.Context, tx *store.Tx) error{10: fillReferenceKeys},
	Locales:     module.Dir(localesFS, "locales"),
	Project:     Project,
	// Requests between central authorities (requests_exchange.go).
	Messages: RequestTypesExchanged,
	Demo:     Demo,
	// A request acted on by the wrong side or a third state, a use beyond
	// the request's purpose, a ground or onward sharing not consented to,
	// a message from a peer that is not the request's other side, an
	// officer changing another state's directory entry.
	AlertRules: []string{"answering_side", "directory_own_state", "ground_not_allowed", "onward_sharing", "party", "purpose_limitation",
		"requested_side", "requesting_side", "sender", "side"},
	Kinds: []auth.Kind{
		{Name: KindCentralAuthority, Prefix: "CE", Label: i18n.M("Central authority")},
		{Name: KindProsecution, Prefix: "PO", Label: i18n.M("Prosecution service or asset recovery office")},
	},
	Roles: []auth.RoleSpec{
		{Role: RoleCentralAuthority, Kind: KindCentralAuthority, Label: i18n.M("Central authority officer: keeps the directory, sees and records its state's cases"),
			KindRefusal: errs.Invalidf("central_authority", "authority_id", "a central authority officer must belong to a central authority")},
		{Role: RoleProsecutor, Kind: KindProsecution, Label: i18n.M("Prosecutor: records its state's cases, persons, assets and measures"),
			KindRefusal: errs.Invalidf("prosecution_service", "authority_id", "a prosecutor must belong to a prosecution service or asset recovery office")},
	},
}
