package transplant_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/disclosure"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// abroadIn is a resident's transplant abroad, performed daysAgo(ago), that
// centre follows up.
func abroadIn(centre string, ago int) transplant.NewAbroad {
	nid, dob := person()
	return transplant.NewAbroad{Kind: transplant.AbroadTransplant, CentreID: centre, Name: "Abroad Patient (synthetic)", NationalID: nid + "AB",
		Sex: "female", DateOfBirth: dob, Country: "TR", ForeignCentre: "Private clinic (synthetic)", Organ: "kidney",
		PerformedOn: daysAgo(ago), ReturnedOn: daysAgo(ago - 20), KnownThrough: "returning_patient", DonorType: "living",
		DonorRelation: "unrelated", DonorNationality: "unknown", PaymentReported: "yes", MedicalRecords: "no"}
}

func followUp(subject string, month int, on string) transplant.NewFollowUp {
	return transplant.NewFollowUp{SubjectID: subject, DueMonth: month, FollowedUpOn: on, VitalStatus: "alive", GraftStatus: "functioning",
		Complications: []string{"none"}, PsychosocialCare: "provided"}
}

// refusal is a case of a rule: what it does, and the refusal it must get.
type refusal struct {
	name        string
	do          func() error
	code        errs.Code
	rule, field string
	alert       bool
}

// checkRefusals runs each case: the refusal names its code, rule and field,
// and the log grows by the alert alone when the rule alerts, by nothing
// otherwise.
func checkOversightRefusals(t *testing.T, w *ruleWorld, cases []refusal) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			size, alerts := w.LogSize(t), alertCount(t, w)
			e, ok := errs.As(c.do())
			if !ok {
				t.Fatalf("no refusal; want %s/%s on %q", c.code, c.rule, c.field)
			}
			if e.Code != c.code || e.Rule != c.rule || e.Field != c.field || e.Alert != c.alert {
				t.Fatalf("got %s/%s on %q (alert %t): %s; want %s/%s on %q (alert %t)", e.Code, e.Rule, e.Field, e.Alert, e.Message, c.code, c.rule, c.field, c.alert)
			}
			want := 0
			if c.alert {
				want = 1
			}
			if d := w.LogSize(t) - size; d != want {
				t.Errorf("the log grew by %d leaves, want %d", d, want)
			}
			if d := alertCount(t, w) - alerts; d != want {
				t.Errorf("alerts grew by %d, want %d", d, want)
			}
		})
	}
}

