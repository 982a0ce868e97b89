// Package server wires custos together: it opens the database with its keys,
// builds the log registry and writer, the registries' services, and the HTTP
// handler that serves the JSON API, the web UI and the metrics. cmd/custos and
// the end-to-end tests both start custos through it.
package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/disclosure"
	"github.com/custos-project/custos/internal/exchange"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/httpapi"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/mail"
	"github.com/custos-project/custos/internal/module"
	"github.com/custos-project/custos/internal/privacy"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/transplant"
	"github.com/custos-project/custos/internal/web"
	"github.com/custos-project/custos/internal/witness"
)

// Config is what custos needs to open a registry.
type Config struct {
	DSN string // --db
	// ReadDSN is a PostgreSQL read replica of DSN (--db-read): the API's
	// traces and lists read it (docs/operations.md).
	ReadDSN string
	// ReplicaMaxLag is how far in time the read replica may lag the
	// primary (--db-read-max-lag): at start it must catch up with the
	// primary within it, and while serving one that has not reached the
	// size the primary's log had that long ago is set aside, its reads sent
	// to the primary, until it has. DefaultReplicaMaxLag when zero.
	ReplicaMaxLag time.Duration
	KeyFile       string // --key-file; defaults to the SQLite file + ".key"
	Logger        *slog.Logger
	Now           func() time.Time // injectable clock, time.Now by default
	IDs           io.Reader        // randomness for ids, crypto/rand by default
	// Hashmatch tunes hash matching (quality minimum, quarantine); zero
	// fields take the defaults.
	Hashmatch hashmatch.Config
	// LargeBodies bounds the API request bodies over 1 MiB read at once
	// (default DefaultLargeBodies).
	LargeBodies int
	// BodyIdle is how long a request's body may go without a byte arriving
	// before the request is ended (default DefaultBodyIdle).
	BodyIdle time.Duration
	// Modules are the registries the deployment runs, the core first;
	// DefaultModules when nil.
	Modules []Registry
	// AlertWindow is how long a refusal retried by the same principal is
	// counted on the open alert it repeats rather than raised again
	// (ledger.DefaultAlertWindow when zero; negative raises every one).
	AlertWindow time.Duration
	// Zone is the registry's time zone (--zone): the web pages show times
	// in it, and read the times typed in forms in it, for principals who
	// chose none. The log and the API keep UTC. Nil is UTC.
	Zone *time.Location
	// DisclosureThreshold is the threshold of the disclosure control of
	// every published aggregate (package disclosure): counts from 1 to one
	// less are suppressed. Zero means disclosure.DefaultThreshold.
	DisclosureThreshold int
	// SDMXAgency is the SDMX agency id of the statistics' SDMX artefacts
	// (--sdmx-agency, stats.Service.Agency); stats.SDMXAgency when empty.
	SDMXAgency string
	// Exchange tunes the exchange's deliverer (backoff, overdue limit).
	Exchange exchange.Config
	// Mail is how the registry sends e-mail (SMTP server, TLS, sender);
	// with no server, e-mails stay pending in the outbox.
	Mail mail.Config
	// Transplant tunes the organ registry's vigilance deadlines
	// (--disposition-after, --sae-acknowledge-within).
	Transplant transplant.Config
	// SessionIdle and SessionMax are the web sessions' timeouts
	// (--session-idle, --session-max); zero takes auth's defaults.
	SessionIdle, SessionMax time.Duration
	// BehindTLSProxy says a reverse proxy terminates TLS in front of the
	// server (--behind-tls-proxy): the session cookie is marked Secure.
	BehindTLSProxy bool
	// OIDCConfig is the JSON file of the OpenID Connect sign-in
	// (--oidc-config), "" for sign-in with tokens only. Open reads and
	// checks it, and reads the provider's discovery document.
	OIDCConfig string
	// MetricsToken, when set (--metrics-token-file), is the bearer token
	// /metrics asks for; without it /metrics answers anyone who reaches the
	// server (docs/operations.md).
	MetricsToken string
}

