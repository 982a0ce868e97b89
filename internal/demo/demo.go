// Package demo builds a deterministic synthetic national registry of the
// fictional country "Demoland" (user-assigned ISO code XA): the core's
// principals, then each module's part (transplant: about twenty centres and
// several years of donation and transplantation activity; hashmatch: a
// hotline's hash banks of generated images, a subscribed service and an open
// case), recorded through the same commands, rules and log as real use.
// Names and images are generated; nothing in it is about a real person.
package demo

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/module"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/stats"
	"github.com/custos-project/custos/internal/transplant"
)

// Jurisdiction is Demoland's code, from the ISO 3166 user-assigned range.
const Jurisdiction = "XA"

// Options tunes the generated dataset.
type Options struct {
	Years    int              // years of activity, ending with the month before this one (default 5), or the one before that (see Tail)
	Scale    float64          // donors per year = 300 × Scale (default 1)
	Progress func(msg string) // optional progress messages
	Seed     uint64           // default 2026
	Now      time.Time        // when the demo is made (default the time it is made)
}

// Tail is how long the modules' events after the activity may run on: the
// trafficking reports, the residents treated abroad, the hash banks, the
// asset-recovery case and the statistics' imports come after the last
// month of activity, about eleven and a half days of simulated time. When
// less than Tail of the month the demo is made in has passed, the activity
// ends a month earlier, so that no entry of the demo is dated after the
// moment it was made (a date in the future that the registry's own rules,
// "not in the future", would then refuse to follow).
const Tail = 16 * 24 * time.Hour

// Token is a demo principal's fixed token.
type Token struct {
	Role  auth.Role
	Name  string
	Token string
}

type demoPrincipal struct {
	role auth.Role
	name string
}

// corePrincipals are the core's demo principals, created by Generate at the
// authority that runs the registry before any module's part; the first is
// the administrator.
var corePrincipals = []demoPrincipal{
	{auth.Admin, "Demo administrator"},
	{auth.Regulator, "Dr. Regula Inspectorate (regulator)"},
	{auth.Auditor, "Audit office"},
}

// modulePrincipals are principals that the modules' parts create and whose
// tokens the demo prints.
var modulePrincipals = []demoPrincipal{
	{transplant.RoleCoordinator, transplant.DemoCoordinator(0)},
	{transplant.RoleCoordinator, transplant.DemoCoordinator(1)},
	{transplant.RoleTraffickingAssessor, transplant.DemoAssessor},
	{transplant.RolePayer, transplant.DemoPayer},
	{hashmatch.RoleAnalyst, hashmatch.DemoAnalyst},
	{hashmatch.RoleService, hashmatch.DemoService},
	{hashmatch.RoleReviewer, hashmatch.DemoReviewer},
	{stats.RoleStatistician, stats.DemoStatistician},
	{assets.RoleCentralAuthority, assets.DemoCentralAuthority},
	{assets.RoleProsecutor, assets.DemoProsecutor},
}

func tokenSource(name string) *rand.ChaCha8 {
	return rand.NewChaCha8(sha256.Sum256([]byte("custos demo token: " + name)))
}

// Tokens returns the demo principals' tokens. They are derived from fixed
// seeds, so every demo registry has the same ones: demo data only.
func Tokens() []Token {
	var out []Token
	for _, p := range append(slices.Clone(corePrincipals), modulePrincipals...) {
		t, _ := auth.NewToken(tokenSource(p.name))
		out = append(out, Token{Role: p.role, Name: p.name, Token: t})
	}
	return out
}

// Ensure creates the demo registry at cfg.DSN unless it exists, and reports
// whether it created it. A SQLite registry is built under a temporary name and
// renamed when complete, so an interrupted run leaves nothing half-made.
func Ensure(ctx context.Context, cfg server.Config, opt Options) (bool, error) {
	if strings.HasPrefix(cfg.DSN, "postgres") {
		return false, errors.New("the demo builds a SQLite registry; give --db a file path")
	}
	final := strings.TrimPrefix(cfg.DSN, "sqlite:")
	if _, err := os.Stat(final); err == nil {
		return false, nil
	}
	finalKey, err := cfg.KeyPath()
	if err != nil {
		return false, err
	}
	tmp := final + ".partial"
	for _, f := range []string{tmp, tmp + "-wal", tmp + "-shm", tmp + ".key"} {
		os.Remove(f)
	}
	tcfg := cfg
	tcfg.DSN, tcfg.KeyFile = tmp, tmp+".key"
	if err := Generate(ctx, tcfg, opt); err != nil {
		return false, err
	}
	if err := os.Rename(tmp+".key", finalKey); err != nil {
		return false, err
	}
	return true, os.Rename(tmp, final)
}