// TestOversightRules drives the rules of treatment abroad, follow-up and
// the waiting list, on SQLite and PostgreSQL, then the follow-up worklist
// and the share on time, whose counts the history makes known.
func TestOversightRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newRuleWorld(t, dsn)
		s := w.svc
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		record := func(p *auth.Principal, in transplant.NewAbroad) string {
			t.Helper()
			a, err := s.RecordAbroad(ctx, p, in)
			must(err)
			return a.ID
		}
		// A1: 400 days ago, its 6-month follow-up on time, its 12-month one
		// overdue (closed 5 days ago). A2: a living donation 200 days ago,
		// its 6-month follow-up due. A3: 300 days ago, its 6-month one late.
		// A4: 800 days ago, found dead at 6 months.
		a1 := record(w.coordA, abroadIn(w.CentreA, 400))
		in2 := abroadIn(w.CentreA, 200)
		in2.Kind, in2.Country, in2.DonorType, in2.DonorRelation, in2.PaymentReported = transplant.AbroadLivingDonation, "IN", "living", "related", "no"
		a2 := record(w.coordA, in2)
		a3 := record(w.coordA, abroadIn(w.CentreA, 300))
		a4 := record(w.coordA, abroadIn(w.CentreA, 800))
		_, err := s.RecordFollowUp(ctx, w.coordA, followUp(a1, 6, daysAgo(400-183)))
		must(err)
		_, err = s.RecordFollowUp(ctx, w.coordA, followUp(a3, 6, daysAgo(10)))
		must(err)
		dead := followUp(a4, 6, daysAgo(800-180))
		dead.VitalStatus, dead.GraftStatus = "died", "unknown"
		_, err = s.RecordFollowUp(ctx, w.coordA, dead)
		must(err)

		fu := func(p *auth.Principal, in transplant.NewFollowUp, f func(*transplant.NewFollowUp)) func() error {
			return func() error {
				if f != nil {
					f(&in)
				}
				_, err := s.RecordFollowUp(ctx, p, in)
				return err
			}
		}
		ab := func(p *auth.Principal, f func(*transplant.NewAbroad)) func() error {
			return func() error {
				in := abroadIn(w.CentreA, 100)
				f(&in)
				_, err := s.RecordAbroad(ctx, p, in)
				return err
			}
		}
		wl := func(p *auth.Principal, id, status, reason, on string) func() error {
			return func() error {
				_, err := s.ChangeWaitlistStatus(ctx, p, id, transplant.NewWaitlistChange{Status: status, Reason: reason, ChangedOn: on})
				return err
			}
		}
		home, err := s.Jurisdiction(ctx)
		must(err)
		checkOversightRefusals(t, w, []refusal{
			{"follow-up of a recipient not transplanted", fu(w.coordA, followUp(w.waitingKidney, 6, daysAgo(1)), nil), errs.Conflict, "followup_subject", "subject_id", false},
			{"follow-up of a deceased donor", fu(w.coordA, followUp(w.donor, 6, daysAgo(1)), nil), errs.Conflict, "followup_subject", "subject_id", false},
			{"follow-up of an unknown kind of record", fu(w.coordA, followUp("XY-1", 6, daysAgo(1)), nil), errs.Invalid, "followup_subject", "subject_id", false},
			{"follow-up of no recipient", fu(w.coordA, followUp("RC-NONE", 6, daysAgo(1)), nil), errs.NotFound, "reference", "subject_id", false},
			{"follow-up of no donor", fu(w.coordA, followUp("DN-NONE", 6, daysAgo(1)), nil), errs.NotFound, "reference", "subject_id", false},
			{"follow-up of another centre's recipient not transplanted", fu(w.coordA, followUp(w.waitingKidneyB, 6, daysAgo(1)), nil), errs.Forbidden, "own_centre", "subject_id", true},
			{"follow-up before the transplantation", fu(w.coordA, followUp(w.done, 6, daysAgo(1)), nil), errs.Invalid, "dates_in_order", "followed_up_on", false},
			{"follow-up before its window", fu(w.coordA, followUp(a1, 12, daysAgo(100)), nil), errs.Invalid, "followup_early", "followed_up_on", false},
			{"a month off the schedule", fu(w.coordA, followUp(a1, 18, daysAgo(1)), nil), errs.Invalid, "followup_schedule", "due_month", false},
			{"an occasion recorded twice", fu(w.coordA, followUp(a1, 6, daysAgo(1)), nil), errs.Conflict, "followup_recorded", "due_month", false},
			{"another centre's patient", fu(w.coordB, followUp(a1, 12, daysAgo(1)), nil), errs.Forbidden, "own_centre", "subject_id", true},
			{"a graft for a living donor", fu(w.coordA, followUp(a2, 6, daysAgo(1)), nil), errs.Invalid, "graft_status", "graft_status", false},
			{"no graft for a recipient", fu(w.coordA, followUp(a1, 12, daysAgo(1)), func(in *transplant.NewFollowUp) { in.GraftStatus = "not_applicable" }),
				errs.Invalid, "graft_status", "graft_status", false},
			{"after death", fu(w.coordA, followUp(a4, 12, daysAgo(800-365)), nil), errs.Conflict, "subject_deceased", "subject_id", false},
			{"none with a complication", fu(w.coordA, followUp(a1, 12, daysAgo(1)), func(in *transplant.NewFollowUp) { in.Complications = []string{"none", "infection"} }),
				errs.Invalid, "complications_none", "complications", false},

			{"a living donation by a deceased donor", ab(w.coordA, func(in *transplant.NewAbroad) { in.Kind, in.DonorType = transplant.AbroadLivingDonation, "deceased" }),
				errs.Invalid, "abroad_donor", "donor_type", false},
			{"a relation for a deceased donor", ab(w.coordA, func(in *transplant.NewAbroad) { in.DonorType = "deceased" }), errs.Invalid, "abroad_donor", "donor_relation", false},
			{"returned before the procedure", ab(w.coordA, func(in *transplant.NewAbroad) { in.ReturnedOn = daysAgo(101) }), errs.Invalid, "dates_in_order", "returned_on", false},
			{"not a country", ab(w.coordA, func(in *transplant.NewAbroad) { in.Country = "Turkey" }), errs.Invalid, "iso3166", "country", false},
			{"a donor's nationality ZZ, not unknown", ab(w.coordA, func(in *transplant.NewAbroad) { in.DonorNationality = "zz" }), errs.Invalid, "known_state", "donor_nationality", false},
			{"abroad is another country than the registry's", ab(w.coordA, func(in *transplant.NewAbroad) { in.Country = home }), errs.Invalid, "abroad_country", "country", false},
			{"for another centre", ab(w.coordA, func(in *transplant.NewAbroad) { in.CentreID = w.CentreB }), errs.Forbidden, "own_centre", "centre_id", true},
			{"ending a registration already transplanted", ab(w.coordA, func(in *transplant.NewAbroad) {
				in.RecipientID = w.done
				in.PerformedOn = daysAgo(0)
				in.ReturnedOn = ""
			}),
				errs.Conflict, "waitlist_closed", "recipient_id", false},
			{"ending a registration for another organ", ab(w.coordB, func(in *transplant.NewAbroad) { in.CentreID, in.RecipientID = w.CentreB, w.waitingLiverB }),
				errs.Invalid, "abroad_registration", "organ", false},

			{"an outcome on a registration transplanted", wl(w.coordA, w.done, transplant.WaitlistRemoved, "other", daysAgo(0)), errs.Conflict, "waitlist_closed", "status", false},
			{"another centre's registration", wl(w.coordA, w.waitingKidneyB, transplant.WaitlistSuspended, "other", daysAgo(0)), errs.Forbidden, "own_centre", "recipient_id", true},
			{"the status it has", wl(w.coordA, w.waitingKidney, transplant.WaitlistActive, "none", daysAgo(0)), errs.Conflict, "waitlist_status_same", "status", false},
			{"a suspension without a reason", wl(w.coordA, w.waitingKidney, transplant.WaitlistSuspended, "none", daysAgo(0)), errs.Invalid, "waitlist_reason", "reason", false},
			{"a change before the listing", wl(w.coordA, w.waitingKidney, transplant.WaitlistSuspended, "other", "2023-12-31"), errs.Invalid, "dates_in_order", "changed_on", false},
		})
		// Closed by an outcome, a registration takes no other.
		_, err = s.ChangeWaitlistStatus(ctx, w.coordA, w.waitingKidney, transplant.NewWaitlistChange{Status: transplant.WaitlistDiedWaiting, Reason: "none", ChangedOn: daysAgo(1)})
		must(err)
		checkOversightRefusals(t, w, []refusal{
			{"a change after death", wl(w.coordA, w.waitingKidney, transplant.WaitlistActive, "none", daysAgo(0)), errs.Conflict, "waitlist_closed", "status", false},
		})

		// The worklist: A2's 6-month follow-up due, A1's 12-month overdue;
		// nothing of w.done yet (transplanted today); A4 no more (dead).
		wk, err := s.FollowUpWorklist(ctx, w.regulator, "")
		must(err)
		if wk.Due != 1 || wk.Overdue != 1 || len(wk.Items) != 2 {
			t.Fatalf("worklist: %d due, %d overdue, %+v; want 1 and 1", wk.Due, wk.Overdue, wk.Items)
		}
		for _, o := range wk.Items {
			if want := map[string]string{a2: transplant.FollowUpDue, a1: transplant.FollowUpOverdue}[o.SubjectID]; o.State != want || o.CentreID != w.CentreA {
				t.Errorf("worklist item %+v, want state %q at centre A", o, want)
			}
		}
		if mine, err := s.FollowUpWorklist(ctx, w.coordB, ""); err != nil || len(mine.Items) != 0 || mine.CentreID != w.CentreB {
			t.Errorf("coordinator B's worklist: %+v, %v; want theirs, empty", mine, err)
		}
		if _, err := s.FollowUpWorklist(ctx, w.coordB, w.CentreA); ruleOf(err) != "own_centre" {
			t.Errorf("coordinator B reading centre A's worklist: %v", err)
		}
		over, err := s.CentreOverdueFollowUps(ctx, w.auditor, w.CentreA, daysAgo(30), daysAgo(-1))
		must(err)
		if len(over) != 1 || over[0].SubjectID != a1 || over[0].DueMonth != 12 {
			t.Errorf("overdue follow-ups of centre A this month: %+v, want A1's month 12", over)
		}
		// Later on the clock: two years and ten days after today, w.done's
		// 6 and 12-month follow-ups are overdue and its 24-month one due.
		s.Now = func() time.Time { return time.Now().AddDate(2, 0, 10) }
		later, err := s.FollowUpWorklist(ctx, w.coordA, "")
		must(err)
		s.Now = nil
		var doneStates []string
		for _, o := range later.Items {
			if o.SubjectID == w.done {
				doneStates = append(doneStates, fmt.Sprintf("%d:%s", o.DueMonth, o.State))
			}
		}
		if fmt.Sprint(doneStates) != "[6:overdue 12:overdue 24:due]" {
			t.Errorf("w.done's occasions two years on: %v", doneStates)
		}

		// The share on time: A1's 6 and A4's 6 on time, A1's 12 missing, A3's
		// 6 late; nothing after A4's death.
		tl, err := s.FollowUpTimeliness(ctx, w.regulator, "", daysAgo(1000), daysAgo(0))
		must(err)
		if len(tl.Centres) != 1 {
			t.Fatalf("timeliness: %+v, want centre A alone", tl.Centres)
		}
		if c := tl.Centres[0]; c.CentreID != w.CentreA || c.Closed != 4 || c.OnTime != 2 || c.Late != 1 || c.Missing != 1 || int(c.Share) != 50 {
			t.Errorf("timeliness of centre A: %+v, want 4 closed, 2 on time, 1 late, 1 missing (50%%)", c)
		}

		// Travel for transplantation in the year of A1 (the GODT's count).
		y := time.Now().UTC().AddDate(0, 0, -400).Year()
		tr, err := transplant.TravelForTransplantation(ctx, s.DB.Read(), "TR", y)
		must(err)
		wantTR := 0
		for _, ago := range []int{400, 300, 800} {
			if time.Now().UTC().AddDate(0, 0, -ago).Year() == y {
				wantTR++
			}
		}
		if tr.Transplants != wantTR || tr.ByOrgan["kidney"] != wantTR || tr.PaymentsReported != wantTR || tr.LivingDonations != 0 {
			t.Errorf("travel to TR in %d: %+v, want %d kidney transplants, all paid", y, tr, wantTR)
		}
		// The recipient trace shows nothing abroad for w.done; the records
		// are in the centre's list, without personal data in the trace.
		recs, err := s.AbroadRecords(ctx, w.coordA, "")
		must(err)
		if len(recs) != 4 {
			t.Errorf("centre A's records abroad: %d, want 4", len(recs))
		}
		if _, err := s.TravelReport(ctx, w.coordA, 2020, 2030); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("a coordinator reading the travel report: %v", err)
		}
	})
}

