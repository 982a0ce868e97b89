// Package demo builds a deterministic synthetic national transplant registry:
// about twenty centres and several years of donation and transplantation
// activity in the fictional country "Demoland" (user-assigned ISO code XA),
// recorded through the same commands, rules and log as real use. Names are
// generated; nothing in it is about a real person.
package demo

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/transplant"
)

// Jurisdiction is Demoland's code, from the ISO 3166 user-assigned range.
const Jurisdiction = "XA"

// Options tunes the generated dataset.
type Options struct {
	Years    int              // years of activity, ending 2025-12-31 (default 5)
	Scale    float64          // donors per year = 300 × Scale (default 1)
	Progress func(msg string) // optional progress messages
	Seed     uint64           // default 2026
}

// Token is a demo principal's fixed token.
type Token struct {
	Role  auth.Role
	Name  string
	Token string
}

var demoPrincipals = []struct {
	role auth.Role
	name string
}{
	{auth.Admin, "Demo administrator"},
	{auth.Regulator, "Dr. Regula Inspectorate (regulator)"},
	{auth.Auditor, "Audit office"},
	{auth.Coordinator, "Coordinator, Riverside University Hospital"},
	{auth.Coordinator, "Coordinator, Northgate General Hospital"},
}

func tokenSource(name string) *rand.ChaCha8 {
	return rand.NewChaCha8(sha256.Sum256([]byte("custos demo token: " + name)))
}

