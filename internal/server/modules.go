package server

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/httpapi"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/module"
	"github.com/custos-project/custos/internal/stats"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/transplant"
	"github.com/custos-project/custos/internal/web"
)

// Registry is a module as the server runs it: its description, and how to
// open it on an open app.
type Registry struct {
	module.Module
	// Open opens the module: its service and its adapters. It runs once,
	// after the writer starts and before the app serves; nil for a module
	// that only brings schema and projections. On an app opened read-only
	// (OpenReadOnly: a.DB.ReadOnly()) it does none of the upkeep that
	// writes, which a server opening the registry does.
	Open func(ctx context.Context, a *App) (*Opened, error)
}

// Opened is an open module.
type Opened struct {
	// Service is the module's service (for example *transplant.Service).
	Service any
	// Routes lists the module's API routes.
	Routes func(env httpapi.Env) []httpapi.Route
	// Section is the module's part of the web UI.
	Section *web.Section
	// Run, when set, is the module's background work (the core's logging of
	// counted alert repeats, the transplant registry's escalation of
	// vigilance deadlines): Serve runs it beside the HTTP server until it
	// stops.
	Run func(ctx context.Context)
	// Warm, when set, is what the module prepares before a server serves
	// (hash matching's indexes): Serve calls it before it listens, so that
	// no request waits for it. A command that opens the app without
	// serving skips it, and the module does the work when first needed, if
	// ever.
	Warm func(ctx context.Context) error
}

// DefaultModules is the deployment custos ships: the core, the transplant
// registry, the hash-matching registry, the statistics registry and the
// asset-recovery registry.
func DefaultModules() []Registry {
	return []Registry{
		{Module: module.Core, Open: func(ctx context.Context, a *App) (*Opened, error) {
			return &Opened{Service: a.Exchange, Routes: func(env httpapi.Env) []httpapi.Route {
				return append(append(append(httpapi.Core(env), httpapi.Exchange(env, a.Exchange)...), httpapi.Witnesses(env, a.Witnesses)...), httpapi.Mail(a.Mail)...)
			}, Run: func(ctx context.Context) {
				// The witnesses' cosignatures are committed to the log at
				// most once a period (witness.Service.CommitCosignatures).
				done := make(chan struct{})
				go func() {
					defer close(done)
					a.Witnesses.RunCommits(ctx, func(err error) { a.Log.Error("commit the witnesses' cosignatures", "err", err) })
				}()
				// Repeats of open alerts counted outside the log are logged
				// once they are a period old (ledger.Writer.LogRepeats).
				a.Writer.RunRepeats(ctx, func(err error) { a.Log.Error("log repeated refusals", "err", err) })
				<-done
			}}, nil
		}},
		{Module: transplant.Module, Open: func(ctx context.Context, a *App) (*Opened, error) {
			cfg := a.Cfg.Transplant
			cfg.DisclosureThreshold = cmp.Or(cfg.DisclosureThreshold, a.Cfg.Threshold())
			s := &transplant.Service{W: a.Writer, DB: a.DB, Vault: a.Vault, Cfg: cfg, Now: a.Cfg.Now, Exchange: a.Exchange, Log: a.Log, MailKey: a.Mail.Key}
			// The registry acts on the organs and reports foreign registries send.
			a.Exchange.Handle(transplant.Module.Name, s.ExchangeHandler())
			// A read-only app leaves the name indexes to the next server.
			if !a.DB.ReadOnly() {
				if n, err := s.FillPersonNames(ctx); err != nil {
					return nil, fmt.Errorf("fill in the name indexes of transplant migration 5: %w", err)
				} else if n > 0 {
					a.Log.Info("filled in the name indexes of the donors and recipients registered before transplant migration 5", "subjects", n)
				}
			}
			sec := web.Transplant(s, a.Authorities)
			return &Opened{Service: s, Routes: func(env httpapi.Env) []httpapi.Route { return httpapi.Transplant(env, s) }, Section: &sec,
				Run: func(ctx context.Context) {
					s.Run(ctx, func(err error) { a.Log.Error("escalate vigilance deadlines", "err", err) })
				}}, nil
		}},
		{Module: hashmatch.Module, Open: func(ctx context.Context, a *App) (*Opened, error) {
			s := hashmatch.NewService(a.Writer, a.DB, a.Vault, a.Signer, a.Keys.LogKey, a.Cfg.Hashmatch)
			s.Now, s.Log, s.RetroKey = a.Cfg.Now, a.Log, a.Keys.Derive("custos retro uploads key v1")
			s.IndexKey = a.Keys.Derive("custos pdq index file key v1")
			// Retroactive matching's windows expire at start, then hourly
			// (a read-only app leaves them to the server).
			if !a.DB.ReadOnly() {
				if _, err := s.SweepRecent(ctx); err != nil {
					return nil, fmt.Errorf("sweep retroactive matching windows: %w", err)
				}
			}
			sec := web.Hashmatch(s)
			return &Opened{Service: s, Routes: func(env httpapi.Env) []httpapi.Route {
				return append(httpapi.Hashmatch(env, s), httpapi.HMA(env, s)...) // and the HMA-compatible routes
			}, Section: &sec,
				Run: func(ctx context.Context) {
					s.RunSweeps(ctx, func(err error) { a.Log.Error("sweep retroactive matching windows", "err", err) })
				},
				// The banks' indexes (at 100 million hashes, minutes to
				// build) are loaded before a server serves, lazily by the
				// first match otherwise.
				Warm: func(ctx context.Context) error {
					if err := s.Load(ctx); err != nil {
						return fmt.Errorf("load hash banks: %w", err)
					}
					return nil
				}}, nil
		}},
		{Module: stats.Module, Open: func(ctx context.Context, a *App) (*Opened, error) {
			s := &stats.Service{W: a.Writer, DB: a.DB, Threshold: a.Cfg.Threshold(), Agency: a.Cfg.SDMXAgency, Now: a.Cfg.Now,
				Sources: []stats.Source{stats.TraffickingForOrganRemoval(transplant.ReferredTraffickingDates),
					{Name: assets.Module.Name, Records: assets.OffenceRecords}}}
			sec := web.Stats(s)
			return &Opened{Service: s, Routes: func(env httpapi.Env) []httpapi.Route { return httpapi.Stats(env, s) }, Section: &sec}, nil
		}},
		{Module: assets.Module, Open: func(ctx context.Context, a *App) (*Opened, error) {
			s := &assets.Service{W: a.Writer, DB: a.DB, Vault: a.Vault, Threshold: a.Cfg.Threshold(), Now: a.Cfg.Now, Exchange: a.Exchange, Log: a.Log}
			// The registry acts on the requests other registries send.
			a.Exchange.Handle(assets.Module.Name, s.ExchangeHandler())
			sec := web.Assets(s)
			web.AssetsBODS(&sec, s)     // beneficial ownership
			web.AssetsRequests(&sec, s) // requests between states
			return &Opened{Service: s, Routes: func(env httpapi.Env) []httpapi.Route {
				return append(append(httpapi.Assets(env, s), httpapi.AssetsBODS(env, s)...), httpapi.AssetsRequests(env, s)...)
			}, Section: &sec, Run: s.RunPending}, nil
		}},
	}
}