// Threshold is the disclosure control's threshold the server runs with.
func (c Config) Threshold() int {
	if c.DisclosureThreshold > 0 {
		return c.DisclosureThreshold
	}
	return disclosure.DefaultThreshold
}

// DefaultLargeBodies is how many API request bodies over 1 MiB a server
// reads at once unless Config.LargeBodies says otherwise: the API's own
// default, named here so that the command line configures a server without
// reaching into its adapters.
const DefaultLargeBodies = httpapi.DefaultLargeBodies

// KeyPath returns the key file to use: the one given, or beside the SQLite file.
func (c Config) KeyPath() (string, error) {
	if c.KeyFile != "" {
		return c.KeyFile, nil
	}
	if strings.HasPrefix(c.DSN, "postgres://") || strings.HasPrefix(c.DSN, "postgresql://") {
		return "", errors.New("with PostgreSQL, give the key file with --key-file or CUSTOS_KEY_FILE")
	}
	return strings.TrimPrefix(c.DSN, "sqlite:") + ".key", nil
}

// InitOptions are the choices of custos init.
type InitOptions struct {
	Jurisdiction string // ISO 3166-1 alpha-2 of the registry
	Authority    string // name of the authority that runs it
	// BeforeCreate, when set, runs once Init knows the registry is new and
	// before it creates the key and the log: a check of the caller's (the
	// token file it will write), whose error stops Init.
	BeforeCreate func() error
}

// ErrNoJurisdiction is Init's answer on a new database given no
// jurisdiction.
var ErrNoJurisdiction = errors.New("give --jurisdiction, the ISO 3166-1 alpha-2 code of the registry's country (e.g. --jurisdiction FR)")

// CheckJurisdiction checks a new registry's jurisdiction: given
// (ErrNoJurisdiction), an ISO 3166-1 alpha-2 code, and a state, not ZZ
// (check.RealState): a registry is of a state.
func CheckJurisdiction(j string) error {
	if j == "" {
		return ErrNoJurisdiction
	}
	if !auth.ValidCountry(j) {
		return fmt.Errorf("--jurisdiction must be an ISO 3166-1 alpha-2 code such as FR, got %q", j)
	}
	return check.RealState("jurisdiction", j)
}

// Init creates or migrates the database. On a new database it creates the key
// file (unless it exists), the log, the first authority and an administrator,
// and returns the administrator's token; on an existing one it only migrates
// and returns "" (a jurisdiction given must then be the registry's).
func Init(ctx context.Context, cfg Config, opt InitOptions) (token string, err error) {
	if strings.TrimSpace(opt.Authority) == "" {
		return "", errors.New("--authority must name the authority that runs the registry")
	}
	d, err := newDeployment(cfg.modules())
	if err != nil {
		return "", err
	}
	db, err := store.Open(ctx, cfg.DSN)
	if err != nil {
		return "", err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx, d.projections.Schemas()); err != nil {
		return "", err
	}
	head, _, err := ledger.ReadHead(ctx, db.Read())
	if err != nil {
		return "", err
	}
	if head.Size > 0 {
		var j string
		if err := db.Read().QueryRow(ctx, "SELECT value FROM settings WHERE name = 'jurisdiction'").Scan(&j); err != nil {
			return "", err
		}
		if opt.Jurisdiction != "" && opt.Jurisdiction != j {
			return "", fmt.Errorf("this registry's jurisdiction is %s, not %s (--jurisdiction)", j, opt.Jurisdiction)
		}
		return "", nil
	}
	if err := CheckJurisdiction(opt.Jurisdiction); err != nil {
		return "", err
	}
	if opt.BeforeCreate != nil {
		if err := opt.BeforeCreate(); err != nil {
			return "", err
		}
	}
	path, err := cfg.KeyPath()
	if err != nil {
		return "", err
	}
	origin := "custos/" + opt.Jurisdiction
	keys, err := LoadKeys(path)
	if errors.Is(err, os.ErrNotExist) {
		if keys, err = NewKeys(origin); err == nil {
			err = keys.Save(path)
		}
	}
	if err != nil {
		return "", err
	}
	signer, err := note.NewSigner(keys.LogSigner)
	if err != nil {
		return "", err
	}
	now := cfg.now()
	reg := d.projections
	if err := ledger.Init(ctx, db, reg, signer, keys.LogKey, signer.Name(), opt.Jurisdiction, now); err != nil {
		return "", err
	}
	w := ledger.NewWriter(db, reg, ledger.WriterConfig{Signer: signer, Origin: signer.Name(), Now: cfg.Now, IDs: cfg.ids(), Logger: cfg.logger()})
	defer w.Close()
	return auth.Bootstrap(ctx, w, d.catalogue, opt.Authority)
}

