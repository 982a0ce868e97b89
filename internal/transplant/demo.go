package transplant

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/module"
)

// DemoCoordinator is the name of the coordinator of the i-th demo centre; the
// demo prints the tokens of the first two.
func DemoCoordinator(i int) string { return "Coordinator, " + demoCentreNames[i].name }

// Demo adds the transplant registry's part of the Demoland demo: about twenty
// centres, each with a coordinator and centre authorizations granted by the
// registry's regulator, then d.Years years of donation and transplantation
// activity from d.Start (about 300 × d.Scale donors a year), with the
// occasional refused procedure that raises an alert. It runs as the
// registry's first principal of role regulator, which the demo creates before
// any module's part.
func Demo(ctx context.Context, d *module.Demo) error {
	svc, _ := d.Service.(*Service)
	if svc == nil {
		svc = &Service{W: d.Writer, DB: d.DB, Vault: d.Vault}
	}
	regulator, err := demoRegulator(ctx, d)
	if err != nil {
		return err
	}
	g := &demoGen{ctx: ctx, d: d, svc: svc, regulator: regulator, rng: rand.New(rand.NewPCG(d.Seed, 7))}
	if err := g.contact(d.Regulator.ID, d.Regulator.Name, ""); err != nil {
		return err
	}
	if err := g.people(); err != nil {
		return err
	}
	d.Progress(fmt.Sprintf("demo: %d centres; generating %d years of activity...", len(g.centres), d.Years))
	perYear := int(300 * d.Scale)
	for y := 0; y < d.Years; y++ {
		yearStart := d.Start.AddDate(y, 0, 0)
		year := yearStart.AddDate(1, 0, 0).Sub(yearStart)
		for i := 0; i < perYear; i++ {
			at := yearStart.Add(time.Duration(float64(year) * float64(i) / float64(perYear)))
			if err := g.donation(at, i%5 == 0); err != nil {
				return fmt.Errorf("demo donation %d of year %d: %w", i, y+1, err)
			}
		}
		if err := g.procedures(yearStart.AddDate(1, 0, 0).Add(-20 * time.Hour)); err != nil {
			return fmt.Errorf("demo procedures of year %d: %w", y+1, err)
		}
		d.Progress(fmt.Sprintf("demo: %s to %s done (%d donors, %d transplants, %d alerts)", yearStart.Format("2006-01"),
			yearStart.AddDate(1, 0, -1).Format("2006-01"), g.donors, g.transplants, g.alerts))
		// A year before the end (or at the end of a one-year demo): the
		// reimbursements and the audit, whose corrective action is overdue
		// by now.
		if y == max(d.Years-2, 0) {
			if err := g.audit(); err != nil {
				return err
			}
		}
	}
	if d.Years > 0 {
		last := d.Start.AddDate(d.Years, 0, -1).Year()
		if err := g.godtLine(last); err != nil {
			return err
		}
	}
	if err := g.vigilance(); err != nil {
		return err
	}
	if err := g.trafficking(g.d.Clock().Add(24 * time.Hour)); err != nil {
		return err
	}
	if err := g.oversight(); err != nil {
		return err
	}
	return g.payer()
}

// vigilance reports a serious adverse reaction in a recipient of the last
// donor whose organs went to several recipients, as the regulator, and has
// the first notified centre acknowledge it; the others are left for the
// escalation custos serve makes (docs/vigilance.md).
func (g *demoGen) vigilance() error {
	if g.sae.donor == "" {
		return nil
	}
	g.d.SetClock(g.sae.at.Add(72 * time.Hour))
	x, err := g.svc.ReportSAE(g.ctx, g.regulator, NewSAE{Kind: SAEReaction, DonorID: g.sae.donor, RecipientIDs: []string{g.sae.recipient},
		Contact: "National vigilance desk, +00 1 00 00 00 (synthetic)", StartedAt: g.sae.at.Add(48 * time.Hour).Format(time.RFC3339),
		DetectedAt:        g.sae.at.Add(60 * time.Hour).Format(time.RFC3339),
		Description:       "Recipient febrile with a positive blood culture two days after transplantation; donor-derived infection suspected (synthetic).",
		ImmediateMeasures: "All recipients of the donor's organs called in for cultures; donor samples retested (synthetic)."})
	if err != nil {
		return fmt.Errorf("demo SAE: %w", err)
	}
	g.d.Progress(fmt.Sprintf("demo: serious adverse reaction %s reported, %d centres notified", x.ReportID, len(x.Notifications)))
	for _, n := range x.Notifications {
		for _, c := range g.centres {
			if c.id == n.CentreID && n.AcknowledgedAt == "" {
				g.d.SetClock(g.sae.at.Add(75 * time.Hour))
				_, err := g.svc.AcknowledgeNotification(g.ctx, c.coord, n.ID)
				return err
			}
		}
	}
	return nil
}