// Tokens returns the demo principals' tokens. They are derived from fixed
// seeds, so every demo registry has the same ones: demo data only.
func Tokens() []Token {
	var out []Token
	for _, p := range demoPrincipals {
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

// Generate initialises a new registry at cfg.DSN and fills it.
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
	start := time.Date(2026-opt.Years, 1, 1, 8, 0, 0, 0, time.UTC)
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
	// Bulk load: one fsync at the end instead of one per command. The file is
	// renamed into place only when complete, so a crash loses nothing real.
	if err := app.DB.NoSync(ctx); err != nil {
		return err
	}
	g := &gen{ctx: ctx, app: app, svc: app.Transplant, clk: clk, rng: rand.New(rand.NewPCG(opt.Seed, 7))}
	if err := g.people(); err != nil {
		return err
	}
	progress(fmt.Sprintf("demo: %d centres; generating %d years of activity...", len(g.centres), opt.Years))
	perYear := int(300 * opt.Scale)
	for y := 0; y < opt.Years; y++ {
		yearStart := start.AddDate(y, 0, 0)
		for i := 0; i < perYear; i++ {
			at := yearStart.Add(time.Duration(float64(365*24*time.Hour) * float64(i) / float64(perYear)))
			if err := g.donation(at, i%5 == 0); err != nil {
				return fmt.Errorf("demo donation %d of year %d: %w", i, y+1, err)
			}
		}
		progress(fmt.Sprintf("demo: %d done (%d donors, %d transplants, %d alerts)", yearStart.Year(), g.donors, g.transplants, g.alerts))
	}
	return app.DB.Checkpoint(ctx)
}

type centre struct {
	id, name string
	coord    *auth.Principal
	organs   map[string]bool // transplantation authorizations
}

type gen struct {
	ctx       context.Context
	app       *server.App
	svc       *transplant.Service
	clk       *clock
	rng       *rand.Rand
	admin     *auth.Principal
	regulator *auth.Principal
	centres   []*centre

	donors, transplants, alerts int
}

var centreNames = []struct{ name, city string }{
	{"Riverside University Hospital", "Port Aster"}, {"Northgate General Hospital", "Northgate"},
	{"St. Elin Medical Centre", "Port Aster"}, {"Valemont Clinic", "Valemont"}, {"Harbour Heart Institute", "Port Aster"},
	{"Eastfield Regional Hospital", "Eastfield"}, {"Lakeshore Children's Hospital", "Lakeshore"},
	{"Mirren Valley Hospital", "Mirren"}, {"Southbank Teaching Hospital", "Southbank"}, {"Corvel Hill Hospital", "Corvel"},
	{"Western Plains Medical Centre", "Dunmore"}, {"Aster Liver Unit", "Port Aster"}, {"Greywater Hospital", "Greywater"},
	{"Highmoor General", "Highmoor"}, {"Kessel Bay Hospital", "Kessel"}, {"Old Town Infirmary", "Northgate"},
	{"Saltmarsh District Hospital", "Saltmarsh"}, {"Brightwell Kidney Centre", "Eastfield"}, {"Ostrava Road Hospital", "Valemont"},
	{"Tamsin Memorial Hospital", "Lakeshore"},
}

func (g *gen) people() error {
	ctx, w := g.ctx, g.app.Writer
	var boot auth.Authority
	if err := g.app.DB.Read().QueryRow(ctx, "SELECT id, name FROM authorities WHERE kind = 'regulator'").Scan(&boot.ID, &boot.Name); err != nil {
		return err
	}
	principal := func(name string, role auth.Role, authority string) (*auth.Principal, error) {
		cmd, _, err := auth.CreatePrincipal(auth.NewPrincipal{Name: name, Role: role, AuthorityID: authority}, w.IDs(), tokenSource(name))
		if err != nil {
			return nil, err
		}
		res, err := w.Submit(ctx, ledger.Actor{Authority: boot.ID}, "demo principal", cmd)
		if err != nil {
			return nil, err
		}
		var created struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(res.Entry.Data, &created); err != nil {
			return nil, err
		}
		return &auth.Principal{ID: created.ID, Name: name, Role: role, AuthorityID: authority, Jurisdiction: Jurisdiction}, nil
	}
	var err error
	if g.admin, err = principal(demoPrincipals[0].name, auth.Admin, boot.ID); err != nil {
		return err
	}
	if g.regulator, err = principal(demoPrincipals[1].name, auth.Regulator, boot.ID); err != nil {
		return err
	}
	if _, err = principal(demoPrincipals[2].name, auth.Auditor, boot.ID); err != nil {
		return err
	}
	from := g.clk.Now().Format(transplant.DateLayout)
	for i, cn := range centreNames {
		cmd, err := auth.CreateAuthority(auth.NewAuthority{Name: cn.name, City: cn.city, Kind: auth.KindCentre}, w.IDs())
		if err != nil {
			return err
		}
		a, err := ledger.SubmitAs[auth.Authority](ctx, w, g.admin.Actor(), "demo centre", cmd)
		if err != nil {
			return err
		}
		c := &centre{id: a.ID, name: a.Name, organs: map[string]bool{}}
		// Every centre has a coordinator; the first two centres' tokens are printed.
		if c.coord, err = principal("Coordinator, "+cn.name, auth.Coordinator, a.ID); err != nil {
			return err
		}
		// Every centre may procure; each transplants a share of organ types,
		// kidneys almost everywhere, hearts and intestines in few places.
		for _, o := range transplant.OrganTypes {
			if _, err := g.svc.AuthorizeCentre(ctx, g.regulator, a.ID, transplant.NewCentreAuthorization{Activity: "procurement", Organ: o, ValidFrom: from}); err != nil {
				return err
			}
			share := map[string]int{"kidney": 18, "liver": 8, "heart": 5, "lung": 4, "pancreas": 5, "intestine": 2}[o]
			if (i*7+len(o))%20 < share {
				if _, err := g.svc.AuthorizeCentre(ctx, g.regulator, a.ID, transplant.NewCentreAuthorization{Activity: "transplantation", Organ: o, ValidFrom: from}); err != nil {
					return err
				}
				c.organs[o] = true
			}
		}
		g.centres = append(g.centres, c)
	}
	return nil
}

var firstNames = []string{"Amara", "Bruno", "Chen", "Dalia", "Emeka", "Farah", "Goran", "Hana", "Ilya", "Jana", "Kofi", "Lena",
	"Mateo", "Nadia", "Omar", "Priya", "Quentin", "Rosa", "Sami", "Tala", "Umar", "Vera", "Wen", "Ximena", "Yusuf", "Zora"}
var lastNames = []string{"Achterberg", "Banda", "Castillo", "Dimitrov", "Eze", "Fonseca", "Galli", "Haddad", "Ivanova", "Jensen",
	"Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrenko", "Quispe", "Rahman", "Silva", "Tanaka", "Urquhart", "Varga"}

func (g *gen) name() string {
	return firstNames[g.rng.IntN(len(firstNames))] + " " + lastNames[g.rng.IntN(len(lastNames))] + " (synthetic)"
}

func (g *gen) pick(xs []string) string { return xs[g.rng.IntN(len(xs))] }

func (g *gen) date(t time.Time) string { return t.Format(transplant.DateLayout) }

func (g *gen) nationalID() string { return fmt.Sprintf("XA%09d", g.rng.IntN(1_000_000_000)) }

// donation records one donor's path: registration, consent, procurement, and
// a recipient, authorization and transplantation for most organs.
func (g *gen) donation(at time.Time, living bool) error {
	ctx := g.ctx
	g.clk.Set(at)
	c := g.centres[g.rng.IntN(len(g.centres))]
	age := 18 + g.rng.IntN(60)
	in := transplant.NewDonor{CentreID: c.id, Name: g.name(), NationalID: g.nationalID(), Sex: g.pick([]string{"female", "male"}),
		BloodGroup: g.pick([]string{"O", "O", "A", "A", "B", "AB"}), DateOfBirth: g.date(at.AddDate(-age, -g.rng.IntN(12), 0)),
		IVDrugUse: "no", Malignancy: "no", TransmissibleDisease: "no", HIV: "negative", HCV: "negative", HBV: "negative",
		OrganFunction: "creatinine and liver enzymes within normal range"}
	weight, height := 50+g.rng.IntN(50), 150+g.rng.IntN(40)
	in.WeightKg, in.HeightCm = &weight, &height
	organs := []string{"kidney"}
	consent := transplant.NewConsent{Kind: transplant.ConsentLiving, GivenOn: g.date(at.AddDate(0, -1, 0)),
		AssessedBy: "Independent living donor advocate", AssessorIndependent: true, Voluntary: true, Informed: true}
	if living {
		in.Kind = transplant.DonorLiving
		if g.rng.IntN(4) == 0 {
			organs = []string{"liver"}
		}
	} else {
		in.Kind = transplant.DonorBrainDeath
		if g.rng.IntN(4) == 0 {
			in.Kind = transplant.DonorCirculatoryDeath
		}
		in.CauseOfDeath = g.pick([]string{"cerebrovascular accident", "head trauma", "anoxia", "cerebral haemorrhage"})
		in.DateOfDeath = g.date(at)
		organs = []string{"kidney", "kidney", "liver"}
		if g.rng.IntN(10) < 6 && in.Kind == transplant.DonorBrainDeath {
			organs = append(organs, "heart")
		}
		if g.rng.IntN(10) < 3 {
			organs = append(organs, "lung", "lung")
		}
		if g.rng.IntN(10) < 2 {
			organs = append(organs, "pancreas")
		}
		consent = transplant.NewConsent{Kind: g.pick([]string{transplant.ConsentFamily, transplant.ConsentRegistry}), GivenOn: g.date(at),
			AssessedBy: "Donation coordinator", AssessorIndependent: true, Voluntary: true, Informed: true}
	}
	d, err := g.svc.RegisterDonor(ctx, c.coord, in)
	if err != nil {
		return err
	}
	g.donors++
	if g.donors%97 == 13 && living {
		// A procurement attempted before consent is on file: refused, alerted.
		g.clk.Set(at.Add(30 * time.Minute))
		_, err := g.svc.RecordProcurement(ctx, c.coord, transplant.NewProcurement{DonorID: d.ID, CentreID: c.id,
			ProcuredAt: at.Add(20 * time.Minute).Format(time.RFC3339), Organs: organs})
		if errs.CodeOf(err) != errs.Forbidden {
			return fmt.Errorf("expected a refusal without consent, got %v", err)
		}
		g.alerts++
	}
	if _, err := g.svc.RecordConsent(ctx, c.coord, d.ID, consent); err != nil {
		return err
	}
	g.clk.Set(at.Add(2 * time.Hour))
	pr, err := g.svc.RecordProcurement(ctx, c.coord, transplant.NewProcurement{DonorID: d.ID, CentreID: c.id,
		ProcuredAt: at.Add(90 * time.Minute).Format(time.RFC3339), Organs: organs})
	if err != nil {
		return err
	}
	for k, o := range pr.Organs {
		if g.rng.IntN(100) < 8 {
			continue // not transplanted: discarded or still in transport
		}
		var tc *centre
		for tries := 0; tries < 40 && tc == nil; tries++ {
			if cand := g.centres[g.rng.IntN(len(g.centres))]; cand.organs[o.Organ] {
				tc = cand
			}
		}
		if tc == nil {
			continue
		}
		t0 := at.Add(time.Duration(3+k) * time.Hour)
		g.clk.Set(t0)
		r, err := g.svc.RegisterRecipient(ctx, tc.coord, transplant.NewRecipient{CentreID: tc.id, Name: g.name(), NationalID: g.nationalID(),
			Sex: g.pick([]string{"female", "male"}), BloodGroup: in.BloodGroup, DateOfBirth: g.date(at.AddDate(-20-g.rng.IntN(50), 0, 0)),
			Residence: "XA", OrganNeeded: o.Organ, ListedOn: g.date(at.AddDate(0, 0, -30-g.rng.IntN(700)))})
		if err != nil {
			return err
		}
		if g.transplants%211 == 17 {
			// A transplantation recorded without its per-procedure authorization.
			_, err := g.svc.RecordTransplant(ctx, tc.coord, transplant.NewTransplant{OrganID: o.ID, RecipientID: r.ID, CentreID: tc.id,
				PerformedAt: t0.Format(time.RFC3339)})
			if errs.CodeOf(err) != errs.Forbidden {
				return fmt.Errorf("expected a refusal without authorization, got %v", err)
			}
			g.alerts++
		}
		a, err := g.svc.AuthorizeTransplant(ctx, tc.coord, transplant.NewTransplantAuthorization{OrganID: o.ID, RecipientID: r.ID, CentreID: tc.id,
			AuthorizedBy: "Medical director", CompatibilityDocumented: true, ConsentVerified: true, NoPaymentDeclared: true})
		if err != nil {
			return err
		}
		g.clk.Set(t0.Add(4 * time.Hour))
		if _, err := g.svc.RecordTransplant(ctx, tc.coord, transplant.NewTransplant{OrganID: o.ID, RecipientID: r.ID, CentreID: tc.id,
			PerformedAt: t0.Add(3 * time.Hour).Format(time.RFC3339), AuthorizationID: a.ID}); err != nil {
			return err
		}
		g.transplants++
	}
	return nil
}