func (c Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c Config) ids() *ledger.IDs {
	if c.IDs != nil {
		return ledger.NewIDs(c.IDs)
	}
	return ledger.NewIDs(rand.Reader)
}

func (c Config) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.Default()
}

// App is an open registry.
type App struct {
	Cfg         Config
	DB          *store.DB
	Projections *ledger.Projections
	Catalogue   *auth.Catalogue
	// Languages are the message catalogues of the modules: the languages
	// the UI and the API's refusals speak.
	Languages *i18n.Catalogue
	Writer    *ledger.Writer
	Vault     *privacy.Vault
	Signer    note.Signer
	Keys      *Keys
	Log       *slog.Logger
	// Modules are the deployment's modules, the core first; Opened what
	// each opened, by module name.
	Modules []Registry
	Opened  map[string]*Opened
	// Authorities creates authorities and principals.
	Authorities *auth.Authorities
	// The services of the registries custos ships (nil when the deployment
	// does not run them).
	Transplant *transplant.Service
	Hashmatch  *hashmatch.Service
	// Exchange is the exchange with peer registries; Serve runs its deliverer.
	Exchange *exchange.Service
	// Mail delivers the e-mail outbox; Serve runs it when an SMTP server
	// is configured.
	Mail *mail.Service
	// OIDC is the sign-in through the identity provider, nil without one.
	OIDC *web.OIDC
	// Witnesses keeps the cosignatures of the log's registered witnesses.
	Witnesses *witness.Service
	metrics   *metrics
	replica   *replicaWatch // --db-read's checks, nil without one
}

// Open opens an initialised registry for serving.
func Open(ctx context.Context, cfg Config) (*App, error) {
	return openWith(ctx, cfg, store.Open)
}

// OpenReadOnly opens an initialised registry for a command that only reads
// it (custos trace, the lists and reports of the command line): the
// database is opened read-only (store.OpenReadOnly), so that the command
// leaves it as it found it (a SQLite backup keeps its bytes and its journal
// mode) and any write through the app fails; the modules do none of the
// upkeep that writes when a server opens the registry (Registry.Open).
func OpenReadOnly(ctx context.Context, cfg Config) (*App, error) {
	return openWith(ctx, cfg, store.OpenReadOnly)
}