// demoRegulator is the first active principal of role regulator of the
// authority that runs the registry.
func demoRegulator(ctx context.Context, d *module.Demo) (*auth.Principal, error) {
	ps, err := auth.ListPrincipals(ctx, d.DB.Read())
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if p.Role == auth.Regulator && p.AuthorityID == d.Regulator.ID && p.RevokedAt == "" {
			return &auth.Principal{ID: p.ID, Name: p.Name, Role: p.Role, AuthorityID: p.AuthorityID, Jurisdiction: d.Regulator.Jurisdiction}, nil
		}
	}
	return nil, fmt.Errorf("the demo registry has no regulator principal at %s", d.Regulator.ID)
}

type demoCentre struct {
	id, name string
	coord    *auth.Principal
	organs   map[string]bool // transplantation authorizations
}

type demoGen struct {
	ctx       context.Context
	d         *module.Demo
	svc       *Service
	rng       *rand.Rand
	regulator *auth.Principal
	centres   []*demoCentre

	donors, transplants, alerts int
	// assessor and confirmed are the designated authority's assessor and
	// its confirmed case (demo_trafficking.go), which the oversight links
	// to a transplantation.
	assessor  *auth.Principal
	confirmed string
	// sae is the last donation whose organs went to two recipients or more:
	// the donor, one recipient, when.
	sae struct {
		donor, recipient string
		at               time.Time
	}
}

var demoCentreNames = []struct{ name, city string }{
	{"Riverside University Hospital", "Port Aster"}, {"Northgate General Hospital", "Northgate"},
	{"St. Elin Medical Centre", "Port Aster"}, {"Valemont Clinic", "Valemont"}, {"Harbour Heart Institute", "Port Aster"},
	{"Eastfield Regional Hospital", "Eastfield"}, {"Lakeshore Children's Hospital", "Lakeshore"},
	{"Mirren Valley Hospital", "Mirren"}, {"Southbank Teaching Hospital", "Southbank"}, {"Corvel Hill Hospital", "Corvel"},
	{"Western Plains Medical Centre", "Dunmore"}, {"Aster Liver Unit", "Port Aster"}, {"Greywater Hospital", "Greywater"},
	{"Highmoor General", "Highmoor"}, {"Kessel Bay Hospital", "Kessel"}, {"Old Town Infirmary", "Northgate"},
	{"Saltmarsh District Hospital", "Saltmarsh"}, {"Brightwell Kidney Centre", "Eastfield"}, {"Ostrava Road Hospital", "Valemont"},
	{"Tamsin Memorial Hospital", "Lakeshore"},
}

// people creates the centres, their coordinators and their authorizations.
func (g *demoGen) people() error {
	ctx := g.ctx
	from := g.d.Clock().Format(DateLayout)
	for i, cn := range demoCentreNames {
		a, err := g.d.Authorities.CreateAuthority(ctx, g.d.Admin, auth.NewAuthority{Name: cn.name, City: cn.city, Kind: KindCentre})
		if err != nil {
			return err
		}
		if err := g.contact(a.ID, a.Name, demoLanguages[i]); err != nil {
			return err
		}
		c := &demoCentre{id: a.ID, name: a.Name, organs: map[string]bool{}}
		// Every centre has a coordinator; the first two centres' tokens are printed.
		if c.coord, err = g.d.Principal(ctx, DemoCoordinator(i), RoleCoordinator, a.ID); err != nil {
			return err
		}
		// Every centre may procure; each transplants a share of organ types,
		// kidneys almost everywhere, hearts and intestines in few places.
		for _, o := range OrganTypes {
			if _, err := g.svc.AuthorizeCentre(ctx, g.regulator, a.ID, NewCentreAuthorization{Activity: "procurement", Organ: o, ValidFrom: from}); err != nil {
				return err
			}
			share := map[string]int{"kidney": 18, "liver": 8, "heart": 5, "lung": 4, "pancreas": 5, "intestine": 2}[o]
			if (i*7+len(o))%20 < share {
				if _, err := g.svc.AuthorizeCentre(ctx, g.regulator, a.ID, NewCentreAuthorization{Activity: "transplantation", Organ: o, ValidFrom: from}); err != nil {
					return err
				}
				c.organs[o] = true
			}
		}
		g.centres = append(g.centres, c)
	}
	return nil
}

