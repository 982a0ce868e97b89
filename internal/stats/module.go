package stats

import (
	"embed"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/module"
)

// The role and the authority kind of the registry.
const (
	RoleStatistician auth.Role = "statistician" // a statistics office's staff: maps codes, imports records, publishes tables

	KindStatisticsOffice = "statistics_office" // a national statistics office, or the unit of a ministry that keeps crime statistics
)

// The actions of the registry, and who may take them.
var (
	ManageMappings = auth.NewAction("publish mappings of national offence codes to the ICCS", RoleStatistician)
	ImportRecords  = auth.NewAction("import national crime and criminal-justice records", RoleStatistician)
	// WithdrawImports is withdrawing an import, which only a statistician
	// of the authority that made it does (Service.Withdraw).
	WithdrawImports = auth.NewAction("withdraw imports of national crime and criminal-justice records", RoleStatistician)
	ReadStatistics  = auth.NewAction("read crime and criminal-justice statistics", RoleStatistician, auth.Regulator, auth.Auditor, auth.Admin)
	PublishTables   = auth.NewAction("export published statistics tables", RoleStatistician, auth.Regulator)
)

//go:embed schema/*.sql
var schemaFS embed.FS

//go:embed locales/*.json
var localesFS embed.FS

// Module is the crime and criminal-justice statistics registry.
var Module = module.Module{
	Name:    "stats",
	Title:   i18n.M("Crime and criminal-justice statistics"),
	Schema:  module.Dir(schemaFS, "schema"),
	Locales: module.Dir(localesFS, "locales"),
	Project: Project,
	Demo:    Demo,
	// Another office's import or mapping acted on.
	AlertRules: []string{"authority"},
	Kinds: []auth.Kind{
		{Name: KindStatisticsOffice, Prefix: "SO", Label: i18n.M("Statistics office")},
	},
	Roles: []auth.RoleSpec{
		{Role: RoleStatistician, Kind: KindStatisticsOffice, Label: i18n.M("Statistician: maps offence codes, imports records, publishes tables"),
			KindRefusal: errs.Invalidf("statistics_office", "authority_id", "a statistician must belong to a statistics office")},
	},
}
