package transplant

import (
	"context"
	"embed"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/module"
	"github.com/custos-project/custos/internal/store"
)

// The role and the authority kind of the registry.
const RoleCoordinator auth.Role = "coordinator" // records for their own centre
const KindCentre = "transplant_centre"

// The actions of the registry, and who may take them.
var (
	AuthorizeCentres = auth.NewAction("grant or revoke centre authorizations", auth.Regulator)
	Record           = auth.NewAction("record donors, recipients, procurements and transplants", RoleCoordinator)
	Read             = auth.NewAction("read the registry", auth.Admin, auth.Regulator, RoleCoordinator, auth.Auditor)
	ReadPersonalData = auth.NewAction("open personal data", RoleCoordinator, auth.Regulator)
)

//go:embed schema/*.sql
var schemaFS embed.FS

//go:embed locales/*.json
var localesFS embed.FS

// Module is the organ donation and transplantation registry.
var Module = module.Module{
	Name:    "transplant",
	Title:   i18n.M("Organ donation and transplantation registry"),
	Schema:  module.Dir(schemaFS, "schema"),
	Locales: module.Dir(localesFS, "locales"),
	// Releases before per-module schema versions numbered migrations
	// globally: 2, 5 and 6 were this registry's.
	Adopt: map[int]int{2: 1, 5: 2, 6: 3},
	// Migration 23 fills the history of the imports' assignments from the
	// log, migration 24 its first holders and the imports' blood groups
	// (crossborder_project.go), migration 26 the trafficking cases' links
	// withdrawn (payer.go).
	SchemaSteps: map[int]func(ctx context.Context, tx *store.Tx) error{23: fillImportAssignments, 24: fillImportFirstHolders, 26: fillLinkWithdrawals},
	Project:     Project,
	// Organs and vigilance across borders (crossborder_messages.go).
	Messages: CrossBorderTypes,
	// Refusals that may signal trafficking or a breach of the rules of
	// transplantation, the trafficking screening's findings and the
	// vigilance deadlines missed (docs/oversight.md, "Alerts").
	AlertRules: []string{"centre_authorization", "deceased_authorization", "living_consent", "living_donor_minor", "living_donor_organs",
		"no_payment", "organ_available", "organ_holder", "organ_procured", "own_centre", "procedure_authorization",
		"recipient_centre", "reimbursable_expense", "reimbursement_evidence", "reimbursement_payee", "waitlist_closed",
		RuleAcknowledgement, RuleFinalReport,
		RuleNonResidentLivingDonation, RuleRepeatLivingDonor, RuleAbroadPayment, RuleAbroadUnrelatedDonor},
	Kinds: []auth.Kind{{Name: KindCentre, Prefix: "TC", Label: i18n.M("Transplant centre")},
		{Name: KindTraffickingAuthority, Prefix: "DA", Label: i18n.M("Designated authority for trafficking reports"),
			OneRefusal: errs.New(errs.Conflict, "designated_authority", "kind", "the registry has its designated authority for trafficking reports already: its assessors read every report, so add assessors to it")},
		{Name: KindPayer, Prefix: "PY", Label: i18n.M("Payer: health authority or insurer")}},
	Roles: []auth.RoleSpec{{Role: RoleCoordinator, Kind: KindCentre, Label: i18n.M("Coordinator: records for their own centre"),
		KindRefusal: errs.Invalidf("coordinator_centre", "authority_id", "a coordinator must belong to a transplant centre")},
		{Role: RoleTraffickingAssessor, Kind: KindTraffickingAuthority, Label: i18n.M("Assessor: works the designated authority's queue of suspected-trafficking reports"),
			KindRefusal: errs.Invalidf("trafficking_authority", "authority_id", "an assessor of trafficking reports must belong to the designated authority for trafficking reports")},
		{Role: RolePayer, Kind: KindPayer, Label: i18n.M("Payer: asks whether a transplant procedure may be reimbursed, and sees nothing else"),
			KindRefusal: errs.Invalidf("payer_authority", "authority_id", "a payer must belong to an authority of kind payer")}},
}

// Module's demo is set when the package starts, not in its literal: the
// demo files trafficking reports, whose rules read Module's roles.
func init() { Module.Demo = Demo }