var demoFirstNames = []string{"Amara", "Bruno", "Chen", "Dalia", "Emeka", "Farah", "Goran", "Hana", "Ilya", "Jana", "Kofi", "Lena",
	"Mateo", "Nadia", "Omar", "Priya", "Quentin", "Rosa", "Sami", "Tala", "Umar", "Vera", "Wen", "Ximena", "Yusuf", "Zora"}
var demoLastNames = []string{"Achterberg", "Banda", "Castillo", "Dimitrov", "Eze", "Fonseca", "Galli", "Haddad", "Ivanova", "Jensen",
	"Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrenko", "Quispe", "Rahman", "Silva", "Tanaka", "Urquhart", "Varga"}

func (g *demoGen) name() string {
	return demoFirstNames[g.rng.IntN(len(demoFirstNames))] + " " + demoLastNames[g.rng.IntN(len(demoLastNames))] + " (synthetic)"
}

// demoNotDuplicate is the reason the demo gives when two of its synthetic
// people meet by chance on a name and a date of birth, as a coordinator
// would after checking.
const demoNotDuplicate = "another person of the same name and date of birth (synthetic)"

func isLikelyDuplicate(err error) bool {
	e, ok := errs.As(err)
	return ok && e.Rule == RuleLikelyDuplicate
}

func (g *demoGen) pick(xs []string) string { return xs[g.rng.IntN(len(xs))] }

func (g *demoGen) date(t time.Time) string { return t.Format(DateLayout) }

func (g *demoGen) nationalID() string { return fmt.Sprintf("XA%09d", g.rng.IntN(1_000_000_000)) }

