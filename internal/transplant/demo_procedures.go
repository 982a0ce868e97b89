package transplant

import (
	"fmt"
	"time"
)

// DemoPopulation is Demoland's population, the input of its GODT report.
const DemoPopulation = 5_400_000

// procedures records, once a year at at, a multi-organ donation: a deceased
// donor whose kidney and pancreas go to one recipient (kidney-pancreas),
// heart and lungs to another (heart-lung), liver to a third whose explanted
// liver is given as a domino liver to a fourth, and the other kidney to a
// fifth, each at a centre authorized for the procedure's organs (a
// procedure with no such centre is left out).
func (g *demoGen) procedures(at time.Time) error {
	ctx := g.ctx
	g.d.SetClock(at)
	c := g.centres[0]
	in := NewDonor{Kind: DonorBrainDeath, CentreID: c.id, Name: g.name(), NationalID: g.nationalID(), Sex: "male", BloodGroup: "O",
		DateOfBirth: g.date(at.AddDate(-34, 0, 0)), CauseOfDeath: "head trauma", DateOfDeath: g.date(at),
		IVDrugUse: "no", Malignancy: "no", TransmissibleDisease: "no", HIV: "negative", HCV: "negative", HBV: "negative",
		OrganFunction: "normal"}
	dn, err := g.svc.RegisterDonor(ctx, c.coord, in)
	if isLikelyDuplicate(err) {
		in.NotDuplicateReason = demoNotDuplicate
		dn, err = g.svc.RegisterDonor(ctx, c.coord, in)
	}
	if err != nil {
		return err
	}
	g.donors++
	if _, err := g.svc.RecordConsent(ctx, c.coord, dn.ID, NewConsent{Kind: ConsentRegistry, GivenOn: g.date(at),
		AssessedBy: "Donation coordinator", AssessorIndependent: true, Voluntary: true, Informed: true}); err != nil {
		return err
	}
	g.d.SetClock(at.Add(time.Hour))
	pr, err := g.svc.RecordProcurement(ctx, c.coord, NewProcurement{DonorID: dn.ID, CentreID: c.id, ProcuredAt: at.Add(50 * time.Minute).Format(time.RFC3339),
		Organs: []string{"kidney", "kidney", "pancreas", "heart", "lung", "lung", "liver"}})
	if err != nil {
		return err
	}
	id := func(i int) string { return pr.Organs[i].ID }
	step := 0
	// transplant records organs into a new recipient at a centre authorized
	// for them: a procedure of kind, or one organ recorded alone ("").
	transplant := func(kind string, domino bool, organs ...string) (*Procedure, error) {
		step++
		t0 := at.Add(time.Duration(1+step) * time.Hour)
		g.d.SetClock(t0)
		types := map[string]bool{}
		for _, o := range pr.Organs {
			for _, x := range organs {
				if o.ID == x {
					types[o.Organ] = true
				}
			}
		}
		if len(types) == 0 { // the domino liver
			types["liver"] = true
		}
		var tc *demoCentre
		for _, cand := range g.centres {
			ok := true
			for t := range types {
				ok = ok && cand.organs[t]
			}
			if ok {
				tc = cand
				break
			}
		}
		if tc == nil {
			return nil, nil
		}
		needed := "liver" // the domino liver, not among the procurement's organs
		for _, o := range pr.Organs {
			if o.ID == organs[0] {
				needed = o.Organ
			}
		}
		if k, ok := procedureOrgans[kind]; ok {
			needed = k[0].organ // the organ a combined procedure's recipient waits for
		}
		r, err := g.svc.RegisterRecipient(ctx, tc.coord, NewRecipient{CentreID: tc.id, Name: g.name(), NationalID: g.nationalID(),
			Sex: g.pick([]string{"female", "male"}), BloodGroup: "O", DateOfBirth: g.date(at.AddDate(-30-g.rng.IntN(30), 0, 0)),
			Residence: "XA", OrganNeeded: needed, ListedOn: g.date(at.AddDate(0, 0, -200)), NotDuplicateReason: demoNotDuplicate})
		if err != nil {
			return nil, err
		}
		for _, o := range organs {
			if _, err := g.svc.AuthorizeTransplant(ctx, tc.coord, NewTransplantAuthorization{OrganID: o, RecipientID: r.ID, CentreID: tc.id,
				AuthorizedBy: "Medical director", CompatibilityDocumented: true, ConsentVerified: true, NoPaymentDeclared: true}); err != nil {
				return nil, err
			}
		}
		g.d.SetClock(t0.Add(30 * time.Minute))
		performed := t0.Add(20 * time.Minute).Format(time.RFC3339)
		g.transplants += len(organs)
		if kind == "" {
			_, err := g.svc.RecordTransplant(ctx, tc.coord, NewTransplant{OrganID: organs[0], RecipientID: r.ID, CentreID: tc.id, PerformedAt: performed})
			return nil, err
		}
		in := NewProcedure{Kind: kind, OrganIDs: organs, RecipientID: r.ID, CentreID: tc.id, PerformedAt: performed, DominoLiver: domino}
		if domino { // the first recipient consents to donating their explanted liver, as a living donor does
			in.DominoConsent = &NewConsent{Kind: ConsentLiving, GivenOn: t0.AddDate(0, 0, -1).Format(DateLayout),
				AssessedBy: "Independent living donor advocate", AssessorIndependent: true, Voluntary: true, Informed: true}
		}
		return g.svc.RecordProcedure(ctx, tc.coord, in)
	}
	if _, err := transplant(ProcedureKidneyPancreas, false, id(0), id(2)); err != nil {
		return fmt.Errorf("demo kidney-pancreas: %w", err)
	}
	if _, err := transplant(ProcedureHeartLung, false, id(3), id(4), id(5)); err != nil {
		return fmt.Errorf("demo heart-lung: %w", err)
	}
	dom, err := transplant(ProcedureSingle, true, id(6))
	if err != nil {
		return fmt.Errorf("demo domino: %w", err)
	}
	if dom != nil {
		if _, err := transplant("", false, dom.Domino.Procurement.Organs[0].ID); err != nil {
			return fmt.Errorf("demo domino liver: %w", err)
		}
	}
	if _, err := transplant("", false, id(1)); err != nil {
		return fmt.Errorf("demo kidney: %w", err)
	}
	return nil
}

// godtLine is the demo's line on its last full year's GODT report.
func (g *demoGen) godtLine(year int) error {
	rep, err := g.svc.GODT(g.ctx, g.regulator, GODTQuery{Country: g.d.Regulator.Jurisdiction, Year: year, Population: DemoPopulation})
	if err != nil {
		return err
	}
	g.d.Progress(fmt.Sprintf("demo: GODT report %d: %d actual deceased donors, %d kidney, %d liver (%d domino), %d heart (%d heart-lung) transplants; /transplant/godt?year=%d&population=%d",
		year, rep.Value("total_actual_dd"), rep.Value("total_kidney_tx"), rep.Value("total_liver_tx"), rep.Value("domino_liver_tx"),
		rep.Value("total_heart_tx"), rep.Value("heart_lung_tx"), year, DemoPopulation))
	return nil
}
