// Package dataset builds large synthetic organ traceability registries for
// benchmarks, and measures them.
//
// Generation bypasses the per-command rule checks, not the log: every record
// is a pre-built entry of the very type and struct the transplant service
// writes, submitted through a ledger.Writer whose Decide returns it as is. The
// registered projectors write the tables and every entry becomes a leaf, so the
// tables and the log are real and ledger.Verify passes on the result. Only the
// vault (sealed names and national identifiers, never logged, never read by a
// trace) is left empty. Generation runs with fsync off; measurements reopen
// the registry with durable commits.
package dataset

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/transplant"
)

// Jurisdiction is the generated registry's country (user-assigned ISO code).
const Jurisdiction = "XA"

// Options sizes a generated registry.
type Options struct {
	Organs int // procured organs that are transplanted, one recipient each
	// Pool is how many more organs are procured, with a recipient registered
	// and the transplantation authorized, but not transplanted: the organs the
	// recording benchmarks transplant through the real service.
	Pool     int
	Seed     uint64           // default 2026
	Centres  int              // default 20
	Clients  int              // concurrent submitters during generation, default 4096
	MaxBatch int              // entries per commit during generation, default 4096
	Progress func(msg string) // optional
}

// Stats is what Generate made.
type Stats struct {
	Donors, Organs, Pool int
	Leaves               int64
	Took                 time.Duration
}

// regions are the regions of the generated recipients (the equity report
// counts by them), one after the other.
var regions = []string{"XA-NO", "XA-SO", "XA-EA", "XA-WE", "XA-CE"}

// Centre is a generated transplant centre and its coordinator.
type Centre struct {
	ID    string
	Coord *auth.Principal
}

// Centres returns the registry's centres with a coordinator principal each.
func Centres(ctx context.Context, app *server.App) ([]Centre, error) {
	rows, err := app.DB.Read().Query(ctx, `SELECT a.id, p.id, p.name FROM authorities a JOIN principals p ON p.authority_id = a.id
		WHERE a.kind = ? AND p.role = ? ORDER BY a.id`, transplant.KindCentre, string(transplant.RoleCoordinator))
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, func(r store.Scanner, c *Centre) error {
		p := &auth.Principal{Role: transplant.RoleCoordinator, Jurisdiction: Jurisdiction}
		err := r.Scan(&c.ID, &p.ID, &p.Name)
		p.AuthorityID = c.ID
		c.Coord = p
		return err
	})
}

// Generate initialises a new registry at cfg.DSN and fills it.
func Generate(ctx context.Context, cfg server.Config, opt Options) (*Stats, error) {
	if opt.Seed == 0 {
		opt.Seed = 2026
	}
	if opt.Centres <= 0 {
		opt.Centres = 20
	}
	if opt.Clients <= 0 {
		opt.Clients = 4096
	}
	if opt.MaxBatch <= 0 {
		opt.MaxBatch = 4096
	}
	progress := opt.Progress
	if progress == nil {
		progress = func(string) {}
	}
	start := time.Now()
	if cfg.IDs == nil {
		var seed [32]byte
		binary.LittleEndian.PutUint64(seed[:], opt.Seed)
		cfg.IDs = mrand.NewChaCha8(seed)
	}
	if _, err := server.Init(ctx, cfg, server.InitOptions{Jurisdiction: Jurisdiction, Authority: "Benchland Transplant Authority"}); err != nil {
		return nil, err
	}
	app, err := server.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer app.Close()
	if err := app.DB.NoSync(ctx); err != nil {
		return nil, err
	}
	// A page cache of 512 MiB on the writer's connection (SQLite; the
	// default is 2 MiB): a batch of thousands of entries dirties pages of
	// every index all over a file of gigabytes, and a small cache spills
	// them to the write-ahead log again and again within one transaction.
	// At 60,000 organs this took generation from 30.8 to 24.8 s of CPU
	// (system time 12.0 to 7.2 s), alternating; see BENCHMARKS.md.
	if app.DB.Dialect == store.SQLite {
		tx, err := app.DB.BeginWrite(ctx)
		if err != nil {
			return nil, err
		}
		if _, err := tx.Exec(ctx, "PRAGMA cache_size = -524288"); err != nil {
			tx.Rollback()
			return nil, err
		}
		if err := tx.Commit(); err != nil {
			return nil, err
		}
	}
	if err := setup(ctx, app, opt.Centres); err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	centres, err := Centres(ctx, app)
	if err != nil {
		return nil, err
	}
	signer, err := note.NewSigner(app.Keys.LogSigner)
	if err != nil {
		return nil, err
	}
	w := ledger.NewWriter(app.DB, app.Projections, ledger.WriterConfig{Signer: signer, Origin: signer.Name(),
		IDs: app.Writer.IDs(), MaxBatch: opt.MaxBatch, Logger: app.Log})
	g := &gen{opt: opt, centres: centres, vault: app}
	g.plan()
	st := &Stats{Donors: len(g.donors), Organs: opt.Organs, Pool: opt.Pool}
	progress(fmt.Sprintf("generating %d donors, %d organs (+%d pool)", len(g.donors), opt.Organs, opt.Pool))
	for _, ph := range g.phases() {
		t0 := time.Now()
		n, err := g.run(ctx, w, ph.each)
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("%s: %w", ph.name, err)
		}
		st.Leaves += n
		progress(fmt.Sprintf("  %-15s %9d entries in %v", ph.name, n, time.Since(t0).Round(time.Millisecond)))
	}
	w.Close()
	if err := app.DB.Checkpoint(ctx); err != nil {
		return nil, err
	}
	// No ANALYZE: a custos registry never runs it, and the measurements must
	// see what a deployed one sees. (With SQLite's STAT4 statistics every
	// bound parameter compared with an indexed column makes the statement
	// re-prepare on its next step, which halved recording throughput and
	// tripled trace latency in the benchmarks; see BENCHMARKS.md.)
	st.Took = time.Since(start)
	return st, nil
}