// donation records one donor's path: registration, consent, procurement, and
// a recipient, authorization and transplantation for most organs.
func (g *demoGen) donation(at time.Time, living bool) error {
	ctx := g.ctx
	g.d.SetClock(at)
	c := g.centres[g.rng.IntN(len(g.centres))]
	age := 18 + g.rng.IntN(60)
	born := at.AddDate(-age, -g.rng.IntN(12), 0)
	// A living donor is 18 on the day of their consent, a month before the
	// procurement (a day more, so that no 29 February makes them 17).
	if adult := at.AddDate(0, -1, 0).AddDate(-AdultAge, 0, -1); living && born.After(adult) {
		born = adult
	}
	in := NewDonor{CentreID: c.id, Name: g.name(), NationalID: g.nationalID(), Sex: g.pick([]string{"female", "male"}),
		BloodGroup: g.pick([]string{"O", "O", "A", "A", "B", "AB"}), DateOfBirth: g.date(born),
		IVDrugUse: "no", Malignancy: "no", TransmissibleDisease: "no", HIV: "negative", HCV: "negative", HBV: "negative",
		OrganFunction: "creatinine and liver enzymes within normal range"}
	weight, height := 50+g.rng.IntN(50), 150+g.rng.IntN(40)
	in.WeightKg, in.HeightCm = &weight, &height
	organs := []string{"kidney"}
	consent := NewConsent{Kind: ConsentLiving, GivenOn: g.date(at.AddDate(0, -1, 0)),
		AssessedBy: "Independent living donor advocate", AssessorIndependent: true, Voluntary: true, Informed: true}
	if living {
		in.Kind = DonorLiving
		if g.rng.IntN(4) == 0 {
			organs = []string{"liver"}
		}
	} else {
		in.Kind = DonorBrainDeath
		if g.rng.IntN(4) == 0 {
			in.Kind = DonorCirculatoryDeath
		}
		in.CauseOfDeath = g.pick([]string{"cerebrovascular accident", "head trauma", "anoxia", "cerebral haemorrhage"})
		in.DateOfDeath = g.date(at)
		organs = []string{"kidney", "kidney", "liver"}
		if g.rng.IntN(10) < 6 && in.Kind == DonorBrainDeath {
			organs = append(organs, "heart")
		}
		if g.rng.IntN(10) < 3 {
			organs = append(organs, "lung", "lung")
		}
		if g.rng.IntN(10) < 2 {
			organs = append(organs, "pancreas")
		}
		consent = NewConsent{Kind: g.pick([]string{ConsentFamily, ConsentRegistry}), GivenOn: g.date(at),
			AssessedBy: "Donation coordinator", AssessorIndependent: true, Voluntary: true, Informed: true}
	}
	dn, err := g.svc.RegisterDonor(ctx, c.coord, in)
	if isLikelyDuplicate(err) {
		in.NotDuplicateReason = demoNotDuplicate
		dn, err = g.svc.RegisterDonor(ctx, c.coord, in)
	}
	if err != nil {
		return err
	}
	g.donors++
	if g.donors%97 == 13 && living {
		// A procurement attempted before consent is on file: refused, alerted.
		g.d.SetClock(at.Add(30 * time.Minute))
		_, err := g.svc.RecordProcurement(ctx, c.coord, NewProcurement{DonorID: dn.ID, CentreID: c.id,
			ProcuredAt: at.Add(20 * time.Minute).Format(time.RFC3339), Organs: organs})
		if errs.CodeOf(err) != errs.Forbidden {
			return fmt.Errorf("expected a refusal without consent, got %v", err)
		}
		g.alerts++
	}
	if _, err := g.svc.RecordConsent(ctx, c.coord, dn.ID, consent); err != nil {
		return err
	}
	g.d.SetClock(at.Add(2 * time.Hour))
	pr, err := g.svc.RecordProcurement(ctx, c.coord, NewProcurement{DonorID: dn.ID, CentreID: c.id,
		ProcuredAt: at.Add(90 * time.Minute).Format(time.RFC3339), Organs: organs})
	if err != nil {
		return err
	}
	var kept []ProcuredOrgan
	received, last := 0, ""
	defer func() {
		if received >= 2 {
			g.sae.donor, g.sae.recipient, g.sae.at = dn.ID, last, at
		}
	}()
	for k, o := range pr.Organs {
		if g.rng.IntN(100) < 8 {
			kept = append(kept, o) // not transplanted: discarded, or still awaiting its disposition
			continue
		}
		var tc *demoCentre
		for tries := 0; tries < 40 && tc == nil; tries++ {
			if cand := g.centres[g.rng.IntN(len(g.centres))]; cand.organs[o.Organ] {
				tc = cand
			}
		}
		if tc == nil {
			continue
		}
		t0 := at.Add(time.Duration(3+k) * time.Hour)
		g.d.SetClock(t0)
		rin := NewRecipient{CentreID: tc.id, Name: g.name(), NationalID: g.nationalID(),
			Sex: g.pick([]string{"female", "male"}), BloodGroup: in.BloodGroup, DateOfBirth: g.date(at.AddDate(-20-g.rng.IntN(50), 0, 0)),
			Residence: "XA", Region: demoRegions[g.transplants%len(demoRegions)], OrganNeeded: o.Organ, ListedOn: g.date(at.AddDate(0, 0, -30-g.rng.IntN(700)))}
		r, err := g.svc.RegisterRecipient(ctx, tc.coord, rin)
		if isLikelyDuplicate(err) {
			rin.NotDuplicateReason = demoNotDuplicate
			r, err = g.svc.RegisterRecipient(ctx, tc.coord, rin)
		}
		if err != nil {
			return err
		}
		if g.transplants%211 == 17 {
			// A transplantation recorded without its per-procedure authorization.
			_, err := g.svc.RecordTransplant(ctx, tc.coord, NewTransplant{OrganID: o.ID, RecipientID: r.ID, CentreID: tc.id,
				PerformedAt: t0.Format(time.RFC3339)})
			if errs.CodeOf(err) != errs.Forbidden {
				return fmt.Errorf("expected a refusal without authorization, got %v", err)
			}
			g.alerts++
		}
		a, err := g.svc.AuthorizeTransplant(ctx, tc.coord, NewTransplantAuthorization{OrganID: o.ID, RecipientID: r.ID, CentreID: tc.id,
			AuthorizedBy: "Medical director", CompatibilityDocumented: true, ConsentVerified: true, NoPaymentDeclared: true})
		if err != nil {
			return err
		}
		g.d.SetClock(t0.Add(4 * time.Hour))
		if g.chained() {
			if err := g.chain(c, tc, o, at.Add(90*time.Minute), t0); err != nil {
				return err
			}
		}
		if _, err := g.svc.RecordTransplant(ctx, tc.coord, NewTransplant{OrganID: o.ID, RecipientID: r.ID, CentreID: tc.id,
			PerformedAt: t0.Add(3 * time.Hour).Format(time.RFC3339), AuthorizationID: a.ID}); err != nil {
			return err
		}
		g.transplants++
		received++
		last = r.ID
	}
	// Two of three organs not transplanted get their disposition from the
	// procuring centre; the others stay awaiting one.
	for i, o := range kept {
		if (g.donors+i)%3 == 0 {
			continue
		}
		g.d.SetClock(at.Add(15 * time.Hour))
		if _, err := g.svc.RecordDisposition(ctx, c.coord, NewDisposition{OrganID: o.ID, Outcome: DispositionDiscarded,
			Reason: DispositionReasons[(g.donors+i)%8], DisposedAt: at.Add(14 * time.Hour).Format(time.RFC3339)}); err != nil {
			return fmt.Errorf("demo disposition: %w", err)
		}
	}
	return nil
}