// TestEquityReport builds a waiting list of known counts and checks the
// equity report cell by cell, on SQLite and PostgreSQL: without suppression
// (threshold 1), then with the default threshold, where the small counts
// are suppressed.
func TestEquityReport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newRuleWorld(t, dsn)
		s := w.svc
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		// The ruleWorld's registrations: four men listed 2024-01-01, resident
		// (XA), born 1970 (45-54 at listing), no region: w.done transplanted;
		// waitingKidney, waitingKidneyB, waitingLiverB waiting. Add:
		// six women of region XA-NO aged 30 at listing, waiting (one of them
		// then suspended, still waiting); two non-resident women (FR) with no
		// region aged 70, one died waiting, one removed; and one of the
		// ruleWorld's men transplanted abroad.
		add := func(sex, residence, region, dob string) string {
			in := recipient(w.CentreA, "kidney")
			in.Sex, in.Residence, in.Region, in.DateOfBirth, in.ListedOn = sex, residence, region, dob, "2024-03-01"
			r, err := s.RegisterRecipient(ctx, w.coordA, in)
			must(err)
			return r.ID
		}
		var women []string
		for i := range 6 {
			women = append(women, add("female", "XA", "xa-no", fmt.Sprintf("1993-0%d-01", i+1)))
		}
		_, err := s.ChangeWaitlistStatus(ctx, w.coordA, women[0], transplant.NewWaitlistChange{Status: transplant.WaitlistSuspended, Reason: "temporarily_unfit", ChangedOn: "2024-06-01"})
		must(err)
		died, removed := add("female", "FR", "", "1953-05-01"), add("female", "FR", "", "1953-06-01")
		_, err = s.ChangeWaitlistStatus(ctx, w.coordA, died, transplant.NewWaitlistChange{Status: transplant.WaitlistDiedWaiting, Reason: "none", ChangedOn: "2024-09-01"})
		must(err)
		_, err = s.ChangeWaitlistStatus(ctx, w.coordA, removed, transplant.NewWaitlistChange{Status: transplant.WaitlistRemoved, Reason: "too_ill", ChangedOn: "2024-09-01"})
		must(err)
		in := abroadIn(w.CentreA, 100)
		in.RecipientID = w.waitingKidney
		_, err = s.RecordAbroad(ctx, w.coordA, in)
		must(err)
		// The registration transplanted abroad is closed.
		if _, err := s.ChangeWaitlistStatus(ctx, w.coordA, w.waitingKidney, transplant.NewWaitlistChange{Status: transplant.WaitlistRemoved, Reason: "other", ChangedOn: daysAgo(0)}); ruleOf(err) != "waitlist_closed" {
			t.Errorf("a status change after a transplant abroad: %v", err)
		}

		now := time.Now().UTC()
		wait := (now.Year()*12 + int(now.Month())) - (2024*12 + 1)
		f := transplant.EquityFilter{From: "2024-01-01", End: "2025-01-01"}
		s.Cfg.DisclosureThreshold = 1
		e, err := s.EquityReport(ctx, w.regulator, f)
		must(err)
		// outcomes: transplanted, transplanted_abroad, died_waiting, removed, waiting
		want := map[string]map[string][]int{
			"sex":       {"female": {0, 0, 1, 1, 6}, "male": {1, 1, 0, 0, 2}, "unknown": {0, 0, 0, 0, 0}},
			"age_band":  {"25-34": {0, 0, 0, 0, 6}, "45-54": {1, 1, 0, 0, 2}, "65+": {0, 0, 1, 1, 0}, "0-17": {0, 0, 0, 0, 0}},
			"region":    {"XA-NO": {0, 0, 0, 0, 6}, "unknown": {1, 1, 1, 1, 2}},
			"residency": {"resident": {1, 1, 0, 0, 8}, "non_resident": {0, 0, 1, 1, 0}},
		}
		for _, tb := range e.Tables {
			for cat, cells := range want[tb.Breakdown] {
				i := index(tb.Counts.Rows, cat)
				if i < 0 {
					t.Errorf("%s: no category %s in %v", tb.Breakdown, cat, tb.Counts.Rows)
					continue
				}
				for j, n := range cells {
					if c := tb.Counts.Cells[i][j]; c.Suppressed || c.Value != n {
						t.Errorf("%s %s %s: %v, want %d", tb.Breakdown, cat, transplant.EquityOutcomes[j], c, n)
					}
				}
			}
			if tb.Counts.Total.Value != 12 {
				t.Errorf("%s: total %v, want 12 registrations", tb.Breakdown, tb.Counts.Total)
			}
		}
		if sex := e.Tables[0]; sex.MedianWait[index(sex.Counts.Rows, "male")] != wait || sex.MedianWait[index(sex.Counts.Rows, "female")] != -1 {
			t.Errorf("median waits by sex: %v over %v, want %d for men and none for women", sex.MedianWait, sex.Counts.Rows, wait)
		}
		// With the default threshold (5), the counts of 1 to 4 go, and the
		// wait of a category whose transplanted count is suppressed.
		s.Cfg.DisclosureThreshold = 0
		e, err = s.EquityReport(ctx, w.regulator, f)
		must(err)
		res := e.Tables[3]
		if c := res.Counts.Cells[index(res.Counts.Rows, "resident")][4]; c.Suppressed || c.Value != 8 {
			t.Errorf("resident waiting, threshold %d: %v, want 8 published", disclosure.DefaultThreshold, c)
		}
		if c := res.Counts.Cells[index(res.Counts.Rows, "non_resident")][2]; !c.Suppressed {
			t.Errorf("non-resident died waiting (1): %v, want it suppressed", c)
		}
		if res.MedianWait[index(res.Counts.Rows, "resident")] != -1 {
			t.Errorf("the median wait of residents rests on one transplantation: published %d", res.MedianWait[0])
		}
		if _, err := s.EquityReport(ctx, w.coordA, f); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("a coordinator reading the equity report: %v", err)
		}
		if _, err := s.EquityReport(ctx, w.regulator, transplant.EquityFilter{From: "2025-01-01", End: "2024-01-01"}); ruleOf(err) != "dates_in_order" {
			t.Errorf("a period that ends before it starts: %v", err)
		}
	})
}

