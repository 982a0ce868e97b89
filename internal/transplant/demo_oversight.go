package transplant

import (
	"fmt"
	"time"
)

// ---- The demo's oversight (docs/oversight.md): a waiting list with status
// changes and outcomes, residents treated abroad, and the follow-ups of the
// first two centres, most recorded, some due and some overdue ----

// demoRegions are the regions of Demoland the demo's recipients live in.
var demoRegions = []string{"XA-NO", "XA-SO", "XA-EA", "XA-WE", "XA-CE"}

// demoAbroad are the residents treated abroad: where, what, and how it
// became known.
var demoAbroad = []struct {
	centre, months               int
	kind, country, organ, known  string
	donor, relation, nationality string
	paid                         string
}{
	{0, 26, AbroadTransplant, "IN", "kidney", "returning_patient", "living", "unrelated", "IN", "yes"},
	{0, 13, AbroadTransplant, "PK", "kidney", "insurer", "living", "unrelated", Unknown, Unknown},
	{1, 7, AbroadTransplant, "EG", "liver", "foreign_registry", "deceased", "not_applicable", "EG", "no"},
	{1, 30, AbroadTransplant, "IN", "kidney", "returning_patient", "living", "related", "IN", "no"},
	{0, 8, AbroadLivingDonation, "FR", "kidney", "foreign_registry", "living", "related", "FR", "no"},
	{1, 3, AbroadTransplant, "TR", "kidney", "returning_patient", Unknown, Unknown, Unknown, "yes"},
}

// oversight records the demo's waiting list, treatment abroad and
// follow-ups, at the demo clock.
func (g *demoGen) oversight() error {
	ctx, now := g.ctx, g.d.Clock()
	// The waiting list: twelve registrations still open, four of them
	// with a change (suspended, back to active), two who died waiting and
	// two removed; three live abroad.
	var waiting []*Recipient
	for i := range 16 {
		c := g.centres[i%4]
		residence := "XA"
		if i%5 == 4 {
			residence = "XB"
		}
		in := NewRecipient{CentreID: c.id, Name: g.name(), NationalID: g.nationalID(),
			Sex: []string{"female", "male"}[i%2], BloodGroup: BloodGroups[i%4], DateOfBirth: g.date(now.AddDate(-25-3*i, -i, 0)),
			Residence: residence, Region: demoRegions[i%len(demoRegions)], OrganNeeded: []string{"kidney", "kidney", "liver", "heart"}[i%4],
			ListedOn: g.date(now.AddDate(0, -2-2*i, 0))}
		r, err := g.svc.RegisterRecipient(ctx, c.coord, in)
		if isLikelyDuplicate(err) {
			in.NotDuplicateReason = demoNotDuplicate
			r, err = g.svc.RegisterRecipient(ctx, c.coord, in)
		}
		if err != nil {
			return fmt.Errorf("demo waiting list: %w", err)
		}
		waiting = append(waiting, r)
	}
	changes := []struct {
		i              int
		status, reason string
		months         int // ago
	}{
		{1, WaitlistSuspended, "temporarily_unfit", 1}, {3, WaitlistSuspended, "patient_choice", 2},
		{5, WaitlistSuspended, "temporarily_unfit", 4}, {5, WaitlistActive, "none", 2},
		{12, WaitlistDiedWaiting, "none", 3}, {14, WaitlistDiedWaiting, "none", 5},
		{13, WaitlistRemoved, "condition_improved", 2}, {15, WaitlistRemoved, "transferred", 1},
	}
	for _, c := range changes {
		r := waiting[c.i]
		if _, err := g.svc.ChangeWaitlistStatus(ctx, g.centres[c.i%4].coord, r.ID, NewWaitlistChange{Status: c.status, Reason: c.reason,
			ChangedOn: g.date(now.AddDate(0, -c.months, 0))}); err != nil {
			return fmt.Errorf("demo waiting-list change: %w", err)
		}
	}
	// Treated abroad; the first ends a registration of the waiting list.
	for k, a := range demoAbroad {
		in := NewAbroad{Kind: a.kind, CentreID: g.centres[a.centre].id, Name: g.name(), NationalID: g.nationalID(), Sex: []string{"male", "female"}[k%2],
			DateOfBirth: g.date(now.AddDate(-40-k, 0, 0)), Country: a.country, ForeignCentre: "Private hospital (synthetic)", Organ: a.organ,
			PerformedOn: g.date(now.AddDate(0, -a.months, 0)), ReturnedOn: g.date(now.AddDate(0, -a.months, 18)), KnownThrough: a.known,
			DonorType: a.donor, DonorRelation: a.relation, DonorNationality: a.nationality, PaymentReported: a.paid, MedicalRecords: []string{"yes", "no"}[k%2]}
		if k == 0 {
			in.RecipientID = waiting[0].ID
			in.PerformedOn, in.ReturnedOn = g.date(now.AddDate(0, -1, 0)), ""
			in.Sex, in.DateOfBirth = waiting[0].Sex, waiting[0].DateOfBirth
		}
		if _, err := g.svc.RecordAbroad(ctx, g.centres[a.centre].coord, in); err != nil {
			return fmt.Errorf("demo treatment abroad %d: %w", k, err)
		}
	}
	// Follow-ups at the first two centres: of the occasions closed in the
	// last two years, three in four recorded (one in five of them late);
	// the others, and those due now, are left for the worklist.
	sc := g.svc.FollowUpSchedule()
	for _, c := range g.centres[:2] {
		all, err := occasions(ctx, g.d.DB.Read(), sc, c.id, now, now)
		if err != nil {
			return err
		}
		n := 0
		for _, o := range all {
			closes, _ := time.Parse(DateLayout, o.Closes)
			if o.State != FollowUpOverdue || closes.Before(now.AddDate(-2, 0, 0)) {
				continue
			}
			n++
			if n%4 == 0 {
				continue
			}
			due, _ := time.Parse(DateLayout, o.DueOn)
			on := due.AddDate(0, 0, 10)
			if n%5 == 0 {
				on = closes.AddDate(0, 0, 20)
			}
			if on.After(now) {
				continue
			}
			graft := "functioning"
			if o.Donor {
				graft = "not_applicable"
			}
			comp := []string{"none"}
			if n%7 == 0 {
				comp = []string{"hypertension"}
			}
			if _, err := g.svc.RecordFollowUp(ctx, c.coord, NewFollowUp{SubjectID: o.SubjectID, DueMonth: o.DueMonth, FollowedUpOn: g.date(on),
				VitalStatus: "alive", GraftStatus: graft, Complications: comp, PsychosocialCare: []string{"provided", "not_needed"}[n%2]}); err != nil {
				return fmt.Errorf("demo follow-up of %s, month %d: %w", o.SubjectID, o.DueMonth, err)
			}
		}
	}
	return nil
}