// clock is the simulated time the generator moves forward.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// Generate initialises a new registry at cfg.DSN, creates the core's demo
// principals and has each module add its part.
func Generate(ctx context.Context, cfg server.Config, opt Options) error {
	if opt.Years <= 0 {
		opt.Years = 5
	}
	if opt.Scale <= 0 {
		opt.Scale = 1
	}
	if opt.Seed == 0 {
		opt.Seed = 2026
	}
	progress := opt.Progress
	if progress == nil {
		progress = func(string) {}
	}
	// The activity ends with the month before the one the demo is made in,
	// so that the dashboards' default period (the last twelve months) shows
	// it, or with the month before that early in a month (Tail): the days of
	// the demo's events move with the day it is made, its identifiers and
	// tokens do not.
	now := opt.Now.UTC()
	if opt.Now.IsZero() {
		now = time.Now().UTC()
	}
	end := time.Date(now.Year(), now.Month(), 1, 8, 0, 0, 0, time.UTC)
	if now.Sub(end) < Tail {
		end = end.AddDate(0, -1, 0)
	}
	start := end.AddDate(-opt.Years, 0, 0)
	clk := &clock{t: start.Add(-30 * 24 * time.Hour)}
	cfg.Now = clk.Now
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], opt.Seed)
	cfg.IDs = rand.NewChaCha8(seed)
	if _, err := server.Init(ctx, cfg, server.InitOptions{Jurisdiction: Jurisdiction, Authority: "Demoland Transplant Authority"}); err != nil {
		return err
	}
	app, err := server.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer app.Close()
	// Bulk load: one fsync at the end instead of one per command, and one
	// commit per group of commands (their writes read back in the group's
	// transaction). The file is renamed into place only when complete, so a
	// crash loses nothing real.
	if err := app.DB.NoSync(ctx); err != nil {
		return err
	}
	endBulk := app.DB.Bulk(bulkGroup)
	defer endBulk()
	d := &module.Demo{Writer: app.Writer, DB: app.DB, Vault: app.Vault, Authorities: app.Authorities, Clock: clk.Now, SetClock: clk.Set,
		Start: start, Years: opt.Years, Scale: opt.Scale, Seed: opt.Seed, Log: app.Log, Progress: progress}
	if err := app.DB.Read().QueryRow(ctx, "SELECT id, name, jurisdiction FROM authorities WHERE kind = 'regulator'").
		Scan(&d.Regulator.ID, &d.Regulator.Name, &d.Regulator.Jurisdiction); err != nil {
		return err
	}
	d.Principal = func(ctx context.Context, name string, role auth.Role, authority string) (*auth.Principal, error) {
		return principal(ctx, app, d.Regulator.ID, name, role, authority)
	}
	for i, p := range corePrincipals {
		pr, err := d.Principal(ctx, p.name, p.role, d.Regulator.ID)
		if err != nil {
			return err
		}
		if i == 0 {
			d.Admin = pr
		}
	}
	for _, m := range app.Modules {
		if m.Demo == nil {
			continue
		}
		d.Service = app.Service(m.Name)
		if err := m.Demo(ctx, d); err != nil {
			return fmt.Errorf("the %s module's demo: %w", m.Name, err)
		}
	}
	if err := endBulk(); err != nil {
		return err
	}
	return app.DB.Checkpoint(ctx)
}

// bulkGroup is how many commands the demo commits together (store.DB.Bulk).
const bulkGroup = 256

// principal creates a principal whose token is derived from its name, on
// behalf of the registry's own authority (boot).
func principal(ctx context.Context, app *server.App, boot, name string, role auth.Role, authority string) (*auth.Principal, error) {
	cmd, _, err := app.Catalogue.CreatePrincipal(auth.NewPrincipal{Name: name, Role: role, AuthorityID: authority}, app.Writer.IDs(), tokenSource(name))
	if err != nil {
		return nil, err
	}
	created, err := ledger.SubmitAs[auth.PrincipalCreated](ctx, app.Writer, ledger.Actor{Authority: boot}, "demo principal", cmd)
	if err != nil {
		return nil, err
	}
	return &auth.Principal{ID: created.ID, Name: name, Role: role, AuthorityID: authority, Jurisdiction: Jurisdiction}, nil
}