func index(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// TestAbroadRecordedOnce records a resident's transplant abroad and then the
// same procedure again, as a second source (an insurer after the patient)
// would report it, on SQLite and PostgreSQL: the second is refused, so that
// the per-country report and the GODT's travel figure count the procedure
// once; another organ, or another day, of the same person is recorded, and
// another centre is not told of the first centre's record, which the
// reports (GODT travel, per country) count once with it, its payment
// included.
func TestAbroadRecordedOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newRuleWorld(t, dsn)
		in := abroadIn(w.CentreA, 100)
		if _, err := w.svc.RecordAbroad(ctx, w.coordA, in); err != nil {
			t.Fatal(err)
		}
		again := in
		again.KnownThrough, again.Name = "insurer", "  "+in.Name
		_, err := w.svc.RecordAbroad(ctx, w.coordA, again)
		if errs.CodeOf(err) != errs.Conflict || ruleOf(err) != "abroad_recorded" || fieldOf(err) != "performed_on" {
			t.Errorf("the same procedure recorded twice: %v; want refused (abroad_recorded, performed_on)", err)
		}
		// Another centre's coordinator is not told of centre A's record.
		atB := in
		atB.CentreID, atB.PaymentReported = w.CentreB, "no"
		if _, err := w.svc.RecordAbroad(ctx, w.coordB, atB); ruleOf(err) == "abroad_recorded" {
			t.Errorf("centre B learns of centre A's record: %v", err)
		}
		other := in
		other.Organ = "liver"
		if _, err := w.svc.RecordAbroad(ctx, w.coordA, other); err != nil {
			t.Errorf("another organ of the same person: %v", err)
		}
		later := in
		later.PerformedOn, later.ReturnedOn = daysAgo(50), daysAgo(40)
		if _, err := w.svc.RecordAbroad(ctx, w.coordA, later); err != nil {
			t.Errorf("another procedure of the same person: %v", err)
		}
		// Centre A's procedure once: centre B's record of it (same person,
		// kind, organ and day; no payment reported there) is the same
		// procedure, and A's reported payment counts (docs/oversight.md).
		year, want := in.PerformedOn[:4], 1
		if later.PerformedOn[:4] == year {
			want++
		}
		y, _ := strconv.Atoi(year)
		tr, err := transplant.TravelForTransplantation(ctx, w.App.DB.Read(), "TR", y)
		if err != nil {
			t.Fatal(err)
		}
		if n := tr.ByOrgan["kidney"]; n != want {
			t.Errorf("%d kidney transplants abroad counted in %s, want %d: a procedure recorded by two centres once", n, year, want)
		}
		if tr.PaymentsReported != tr.Transplants {
			t.Errorf("%d of %d transplants abroad with a payment reported, want all: centre A reported one", tr.PaymentsReported, tr.Transplants)
		}
		w.svc.Cfg.DisclosureThreshold = 1 // suppresses nothing: the counts themselves are checked
		rep, err := w.svc.TravelReport(ctx, w.regulator, y, y+1)
		if err != nil {
			t.Fatal(err)
		}
		if i, j := index(rep.Table.Rows, "TR"), index(rep.Table.Cols, "transplant_kidney"); i < 0 || j < 0 {
			t.Errorf("per-country report of %d: rows %v, columns %v; want TR and transplant_kidney", y, rep.Table.Rows, rep.Table.Cols)
		} else if got := rep.Table.Cells[i][j]; got.Suppressed || got.Value != want {
			t.Errorf("per-country report of %d counts %s kidney transplants in TR, want %d", y, got, want)
		}
		if i := index(rep.Payments.Rows, "TR"); i < 0 || rep.Payments.Cells[i][0].Value != tr.Transplants || rep.Payments.Cells[i][1].Value != 0 {
			t.Errorf("per-country payments of %d: %+v; want %d with a payment reported (every organ), none without", y, rep.Payments, tr.Transplants)
		}
	})
}