func (c Config) modules() []Registry {
	if c.Modules != nil {
		return c.Modules
	}
	return DefaultModules()
}

// Modules returns the module descriptions of a list.
func Modules(rs []Registry) []module.Module {
	out := make([]module.Module, len(rs))
	for i, r := range rs {
		out[i] = r.Module
	}
	return out
}

// NewProjections returns the projections and schemas of the default
// deployment: what custos log verify replays.
func NewProjections() *ledger.Projections {
	return module.Projections(Modules(DefaultModules()))
}

// deployment is what a module list makes: checked once, used by init, open
// and migrate.
type deployment struct {
	mods        []Registry
	projections *ledger.Projections
	catalogue   *auth.Catalogue
	languages   *i18n.Catalogue
}

func newDeployment(rs []Registry) (*deployment, error) {
	mods := Modules(rs)
	if err := module.Check(mods); err != nil {
		return nil, err
	}
	cat, err := module.Catalogue(mods)
	if err != nil {
		return nil, err
	}
	langs, err := module.Languages(mods)
	if err != nil {
		return nil, err
	}
	return &deployment{mods: rs, projections: module.Projections(mods), catalogue: cat, languages: langs}, nil
}

// Migrate brings the database's schema up to date for the configured modules
// and returns what it applied.
func Migrate(ctx context.Context, cfg Config, db *store.DB) ([]store.Applied, error) {
	d, err := newDeployment(cfg.modules())
	if err != nil {
		return nil, err
	}
	return db.Migrate(ctx, d.projections.Schemas())
}

// Plan tells the migrations Migrate would apply to db, changing nothing, and
// the schema the database holds, in the form of SchemaSummary ("none" for a
// new database).
func Plan(ctx context.Context, cfg Config, db *store.DB) ([]store.Pending, string, error) {
	d, err := newDeployment(cfg.modules())
	if err != nil {
		return nil, "", err
	}
	pending, held, err := db.Plan(ctx, d.projections.Schemas())
	if err != nil {
		return nil, "", err
	}
	return pending, versionSummary(held, cfg.modules()), nil
}

// SchemaSummary says which schema version of each module the configured list
// holds, e.g. "core 2, transplant 3, hashmatch 2".
func SchemaSummary(cfg Config) string {
	var parts []string
	for _, r := range cfg.modules() {
		if r.Schema != nil {
			parts = append(parts, fmt.Sprintf("%s %d", r.Name, store.Schema{Module: r.Name, FS: r.Schema}.Latest()))
		}
	}
	return strings.Join(parts, ", ")
}

// versionSummary writes a database's versions as SchemaSummary does, in the
// order of the modules this custos has (the core first), then any it lacks;
// "none" when it holds none.
func versionSummary(have map[string]int, modules []Registry) string {
	if len(have) == 0 {
		return "none"
	}
	var parts []string
	for _, r := range modules {
		if v, ok := have[r.Name]; ok {
			parts = append(parts, fmt.Sprintf("%s %d", r.Name, v))
		}
	}
	var others []string
	for m := range have {
		if !slices.ContainsFunc(modules, func(r Registry) bool { return r.Name == m }) {
			others = append(others, fmt.Sprintf("%s %d", m, have[m]))
		}
	}
	sort.Strings(others)
	return strings.Join(append(parts, others...), ", ")
}
