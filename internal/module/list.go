package module

import (
	"context"
	"fmt"
	"regexp"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/exchange"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/mail"
	"github.com/custos-project/custos/internal/privacy"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/witness"
)

// Core is the core's module: the log's own entries, authorities and
// principals, the log of personal-data reads, the exports' log entries, and
// the core roles. It is always first in a deployment's list.
var Core = Module{
	Name:   store.CoreSchema().Module,
	Title:  "custos",
	Schema: store.CoreSchema().FS,
	Adopt:  store.CoreSchema().Adopt,
	// Migration 26 fills the exports table from the log's entries.
	SchemaSteps: map[int]func(ctx context.Context, tx *store.Tx) error{26: export.FillTable},
	Project: func(p *ledger.Projections) {
		auth.Project(p)
		privacy.Project(p)
		export.Project(p)
		exchange.Project(p)
		witness.Project(p)
		mail.Project(p)
	},
	Kinds:    auth.CoreKinds,
	Roles:    auth.CoreRoles,
	Messages: []exchange.Type{exchange.Notice},
	// The exchange's refusals of what a peer sends or asks, the web
	// sessions' (a session used again after it ended) and the writer's own
	// (repeat counts found altered).
	AlertRules: []string{"bad_signature", "key_expired", "onward_sharing", "peer_suspended", "purpose_not_allowed",
		"reader", "readers", "sender", auth.RuleSessionRevived, "repeat_count_discarded"},
	Locales: i18n.Core,
}

var (
	nameRE = regexp.MustCompile(`^[a-z][a-z0-9]{1,29}$`)
	ruleRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
)

// Check refuses a list that does not start with the core, or that names a
// module twice or badly.
func Check(mods []Module) error {
	if len(mods) == 0 || mods[0].Name != Core.Name {
		return fmt.Errorf("the module list must start with the core")
	}
	seen := map[string]bool{}
	for _, m := range mods {
		if !nameRE.MatchString(m.Name) {
			return fmt.Errorf("module name %q: lower-case letters and digits, 2 to 30, starting with a letter", m.Name)
		}
		if seen[m.Name] {
			return fmt.Errorf("module %s is listed twice", m.Name)
		}
		seen[m.Name] = true
		for _, r := range m.AlertRules {
			if !ruleRE.MatchString(r) {
				return fmt.Errorf("module %s: alert rule %q: lower-case letters, digits and _, starting with a letter", m.Name, r)
			}
		}
	}
	return nil
}

// Schema is the module's schema as the store migrates it.
func (m Module) schema() store.Schema {
	return store.Schema{Module: m.Name, FS: m.Schema, Adopt: m.Adopt, Steps: m.SchemaSteps}
}

// Projections returns the projections and schemas of the modules, in order:
// what the writer applies, what migrations create and what log verify
// replays.
func Projections(mods []Module) *ledger.Projections {
	p := ledger.NewProjections()
	for _, m := range mods {
		if m.Schema != nil {
			p.Schema(m.schema())
		}
		if m.Project != nil {
			m.Project(p)
		}
		p.DeclareAlertRules(m.AlertRules...)
	}
	return p
}

// MessageTypes compiles the message types the modules declare, for the
// exchange.
func MessageTypes(mods []Module) (*exchange.Types, error) {
	byModule := map[string][]exchange.Type{}
	for _, m := range mods {
		byModule[m.Name] = m.Messages
	}
	return exchange.NewTypes(byModule)
}

// Languages returns the message catalogues of the modules, the core's
// first (it decides which languages are spoken).
func Languages(mods []Module) (*i18n.Catalogue, error) {
	var src []i18n.Source
	for _, m := range mods {
		if m.Locales != nil {
			src = append(src, i18n.Source{Module: m.Name, FS: m.Locales})
		}
	}
	return i18n.Load(src...)
}

// Catalogue returns the authority kinds and roles of the modules.
func Catalogue(mods []Module) (*auth.Catalogue, error) {
	var kinds []auth.Kind
	var roles []auth.RoleSpec
	for _, m := range mods {
		kinds = append(kinds, m.Kinds...)
		roles = append(roles, m.Roles...)
	}
	return auth.NewCatalogue(kinds, roles)
}
