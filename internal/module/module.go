// Package module describes a registry module: one plain value per registry
// (the core, transplant, hashmatch, ...) that says what the registry brings to
// a custos deployment — its schema, its log projections, its authority kinds
// and roles, and its part of the demo. The server holds one list of modules;
// migrations, log verify, the role catalogue, the API and the web UI all read
// that list, so adding a registry adds a package rather than edits to the core.
package module

import (
	"context"
	"io/fs"
	"log/slog"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/exchange"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/privacy"
	"github.com/custos-project/custos/internal/store"
)

// Module is what a registry brings to a deployment.
type Module struct {
	// Name is the registry's name: lower case, its URL segment
	// (/api/v1/<name>/..., /<name>/...) and the namespace of its schema
	// versions. "core" is the core's.
	Name string
	// Title is the registry's name for people, shown in page headers.
	Title string
	// Schema holds the module's migrations at its root, named NNN_what.sql
	// and numbered from 1 for each module. They are applied in order, after
	// the core's, each once.
	Schema fs.FS
	// Adopt maps the global version numbers of schema_migrations (the
	// releases before schema versions were kept per module) to this module's
	// versions, so that a registry made by those releases is recognised and
	// never migrated twice.
	Adopt map[int]int
	// SchemaSteps are Go code run right after the migration of the same
	// version, in its transaction (store.Schema.Steps): a backfill SQL
	// cannot compute alike on both engines.
	SchemaSteps map[int]func(ctx context.Context, tx *store.Tx) error
	// Project adds the module's projectors and projected tables.
	Project func(p *ledger.Projections)
	// Kinds are the authority kinds the module adds.
	Kinds []auth.Kind
	// Roles are the roles the module adds, each with the authority kind it
	// requires.
	Roles []auth.RoleSpec
	// Messages are the message types the module sends to and receives from
	// peer registries through the exchange, each with the JSON schema of its
	// payload; their names start with the module's name and a dot.
	Messages []exchange.Type
	// Locales holds the module's message catalogues, <language>.json at
	// its root (internal/i18n): the words of its pages, refusals and
	// exports in each language the deployment speaks. Nil for none (a
	// module made for a test), whose words stay as written.
	Locales fs.FS
	// AlertRules are the rules of the module's refusals (errs.Alertf) and
	// findings (ledger.ProjectAlert) that raise an alert for the regulator:
	// the alerts list filters by them and offers them before one was raised
	// (ledger.Projections.DeclareAlertRules).
	AlertRules []string
	// Demo adds the module's part of the Demoland demo registry; nil for none.
	Demo func(ctx context.Context, d *Demo) error
}

// Demo is what a module's demo seeder works with: an initialised, open
// registry whose clock it may move forward.
type Demo struct {
	Writer *ledger.Writer
	DB     *store.DB
	Vault  *privacy.Vault
	// Regulator is the authority that runs the registry (created by init).
	Regulator auth.Authority
	// Admin is the demo administrator.
	Admin *auth.Principal
	// Authorities creates authorities (as Admin) and principals.
	Authorities *auth.Authorities
	// Principal creates a principal with a fixed demo token (derived from its
	// name), so every demo registry has the same tokens.
	Principal func(ctx context.Context, name string, role auth.Role, authority string) (*auth.Principal, error)
	// Clock returns the simulated time; SetClock moves it.
	Clock    func() time.Time
	SetClock func(time.Time)
	// Start is the first day of the activity to generate, Years years of it,
	// ending with the month before the one the demo is made in (so that the
	// dashboards' last months show it); Scale is its size (1 = about 300
	// donors a year).
	Start time.Time
	Years int
	Scale float64
	Seed  uint64
	// Service is the module's service, as the server opened it (for example
	// *transplant.Service); nil when the module has none.
	Service any
	Log     *slog.Logger
	// Progress reports what the seeder is doing.
	Progress func(msg string)
}

// Dir returns the directory dir of an embedded file system, for Schema.
func Dir(f fs.FS, dir string) fs.FS {
	s, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return s
}