// TestAbroadScreening records residents treated abroad, on SQLite and
// PostgreSQL: a payment reported, and an unrelated living donor of another
// or an unknown nationality, each raise an alert for the regulator naming the
// rule and the field, once, from the centre that recorded it; a related
// donor and no payment raise none, nor does a living donation abroad.
func TestAbroadScreening(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newRuleWorld(t, dsn)
		alerts := func() []string {
			t.Helper()
			rows, err := w.App.DB.Read().Query(ctx, "SELECT rule, field, authority_id FROM alerts WHERE command = 'screen for trafficking indicators' ORDER BY log_index")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var out []string
			for rows.Next() {
				var r, f, a string
				if err := rows.Scan(&r, &f, &a); err != nil {
					t.Fatal(err)
				}
				out = append(out, r+"/"+f+"@"+a)
			}
			return out
		}
		quiet := abroadIn(w.CentreA, 100)
		quiet.DonorRelation, quiet.PaymentReported = "related", "no"
		if _, err := w.svc.RecordAbroad(ctx, w.coordA, quiet); err != nil {
			t.Fatal(err)
		}
		donation := abroadIn(w.CentreA, 90)
		donation.Kind, donation.DonorRelation = transplant.AbroadLivingDonation, "unrelated"
		if _, err := w.svc.RecordAbroad(ctx, w.coordA, donation); err != nil {
			t.Fatal(err)
		}
		if got := alerts(); len(got) != 0 {
			t.Fatalf("alerts %v, want none", got)
		}
		if _, err := w.svc.RecordAbroad(ctx, w.coordA, abroadIn(w.CentreA, 80)); err != nil {
			t.Fatal(err)
		}
		want := []string{"trafficking_abroad_payment/payment_reported@" + w.CentreA, "trafficking_abroad_unrelated_donor/donor_relation@" + w.CentreA}
		if got := alerts(); !slices.Equal(got, want) {
			t.Errorf("alerts %v, want %v", got, want)
		}
	})
}