// openWith opens the app on the database openDB opens, closing it if the
// app cannot be opened.
func openWith(ctx context.Context, cfg Config, openDB func(context.Context, string) (*store.DB, error)) (*App, error) {
	db, err := openDB(ctx, cfg.DSN)
	if err != nil {
		return nil, err
	}
	app, err := open(ctx, cfg, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	return app, nil
}

// CheckInitialised refuses a database that is not a registry of the
// default deployment: no schema, another schema version, or the schema
// custos migrate makes without the log custos init starts. Commands that
// read a registry's tables without opening it (custos mail outbox) check
// it, so that an empty answer means an empty registry.
func CheckInitialised(ctx context.Context, db *store.DB, dsn string) error {
	return checkInitialised(ctx, db, NewProjections(), dsn)
}

func checkInitialised(ctx context.Context, db *store.DB, p *ledger.Projections, dsn string) error {
	if err := db.CheckSchema(ctx, p.Schemas()); errors.Is(err, store.ErrNotInitialised) {
		return fmt.Errorf("database %s is not initialised: run custos init", store.Redact(dsn))
	} else if err != nil {
		return fmt.Errorf("database %s: %w", store.Redact(dsn), err)
	}
	// custos migrate makes the schema and no log: such a database is not
	// a registry yet, and its key file does not exist.
	if head, _, err := ledger.ReadHead(ctx, db.Read()); err != nil {
		return err
	} else if head.Size == 0 {
		return fmt.Errorf("database %s has the schema but no log: it is not initialised: run custos init", store.Redact(dsn))
	}
	return nil
}

// RegistryKeys reads the key file cfg names (KeyPath) and refuses one
// that does not belong to db's registry (its log key differs): the
// server at start, and the commands that check what only the keys can
// (custos mail outbox).
func RegistryKeys(ctx context.Context, db *store.DB, cfg Config) (*Keys, error) {
	path, err := cfg.KeyPath()
	if err != nil {
		return nil, err
	}
	keys, err := LoadKeys(path)
	if err != nil {
		return nil, err
	}
	var logKey string
	if err := db.Read().QueryRow(ctx, "SELECT value FROM settings WHERE name = 'log_key'").Scan(&logKey); err != nil {
		return nil, fmt.Errorf("read the log's verifier key: %w", err)
	}
	if logKey != keys.LogKey {
		return nil, fmt.Errorf("the key file %s does not belong to this registry (its log key differs); give the registry's own --key-file", path)
	}
	return keys, nil
}

func open(ctx context.Context, cfg Config, db *store.DB) (*App, error) {
	d, err := newDeployment(cfg.modules())
	if err != nil {
		return nil, err
	}
	if err := checkInitialised(ctx, db, d.projections, cfg.DSN); err != nil {
		return nil, err
	}
	// Refuse at start, not at the first write, a key file from another registry.
	keys, err := RegistryKeys(ctx, db, cfg)
	if err != nil {
		return nil, err
	}
	signer, err := note.NewSigner(keys.LogSigner)
	if err != nil {
		return nil, err
	}
	var replica *replicaWatch
	if cfg.ReadDSN != "" {
		if replica, err = useReplica(ctx, db, cfg.ReadDSN, keys.LogKey, cfg.ReplicaMaxLag, cfg.logger()); err != nil {
			return nil, err
		}
	}
	vault, err := privacy.NewVault(keys.Master)
	if err != nil {
		return nil, err
	}
	exposed, err := db.Exposed()
	if err != nil {
		return nil, err
	}
	for _, f := range exposed {
		cfg.logger().Warn("a database file can be read or written by users other than custos's own: it holds the registry's records "+
			"(personal data stays sealed, but pseudonyms, organs and the log do not); make it 0600, owned by the user custos runs as "+
			"(chmod 0600 FILE; docs/operations.md)", "file", f.Path, "mode", fmt.Sprintf("%04o", f.Mode))
	}
	if n, err := db.PlannerSamples(ctx); err != nil {
		return nil, err
	} else if n > 0 {
		cfg.logger().Warn("the SQLite file holds query-planner statistics (someone ran ANALYZE or PRAGMA optimize): "+
			"they make every write plan its statements again and can halve throughput; stop custos, "+
			"run DELETE FROM sqlite_stat4 on the file, and start it again (docs/operations.md)", "stat4_samples", n)
	}
	if ok, collation, err := db.ByteOrder(ctx); err != nil {
		return nil, err
	} else if !ok {
		cfg.logger().Warn("the PostgreSQL database sorts text by a language's rules, not by bytes as custos asks: lists come out in another order than "+
			"on SQLite, and an update of the collation can leave its indexes out of order; move it to a database made with "+
			"TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C' (docs/operations.md)", "collation", collation)
	}
	foreign, err := ledger.ForeignObjects(ctx, db.Read())
	if err != nil {
		return nil, err
	}
	for _, f := range foreign {
		cfg.logger().Warn("the database holds what custos never makes, which can change what the registry shows or writes, unseen; "+
			"custos log verify names it too (docs/operations.md)", "found", f)
	}
	m := newMetrics()
	if replica != nil {
		m.watchReplica(replica)
	}
	w := ledger.NewWriter(db, d.projections, ledger.WriterConfig{Signer: signer, Origin: signer.Name(), Now: cfg.Now, IDs: cfg.ids(),
		Logger: cfg.logger(), AlertWindow: cfg.AlertWindow, RepeatKey: keys.Derive("custos alert repeats key v1")})
	app := &App{Cfg: cfg, DB: db, Projections: d.projections, Catalogue: d.catalogue, Languages: d.languages, Writer: w, Vault: vault, Signer: signer,
		Keys: keys, Log: cfg.logger(), metrics: m, Modules: d.mods, Opened: map[string]*Opened{},
		Authorities: &auth.Authorities{W: w, Catalogue: d.catalogue, Languages: d.languages.Codes()}}
	types, err := module.MessageTypes(Modules(d.mods))
	if err != nil {
		w.Close()
		return nil, err
	}
	if app.Exchange, err = exchange.New(ctx, w, db, keys.Master, types, cfg.Exchange, cfg.logger()); err != nil {
		w.Close()
		return nil, err
	}
	app.Exchange.Now = cfg.Now
	app.Exchange.OnEvent = m.exchangeEvent
	app.Witnesses = &witness.Service{W: w, DB: db, LogKey: keys.LogKey, Now: cfg.Now}
	app.Mail = mail.New(db, cfg.Mail, d.languages, cfg.logger())
	app.Mail.Now = cfg.Now
	app.Mail.OnEvent = m.mailEvent
	app.Mail.Key = keys.Derive(mail.KeyLabel)
	app.Mail.W = w
	m.watchMail(app.Mail, cfg.logger())
	// A commit may have queued e-mails: the deliverer looks at once rather
	// than at its next poll.
	m.watchWriter(w)
	w.OnCommit = func(accepted, refused int, took time.Duration) {
		m.observeCommit(accepted, refused, took)
		if accepted > 0 {
			app.Mail.Wake()
		}
	}
	for _, r := range d.mods {
		if r.Open == nil {
			continue
		}
		o, err := r.Open(ctx, app)
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("open the %s module: %w", r.Name, err)
		}
		app.Opened[r.Name] = o
	}
	if cfg.OIDCConfig != "" {
		oc, err := auth.LoadOIDCConfig(cfg.OIDCConfig, d.catalogue)
		if err == nil {
			err = oc.CheckAuthorities(ctx, db.Read(), d.catalogue)
		}
		if err != nil {
			w.Close()
			return nil, err
		}
		// A provider that does not answer now does not stop the server:
		// tokens sign in, and the provider is asked again at each sign-in
		// through it.
		if app.OIDC, err = web.NewOIDC(ctx, oc, nil); err != nil {
			cfg.logger().Warn("sign-in through the identity provider is unavailable until it answers; tokens sign in meanwhile", "err", err)
		}
	}
	app.Transplant, _ = app.Service(transplant.Module.Name).(*transplant.Service)
	app.Hashmatch, _ = app.Service(hashmatch.Module.Name).(*hashmatch.Service)
	if replica != nil {
		// Checked from now until Close, so that a replica that falls
		// behind or stops being one is set aside while the app is open.
		app.replica = replica
		replica.start(ctx)
	}
	return app, nil
}

// Service returns the service of the module name, nil when it has none.
func (a *App) Service(name string) any {
	if o := a.Opened[name]; o != nil {
		return o.Service
	}
	return nil
}

// Close stops the writer and closes the database.
func (a *App) Close() error {
	if a.replica != nil {
		a.replica.close()
	}
	a.Writer.Close()
	return a.DB.Close()
}