// setup creates the centres, their coordinators and their authorizations
// through the real commands.
func setup(ctx context.Context, app *server.App, n int) error {
	w := app.Writer
	var boot auth.Authority
	if err := app.DB.Read().QueryRow(ctx, "SELECT id FROM authorities WHERE kind = 'regulator'").Scan(&boot.ID); err != nil {
		return err
	}
	principal := func(actor ledger.Actor, name string, role auth.Role, authority string) (*auth.Principal, error) {
		cmd, _, err := app.Catalogue.CreatePrincipal(auth.NewPrincipal{Name: name, Role: role, AuthorityID: authority}, w.IDs(), rand.Reader)
		if err != nil {
			return nil, err
		}
		res, err := w.Submit(ctx, actor, "bench principal", cmd)
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
	admin, err := principal(ledger.Actor{Authority: boot.ID}, "Bench administrator", auth.Admin, boot.ID)
	if err != nil {
		return err
	}
	reg, err := principal(admin.Actor(), "Bench regulator", auth.Regulator, boot.ID)
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		cmd, err := app.Catalogue.CreateAuthority(auth.NewAuthority{Name: fmt.Sprintf("Bench Centre %02d", i+1), City: "Benchville", Kind: transplant.KindCentre}, w.IDs())
		if err != nil {
			return err
		}
		a, err := ledger.SubmitAs[auth.Authority](ctx, w, admin.Actor(), "bench centre", cmd)
		if err != nil {
			return err
		}
		if _, err := principal(admin.Actor(), fmt.Sprintf("Coordinator, Bench Centre %02d", i+1), transplant.RoleCoordinator, a.ID); err != nil {
			return err
		}
		for _, act := range transplant.Activities {
			for _, o := range transplant.OrganTypes {
				if _, err := app.Transplant.AuthorizeCentre(ctx, reg, a.ID, transplant.NewCentreAuthorization{Activity: act, Organ: o, ValidFrom: "2015-01-01"}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// donor is the plan of one donor; everything else is derived from its index.
type donor struct {
	organs   []string
	firstOrg int // global index of its first organ
	seq      int // donation sequence number within the year
}

type gen struct {
	opt     Options
	centres []Centre
	vault   *server.App
	donors  []donor
}

var (
	spanStart = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	spanEnd   = time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)
)

func (g *gen) rng(kind, i int) *mrand.Rand {
	return mrand.New(mrand.NewPCG(g.opt.Seed^uint64(kind)<<56, uint64(i)))
}

// plan decides each donor's organs until the wanted count is reached, and the
// donation sequence numbers.
func (g *gen) plan() {
	total := g.opt.Organs + g.opt.Pool
	for n, i := 0, 0; n < total; i++ {
		r := g.rng(0, i)
		var organs []string
		if r.IntN(10) < 4 { // living
			organs = []string{"kidney"}
			if r.IntN(4) == 0 {
				organs = []string{"liver"}
			}
		} else {
			organs = []string{"kidney", "kidney", "liver"}
			if r.IntN(2) == 0 {
				organs = append(organs, "heart")
			}
			if r.IntN(4) == 0 {
				organs = append(organs, "lung", "lung")
			}
			if r.IntN(20) < 3 {
				organs = append(organs, "pancreas")
			}
		}
		if n+len(organs) > total {
			organs = organs[:total-n]
		}
		g.donors = append(g.donors, donor{organs: organs, firstOrg: n})
		n += len(organs)
	}
	// Donations spread evenly over six years; numbers restart each year.
	year, seq := 0, 0
	for i := range g.donors {
		y := g.at(i).Year()
		if y != year {
			year, seq = y, 0
		}
		seq++
		g.donors[i].seq = seq
	}
}

// at is when donor i's donation happened.
func (g *gen) at(i int) time.Time {
	span := spanEnd.Sub(spanStart)
	return spanStart.Add(time.Duration(float64(span) * float64(i) / float64(len(g.donors)))).Truncate(time.Second)
}

// id writes a record id as ledger.IDs does, from a scrambled index.
func id(prefix string, kind, i int) string {
	v := (uint64(i)*0x9E3779B97F4A7C15 ^ uint64(kind)<<45) & (1<<50 - 1)
	b := make([]byte, 0, len(prefix)+11)
	b = append(b, prefix...)
	b = append(b, '-')
	for k := 0; k < 10; k++ {
		b = append(b, "0123456789ABCDEFGHJKMNPQRSTVWXYZ"[v&31])
		v >>= 5
	}
	return string(b)
}

// Record ids of generated records.
func DonorID(i int) string       { return id("DN", 1, i) }
func ConsentID(i int) string     { return id("CO", 2, i) }
func ProcurementID(i int) string { return id("PC", 3, i) }
func RecipientID(g int) string   { return id("RC", 4, g) }
func AuthID(g int) string        { return id("TA", 5, g) }
func TransplantID(g int) string  { return id("TX", 6, g) }

func (g *gen) organID(i, k int) string {
	return transplant.OrganID{Country: Jurisdiction, Year: g.at(i).Year() % 100, Seq: g.donors[i].seq, Organ: k + 1}.String()
}

type job struct {
	actor ledger.Actor
	e     *ledger.Entry
}

type phase struct {
	name string
	each func(i int, emit func(ledger.Actor, string, any))
}

// living tells whether donor i is a living donor: most one-organ donors are.
func (g *gen) living(i int) bool {
	return len(g.donors[i].organs) == 1 && g.rng(9, i).IntN(10) < 9
}

func (g *gen) centre(i int) Centre { return g.centres[i%len(g.centres)] }

func (g *gen) phases() []phase {
	bloods := []string{"O", "O", "A", "A", "B", "AB"}
	return []phase{
		{"donors", func(i int, emit func(ledger.Actor, string, any)) {
			r := g.rng(1, i)
			c := g.centre(i)
			at := g.at(i)
			living := g.living(i)
			weight, height := 50+r.IntN(50), 150+r.IntN(40)
			d := transplant.Donor{ID: DonorID(i), Kind: transplant.DonorBrainDeath, CentreID: c.ID,
				Sex: []string{"female", "male"}[r.IntN(2)], BloodGroup: bloods[r.IntN(len(bloods))],
				DateOfBirth: at.AddDate(-18-r.IntN(60), -r.IntN(12), 0).Format(transplant.DateLayout), WeightKg: &weight, HeightCm: &height,
				IVDrugUse: "no", Malignancy: "no", TransmissibleDisease: "no", HIV: "negative", HCV: "negative", HBV: "negative",
				OrganFunction: "creatinine and liver enzymes within normal range"}
			d.SubjectRef = "SU-" + d.ID[3:]
			d.PersonPseudonym = g.vault.Vault.Pseudonym("national-id:"+Jurisdiction, fmt.Sprintf("XA%09d", i))
			if living {
				d.Kind = transplant.DonorLiving
			} else {
				d.CauseOfDeath = "cerebrovascular accident"
				d.DateOfDeath = at.Format(transplant.DateLayout)
			}
			emit(c.Coord.Actor(), transplant.TypeDonorRegistered, d)
		}},
		{"consents", func(i int, emit func(ledger.Actor, string, any)) {
			c := g.centre(i)
			at := g.at(i)
			co := transplant.Consent{ID: ConsentID(i), DonorID: DonorID(i), Kind: transplant.ConsentFamily,
				GivenOn: at.Format(transplant.DateLayout), AssessedBy: "Donation coordinator", AssessorIndependent: true, Voluntary: true, Informed: true}
			if g.living(i) {
				co.Kind, co.AssessedBy, co.GivenOn = transplant.ConsentLiving, "Independent living donor advocate", at.AddDate(0, -1, 0).Format(transplant.DateLayout)
			}
			emit(c.Coord.Actor(), transplant.TypeConsentRecorded, co)
		}},
		{"procurements", func(i int, emit func(ledger.Actor, string, any)) {
			c := g.centre(i)
			at := g.at(i).Add(90 * time.Minute)
			d := g.donors[i]
			p := transplant.Procurement{ID: ProcurementID(i), DonorID: DonorID(i), CentreID: c.ID, ProcuredAt: ledger.FormatTime(at),
				DonationYear: g.at(i).Year() % 100, DonationSeq: d.seq}
			for k, o := range d.organs {
				p.Organs = append(p.Organs, transplant.ProcuredOrgan{ID: g.organID(i, k), Organ: o})
			}
			emit(c.Coord.Actor(), transplant.TypeProcurementRecorded, p)
		}},
		{"recipients", func(i int, emit func(ledger.Actor, string, any)) {
			at := g.at(i)
			for k, o := range g.donors[i].organs {
				gi := g.donors[i].firstOrg + k
				r := g.rng(4, gi)
				c := g.centre(gi * 7)
				rc := transplant.Recipient{ID: RecipientID(gi), CentreID: c.ID, Sex: []string{"female", "male"}[r.IntN(2)],
					BloodGroup: bloods[r.IntN(len(bloods))], DateOfBirth: at.AddDate(-20-r.IntN(50), 0, 0).Format(transplant.DateLayout),
					Residence: Jurisdiction, Region: regions[gi%len(regions)], OrganNeeded: o, ListedOn: at.AddDate(0, 0, -30-r.IntN(700)).Format(transplant.DateLayout)}
				rc.SubjectRef = "SU-" + rc.ID[3:]
				rc.PersonPseudonym = g.vault.Vault.Pseudonym("national-id:"+Jurisdiction, fmt.Sprintf("XR%09d", gi))
				emit(c.Coord.Actor(), transplant.TypeRecipientRegistered, rc)
			}
		}},
		{"authorizations", func(i int, emit func(ledger.Actor, string, any)) {
			at := g.at(i).Add(3 * time.Hour)
			for k := range g.donors[i].organs {
				gi := g.donors[i].firstOrg + k
				c := g.centre(gi * 7)
				authAt := at
				if gi >= g.opt.Organs {
					authAt = time.Now().UTC().Add(-24 * time.Hour) // the pool: authorized, to be transplanted now
				}
				emit(c.Coord.Actor(), transplant.TypeTransplantAuthorized, transplant.TransplantAuthorization{ID: AuthID(gi), OrganID: g.organID(i, k),
					RecipientID: RecipientID(gi), CentreID: c.ID, AuthorizedAt: ledger.FormatTime(authAt), AuthorizedBy: "Medical director",
					CompatibilityDocumented: true, ConsentVerified: true, NoPaymentDeclared: true, OnWaitingList: true})
			}
		}},
		{"transplants", func(i int, emit func(ledger.Actor, string, any)) {
			at := g.at(i).Add(7 * time.Hour)
			for k := range g.donors[i].organs {
				gi := g.donors[i].firstOrg + k
				if gi >= g.opt.Organs {
					continue
				}
				c := g.centre(gi * 7)
				emit(c.Coord.Actor(), transplant.TypeTransplantRecorded, transplant.Transplant{ID: TransplantID(gi), OrganID: g.organID(i, k),
					RecipientID: RecipientID(gi), CentreID: c.ID, AuthorizationID: AuthID(gi), PerformedAt: ledger.FormatTime(at)})
			}
		}},
	}
}

// run submits every entry of a phase through w with many concurrent clients,
// so that the writer commits them in large batches.
func (g *gen) run(ctx context.Context, w *ledger.Writer, each func(int, func(ledger.Actor, string, any))) (int64, error) {
	jobs := make(chan job, 2*g.opt.Clients)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		n     int64
	)
	for c := 0; c < g.opt.Clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				e := j.e
				_, err := w.Submit(ctx, j.actor, "bench load", func(context.Context, *store.Tx, time.Time) (*ledger.Entry, error) { return e, nil })
				mu.Lock()
				if err != nil && first == nil {
					first = err
				}
				n++
				mu.Unlock()
			}
		}()
	}
	var encErr error
	emit := func(a ledger.Actor, typ string, v any) {
		e, err := ledger.NewEntry(typ, v)
		if err != nil {
			encErr = err
			return
		}
		jobs <- job{a, e}
	}
	for i := range g.donors {
		each(i, emit)
		if encErr != nil {
			break
		}
		if i%1024 == 0 {
			mu.Lock()
			failed := first != nil
			mu.Unlock()
			if failed {
				break
			}
		}
	}
	close(jobs)
	wg.Wait()
	return n, errors.Join(encErr, first)
}
