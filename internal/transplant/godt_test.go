package transplant_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// godtWorld is a registry whose clock the test sets, with centre A
// authorized to procure and transplant every organ type, and the helpers
// that record a history at the clock's time.
type godtWorld struct {
	*apptest.World
	t                         *testing.T
	svc                       *transplant.Service
	coord, regulator, auditor *auth.Principal
	mu                        sync.Mutex
	now                       time.Time
}

func newGODTWorld(t *testing.T, dsn string, start time.Time) *godtWorld {
	t.Helper()
	w := &godtWorld{t: t, now: start}
	w.World = apptest.NewWorldWith(t, dsn, func(c *server.Config) { c.Now = w.clock })
	w.svc = w.App.Transplant
	w.coord, w.regulator, w.auditor = w.Principal(t, w.CoordA), w.Principal(t, w.Regulator), w.Principal(t, w.Auditor)
	for _, act := range transplant.Activities {
		for _, o := range []string{"heart", "lung", "pancreas", "intestine"} {
			_, err := w.svc.AuthorizeCentre(context.Background(), w.regulator, w.CentreA,
				transplant.NewCentreAuthorization{Activity: act, Organ: o, ValidFrom: "2020-01-01"})
			w.must(err)
		}
	}
	return w
}

func (w *godtWorld) clock() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.now
}

func (w *godtWorld) set(t time.Time) {
	w.mu.Lock()
	w.now = t
	w.mu.Unlock()
}

func (w *godtWorld) must(err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
}

// at is the clock's time h hours before now, in RFC 3339.
func (w *godtWorld) at(h int) string {
	return w.clock().Add(-time.Duration(h) * time.Hour).Format(time.RFC3339)
}

// donor registers a donor of kind with its consent, and procures organs
// from them: it returns the donor and the organs' identifiers.
func (w *godtWorld) donor(kind string, organs ...string) (string, []string) {
	w.t.Helper()
	ctx := context.Background()
	yesterday := w.clock().AddDate(0, 0, -1).Format(transplant.DateLayout)
	in := deceasedDonor(w.CentreA)
	in.Kind, in.DateOfDeath = kind, yesterday
	consent := transplant.NewConsent{Kind: transplant.ConsentFamily, GivenOn: yesterday, AssessedBy: "Donation coordinator",
		AssessorIndependent: true, Voluntary: true, Informed: true}
	if kind == transplant.DonorLiving {
		in.CauseOfDeath, in.DateOfDeath, consent.Kind = "", "", transplant.ConsentLiving
	}
	d, err := w.svc.RegisterDonor(ctx, w.coord, in)
	w.must(err)
	_, err = w.svc.RecordConsent(ctx, w.coord, d.ID, consent)
	w.must(err)
	if len(organs) == 0 {
		return d.ID, nil
	}
	pr, err := w.svc.RecordProcurement(ctx, w.coord, transplant.NewProcurement{DonorID: d.ID, ProcuredAt: w.at(10), Organs: organs})
	w.must(err)
	var ids []string
	for _, o := range pr.Organs {
		ids = append(ids, o.ID)
	}
	return d.ID, ids
}

// recipient registers a recipient at centre A and authorizes each organ
// for them.
func (w *godtWorld) recipient(organs ...string) string {
	w.t.Helper()
	ctx := context.Background()
	needed := "kidney"
	if len(organs) > 0 {
		o, err := w.svc.TraceOrgan(ctx, w.auditor, organs[0])
		w.must(err)
		for _, x := range o.Donors[0].Organs {
			if x.ID == organs[0] {
				needed = x.Organ
			}
		}
	}
	r, err := w.svc.RegisterRecipient(ctx, w.coord, recipient(w.CentreA, needed))
	w.must(err)
	for _, o := range organs {
		_, err := w.svc.AuthorizeTransplant(ctx, w.coord, authorization(o, r.ID, w.CentreA))
		w.must(err)
	}
	return r.ID
}

// transplant records one organ into a new recipient, recorded alone.
func (w *godtWorld) transplant(organ string) string {
	w.t.Helper()
	r := w.recipient(organ)
	_, err := w.svc.RecordTransplant(context.Background(), w.coord, transplant.NewTransplant{OrganID: organ, RecipientID: r,
		CentreID: w.CentreA, PerformedAt: w.at(1)})
	w.must(err)
	return r
}

// procedure records a procedure of kind with organs into a new recipient;
// with domino, the recipient consents to donating their explanted liver.
func (w *godtWorld) procedure(kind string, domino bool, organs ...string) (*transplant.Procedure, string) {
	w.t.Helper()
	r := w.recipient(organs...)
	in := transplant.NewProcedure{Kind: kind, OrganIDs: organs, RecipientID: r, CentreID: w.CentreA, PerformedAt: w.at(1), DominoLiver: domino}
	if domino {
		in.DominoConsent = w.dominoConsent()
	}
	pr, err := w.svc.RecordProcedure(context.Background(), w.coord, in)
	w.must(err)
	return pr, r
}

// dominoConsent is a domino donor's valid consent, given the day before.
func (w *godtWorld) dominoConsent() *transplant.NewConsent {
	return &transplant.NewConsent{Kind: transplant.ConsentLiving, GivenOn: w.clock().AddDate(0, 0, -1).Format(transplant.DateLayout),
		AssessedBy: "Independent living donor advocate", AssessorIndependent: true, Voluntary: true, Informed: true}
}

func (w *godtWorld) discard(organ string) {
	w.t.Helper()
	_, err := w.svc.RecordDisposition(context.Background(), w.coord, transplant.NewDisposition{OrganID: organ, Outcome: transplant.DispositionDiscarded,
		Reason: "organ_quality", DisposedAt: w.at(2)})
	w.must(err)
}

// godtHistory is what godtWorld.history records, for the tests to follow.
type godtHistory struct {
	doubleKidney, dominoProc, heartLung *transplant.Procedure
	firstRecipient, dominoRecipient     string // the domino donor-recipient, and the recipient of their liver
	dominoOrgan                         string
	deceased                            string // the donor of the double kidney, the domino procedure's liver and the heart-lung
}

// history records a year of activity with known GODT counts: one donor in
// 2024 (kidney transplanted), then in June 2025:
//
//	D1 DBD: double kidney; liver (single procedure, domino) whose explant goes to
//	        a second recipient; heart and both lungs (heart-lung); pancreas discarded;
//	        small bowel recorded alone
//	D2 DCD: kidney-pancreas; the other kidney recorded alone
//	D3 DCD: liver-kidney; the pancreas recorded alone (a solitary pancreas)
//	D4 DBD: a kidney procured and discarded (actual, not utilized)
//	D5 DBD: registered, nothing procured (not an actual donor)
//	L1, L2, L3 living: kidney, liver, lung, each recorded alone
func (w *godtWorld) history() godtHistory {
	var h godtHistory
	w.set(time.Date(2024, 11, 10, 12, 0, 0, 0, time.UTC))
	_, o := w.donor(transplant.DonorBrainDeath, "kidney")
	w.transplant(o[0])

	w.set(time.Date(2025, 6, 15, 12, 0, 0, 0, time.UTC))
	var d1 []string
	h.deceased, d1 = w.donor(transplant.DonorBrainDeath, "kidney", "kidney", "liver", "heart", "lung", "lung", "pancreas", "intestine")
	h.doubleKidney, _ = w.procedure(transplant.ProcedureDoubleKidney, false, d1[0], d1[1])
	h.dominoProc, h.firstRecipient = w.procedure(transplant.ProcedureSingle, true, d1[2])
	h.dominoOrgan = h.dominoProc.Domino.Procurement.Organs[0].ID
	h.dominoRecipient = w.transplant(h.dominoOrgan)
	h.heartLung, _ = w.procedure(transplant.ProcedureHeartLung, false, d1[3], d1[4], d1[5])
	w.discard(d1[6])
	w.transplant(d1[7])

	_, d2 := w.donor(transplant.DonorCirculatoryDeath, "kidney", "kidney", "pancreas")
	w.procedure(transplant.ProcedureKidneyPancreas, false, d2[0], d2[2])
	w.transplant(d2[1])
	_, d3 := w.donor(transplant.DonorCirculatoryDeath, "liver", "kidney", "pancreas")
	w.procedure(transplant.ProcedureLiverKidney, false, d3[0], d3[1])
	w.transplant(d3[2])
	_, d4 := w.donor(transplant.DonorBrainDeath, "kidney")
	w.discard(d4[0])
	w.donor(transplant.DonorBrainDeath)
	for _, organ := range []string{"kidney", "liver", "lung"} {
		_, l := w.donor(transplant.DonorLiving, organ)
		w.transplant(l[0])
	}
	// Residents treated abroad: two transplants in 2025 (travel counts
	// them), a living donation abroad (not a transplant a resident
	// received) and a transplant of 2024 (another year).
	for i, a := range []struct{ kind, on string }{{transplant.AbroadTransplant, "2025-03-01"}, {transplant.AbroadTransplant, "2025-05-20"},
		{transplant.AbroadLivingDonation, "2025-04-02"}, {transplant.AbroadTransplant, "2024-07-01"}} {
		in := transplant.NewAbroad{Kind: a.kind, CentreID: w.CentreA, Name: "Travelling Patient (synthetic)", NationalID: fmt.Sprintf("XA00000098%d", i),
			Sex: "female", DateOfBirth: "1970-02-03", Country: "TR", ForeignCentre: "Private clinic (synthetic)", Organ: "kidney",
			PerformedOn: a.on, KnownThrough: "returning_patient", DonorType: "living", DonorRelation: "unrelated", DonorNationality: "unknown",
			PaymentReported: "yes", MedicalRecords: "no"}
		if _, err := w.svc.RecordAbroad(context.Background(), w.coord, in); err != nil {
			w.t.Fatalf("abroad %d: %v", i, err)
		}
	}
	return h
}

// godt2025 is what the GODT report of 2025 counts from history, field by
// field (travel: the residents' two transplants abroad in 2025).
var godt2025 = map[string]int64{
	"total_actual_dd": 4, "actual_dbd": 2, "actual_dcd": 2,
	"total_utilized_dd": 3, "utilized_dbd": 1, "utilized_dcd": 2,
	"living_donors": 3,
	// double kidney 1, kidney-pancreas 1, D2's other kidney 1, liver-kidney 1
	"dd_kidney_tx": 4, "ld_kidney_tx": 1, "total_kidney_tx": 5,
	"dd_liver_tx": 2, "domino_liver_tx": 1, "ld_liver_tx": 1, "total_liver_tx": 4,
	"total_heart_tx": 1, "heart_lung_tx": 1,
	"dd_lung_tx": 1, "ld_lung_tx": 1, "total_lung_tx": 2,
	// the kidney-pancreas counts inside pancreas_tx (with D3's solitary
	// pancreas), as kidney_pancreas_tx, and its kidney in dd_kidney_tx
	"pancreas_tx": 2, "kidney_pancreas_tx": 1, "small_bowel_tx": 1,
	"travel": 2,
}

// TestGODTReport builds a history with known counts, multi-organ and domino
// procedures included, and checks the GODT report cell by cell, as JSON
// and as the CSV export, on SQLite and PostgreSQL.
func TestGODTReport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newGODTWorld(t, dsn, time.Date(2024, 11, 1, 0, 0, 0, 0, time.UTC))
		w.history()
		const population = 5_000_000
		rep, err := w.svc.GODT(ctx, w.regulator, transplant.GODTQuery{Country: "XA", Year: 2025, Population: population})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Figures) != len(transplant.GODTFields) {
			t.Fatalf("%d figures, want %d", len(rep.Figures), len(transplant.GODTFields))
		}
		for i, f := range rep.Figures {
			if f.Field != transplant.GODTFields[i] {
				t.Errorf("figure %d is %s, want %s", i, f.Field, transplant.GODTFields[i])
			}
			want, ok := godt2025[f.Field]
			if !ok {
				t.Errorf("field %s has no expected count", f.Field)
				continue
			}
			if f.Value == nil || *f.Value != want {
				t.Errorf("%s = %v, want %d", f.Field, f.Value, want)
				continue
			}
			if pmp := float64(want) / 5; f.PerMillion == nil || *f.PerMillion != pmp {
				t.Errorf("%s per million = %v, want %.2f", f.Field, f.PerMillion, pmp)
			}
		}
		// The kidney-pancreas, in so many words: inside pancreas_tx beside
		// the solitary pancreas, once as kidney_pancreas_tx, and its kidney
		// among the deceased donors' kidney transplants.
		if rep.Value("pancreas_tx") != rep.Value("kidney_pancreas_tx")+1 || rep.Value("kidney_pancreas_tx") != 1 ||
			rep.Value("dd_kidney_tx") != 4 {
			t.Errorf("kidney-pancreas: pancreas_tx %d, kidney_pancreas_tx %d, dd_kidney_tx %d; want 2, 1, 4",
				rep.Value("pancreas_tx"), rep.Value("kidney_pancreas_tx"), rep.Value("dd_kidney_tx"))
		}
		// The year before holds its own donor and transplant, and one
		// resident's transplant abroad.
		prev, err := w.svc.GODT(ctx, w.auditor, transplant.GODTQuery{Country: "XA", Year: 2024, Population: population})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range transplant.GODTFields {
			want := int64(0)
			switch f {
			case "total_actual_dd", "actual_dbd", "total_utilized_dd", "utilized_dbd", "dd_kidney_tx", "total_kidney_tx", "travel":
				want = 1
			}
			if got := prev.Value(f); got != want {
				t.Errorf("2024 %s = %d, want %d", f, got, want)
			}
		}

		// The API's JSON and the CSV export give the same cells.
		w.set(time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC))
		q := "/api/v1/transplant/godt?country=XA&year=2025&population=5000000"
		res := w.Must(t, 200, "GET", q, w.Regulator, nil)
		var api transplant.GODTReport
		if err := json.Unmarshal(res.Raw, &api); err != nil {
			t.Fatal(err)
		}
		if api.Value("dd_kidney_tx") != 4 || api.Value("domino_liver_tx") != 1 || api.Population != population {
			t.Errorf("API report %+v", api)
		}
		res = w.Must(t, 200, "GET", q+"&format=csv", w.Auditor, nil)
		cr := csv.NewReader(strings.NewReader(string(res.Raw)))
		cr.FieldsPerRecord = -1
		lines, err := cr.ReadAll()
		if err == nil {
			err = checkGODTCSV(lines)
		}
		if err != nil {
			t.Fatalf("%v\n%s", err, res.Raw)
		}
		// A coordinator reads no national figures.
		w.Must(t, 403, "GET", q, w.CoordA, nil)
	})
}

// checkGODTCSV checks the rows of the CSV export against godt2025.
func checkGODTCSV(lines [][]string) error {
	start := -1
	for i, l := range lines {
		if strings.Join(l, ",") == strings.Join(transplant.GODTColumns, ",") {
			start = i + 1
		}
	}
	if start < 0 {
		return fmt.Errorf("no column header")
	}
	rows := 0
	for _, l := range lines[start:] {
		if l[0] == "rows" {
			break
		}
		rows++
		if l[0] != "XA" || l[1] != "2025" || l[2] != "5000000" {
			return fmt.Errorf("row %v", l)
		}
		want := godt2025[l[3]]
		if l[4] != fmt.Sprint(want) || l[5] != fmt.Sprintf("%.2f", float64(want)/5) {
			return fmt.Errorf("row %v, want %d and %.2f", l, want, float64(want)/5)
		}
	}
	if rows != len(transplant.GODTFields) {
		return fmt.Errorf("%d rows, want %d", rows, len(transplant.GODTFields))
	}
	return nil
}

// TestProcedures records multi-organ and domino procedures, checks the
// trace both ways, the refusals of the procedure's rules (each names its
// rule and field and changes nothing), and that the log replays into the
// same tables.
func TestProcedures(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newGODTWorld(t, dsn, time.Date(2024, 11, 1, 0, 0, 0, 0, time.UTC))
		h := w.history()

		// The domino donor-recipient is found by name and date of birth
		// as by national identifier: the recipient's record and the
		// domino donor's, which shares its subject.
		first, err := w.svc.Recipient(ctx, w.auditor, h.firstRecipient)
		w.must(err)
		found, err := w.svc.FindPerson(ctx, w.coord, transplant.PersonQuery{Name: "Test Recipient (synthetic)", DateOfBirth: first.DateOfBirth,
			Purpose: "checking before registering a donor"})
		w.must(err)
		var records []string
		for _, m := range found {
			records = append(records, m.Record+" "+m.Kind)
		}
		if !slices.Contains(records, "donor "+transplant.DonorDomino) || len(found) != 2 {
			t.Errorf("by name, the domino donor-recipient's records: %v, want the recipient and the domino donor", records)
		}

		// Forward from the deceased donor: the two kidneys share one
		// procedure, the liver's procedure names the domino liver.
		tr, err := w.svc.TraceDonor(ctx, w.auditor, h.deceased)
		w.must(err)
		procs := map[string]int{}
		var liver *transplant.TraceTransplant
		for _, o := range tr.Donors[0].Organs {
			if o.Transplant != nil && o.Transplant.Procedure != nil {
				procs[o.Transplant.Procedure.Kind]++
				if o.Organ == "liver" {
					liver = o.Transplant
				}
			}
		}
		if procs[transplant.ProcedureDoubleKidney] != 2 || procs[transplant.ProcedureHeartLung] != 3 || procs[transplant.ProcedureSingle] != 1 {
			t.Errorf("procedures in the donor's trace: %v", procs)
		}
		if liver == nil || liver.Procedure.DominoOrganID != h.dominoOrgan || liver.Recipient.ID != h.firstRecipient {
			t.Fatalf("liver's transplant %+v, want the domino organ %s", liver, h.dominoOrgan)
		}
		// From the domino donor-recipient on to the second recipient.
		tr, err = w.svc.TraceRecipient(ctx, w.auditor, h.firstRecipient)
		w.must(err)
		var dom *transplant.DonorTrace
		for i := range tr.Donors {
			if tr.Donors[i].Donor.Kind == transplant.DonorDomino {
				dom = &tr.Donors[i]
			}
		}
		if len(tr.Donors) != 2 || dom == nil || dom.Donor.Domino == nil || dom.Donor.Domino.RecipientID != h.firstRecipient ||
			len(dom.Organs) != 1 || dom.Organs[0].ID != h.dominoOrgan || dom.Organs[0].Transplant == nil ||
			dom.Organs[0].Transplant.Recipient.ID != h.dominoRecipient {
			t.Fatalf("trace of the domino donor-recipient: %+v", tr)
		}
		// And back from the second recipient's liver to the first recipient.
		tr, err = w.svc.TraceOrgan(ctx, w.auditor, h.dominoOrgan)
		w.must(err)
		if d := tr.Donors[0].Donor; d.Kind != transplant.DonorDomino || d.Domino == nil || d.Domino.RecipientID != h.firstRecipient ||
			d.Domino.ProcedureID != h.dominoProc.ID {
			t.Errorf("trace of the domino liver: donor %+v", d)
		}

		// Refusals.
		_, k := w.donor(transplant.DonorBrainDeath, "kidney", "kidney", "liver", "heart")
		_, k2 := w.donor(transplant.DonorBrainDeath, "kidney", "heart")
		consent := func(c *transplant.NewConsent) func(*transplant.NewProcedure) {
			return func(in *transplant.NewProcedure) { in.DominoConsent = c }
		}
		recordWith := func(kind string, domino bool, set func(*transplant.NewProcedure), recipient string, organs ...string) func() error {
			return func() error {
				in := transplant.NewProcedure{Kind: kind, OrganIDs: organs, RecipientID: recipient,
					CentreID: w.CentreA, PerformedAt: w.at(1), DominoLiver: domino}
				if domino {
					in.DominoConsent = w.dominoConsent()
				}
				if set != nil {
					set(&in)
				}
				_, err := w.svc.RecordProcedure(ctx, w.coord, in)
				return err
			}
		}
		record := func(kind string, domino bool, recipient string, organs ...string) func() error {
			return recordWith(kind, domino, nil, recipient, organs...)
		}
		all, hearts, livers, one := w.recipient(k[0], k[1], k2[0]), w.recipient(k[3], k2[1]), w.recipient(k[2], k[0]), w.recipient(k[0])
		// Registrations closed by an outcome or a transplant abroad, each
		// authorized the liver.
		removed, died := w.recipient(k[2]), w.recipient(k[2])
		_, err = w.svc.ChangeWaitlistStatus(ctx, w.coord, removed, transplant.NewWaitlistChange{Status: transplant.WaitlistRemoved,
			Reason: "condition_improved", ChangedOn: w.clock().Format(transplant.DateLayout)})
		w.must(err)
		_, err = w.svc.ChangeWaitlistStatus(ctx, w.coord, died, transplant.NewWaitlistChange{Status: transplant.WaitlistDiedWaiting,
			Reason: "none", ChangedOn: w.clock().Format(transplant.DateLayout)})
		w.must(err)
		alone := func(recipient, organ string) func() error {
			return func() error {
				_, err := w.svc.RecordTransplant(ctx, w.coord, transplant.NewTransplant{OrganID: organ, RecipientID: recipient,
					CentreID: w.CentreA, PerformedAt: w.at(1)})
				return err
			}
		}
		notIndependent, notVoluntary, late := w.dominoConsent(), w.dominoConsent(), w.dominoConsent()
		notIndependent.AssessorIndependent, notVoluntary.Voluntary = false, false
		late.GivenOn = w.clock().AddDate(0, 0, 1).Format(transplant.DateLayout)
		unborn := w.dominoConsent()
		unborn.GivenOn = "1960-01-01" // the recipients of this test are born in 1970
		for _, c := range []struct {
			name, rule, field string
			alert             bool
			do                func() error
		}{
			{"two hearts in one heart-lung", "procedure_organs", "organ_ids", false, record(transplant.ProcedureHeartLung, false, hearts, k[3], k2[1])},
			{"a liver in a double kidney", "procedure_organs", "organ_ids", false, record(transplant.ProcedureDoubleKidney, false, livers, k[0], k[2])},
			{"one kidney in a double kidney", "procedure_organs", "organ_ids", false, record(transplant.ProcedureDoubleKidney, false, all, k[0])},
			{"en bloc kidneys of two donors", "procedure_one_donor", "organ_ids[1]", false, record(transplant.ProcedureEnBlocKidney, false, all, k[0], k2[0])},
			{"an organ listed twice", "procedure_organs", "organ_ids[1]", false, record(transplant.ProcedureDoubleKidney, false, all, k[0], k[0])},
			{"no organ", "procedure_organs", "organ_ids", false, record(transplant.ProcedureSingle, false, all)},
			{"an unknown kind", "enum", "kind", false, record("triple_kidney", false, all, k[0])},
			{"a domino liver from a kidney recipient", "domino_liver", "domino_liver", false, record(transplant.ProcedureDoubleKidney, true, all, k[0], k[1])},
			{"an organ already transplanted", "organ_available", "organ_ids[0]", true, record(transplant.ProcedureSingle, false, all, h.dominoOrgan)},
			{"an organ not authorized for the recipient", "procedure_authorization", "organ_ids[1]", true,
				record(transplant.ProcedureDoubleKidney, false, one, k[0], k[1])},
			{"a domino liver without the donor's consent", "living_consent", "domino_consent", true,
				recordWith(transplant.ProcedureSingle, true, consent(nil), livers, k[2])},
			{"a domino consent not independently assessed", "living_consent", "domino_consent.assessor_independent", true,
				recordWith(transplant.ProcedureSingle, true, consent(notIndependent), livers, k[2])},
			{"a domino consent not voluntary", "living_consent", "domino_consent.voluntary", true,
				recordWith(transplant.ProcedureSingle, true, consent(notVoluntary), livers, k[2])},
			{"a domino consent of a deceased donation's kind", "consent_kind", "domino_consent.kind", false,
				recordWith(transplant.ProcedureSingle, true, func(in *transplant.NewProcedure) { in.DominoConsent.Kind = transplant.ConsentFamily }, livers, k[2])},
			{"a domino consent given before the recipient was born", "dates_in_order", "domino_consent.given_on", false,
				recordWith(transplant.ProcedureSingle, true, consent(unborn), livers, k[2])},
			{"a domino consent without a domino liver", "domino_consent", "domino_consent", false,
				recordWith(transplant.ProcedureSingle, false, consent(w.dominoConsent()), livers, k[2])},
			{"a procedure on a removed registration", "waitlist_closed", "recipient_id", true, record(transplant.ProcedureSingle, false, removed, k[2])},
			{"a transplant on a died-waiting registration", "waitlist_closed", "recipient_id", true, alone(died, k[2])},
		} {
			size, alerts := w.LogSize(t), alertCount(t, &ruleWorld{World: w.World})
			err := c.do()
			if e := refusalOf(err); e != c.rule+" "+c.field {
				t.Errorf("%s: refusal %q (%v), want rule %s field %s", c.name, e, err, c.rule, c.field)
			}
			wantAlerts := alerts
			if c.alert {
				wantAlerts++
			}
			if got := alertCount(t, &ruleWorld{World: w.World}); got != wantAlerts {
				t.Errorf("%s: %d alerts, want %d", c.name, got, wantAlerts)
			}
			if c.alert {
				size++ // the alert's entry
			}
			if got := w.LogSize(t); got != size {
				t.Errorf("%s: log size %d, want %d", c.name, got, size)
			}
		}

		// A domino consent dated after the procedure (tomorrow) is refused,
		// and the first domino donor's consent is on file as a living
		// donor's.
		if err := recordWith(transplant.ProcedureSingle, true, consent(late), livers, k[2])(); refusalOf(err) != "dates_in_order domino_consent.given_on" {
			t.Errorf("a domino consent given after the procedure: %v", err)
		}
		var kind string
		var independent int
		w.must(w.App.DB.Read().QueryRow(ctx, "SELECT kind, assessor_independent FROM consents WHERE donor_id = ?", h.dominoProc.Domino.Donor.ID).Scan(&kind, &independent))
		if kind != transplant.ConsentLiving || independent != 1 || h.dominoProc.Domino.Consent == nil {
			t.Errorf("the domino donor's consent: %s, independent %d, in the entry %+v", kind, independent, h.dominoProc.Domino.Consent)
		}

		// The log replays into the same tables, the reports' rows included.
		rep, err := ledger.Verify(ctx, w.App.DB, w.App.Projections, ledger.VerifyOptions{})
		w.must(err)
		if !rep.OK() {
			t.Fatalf("log verify: %+v", rep)
		}
	})
}

// refusalOf is an error's rule and field, "" when it is not a refusal.
func refusalOf(err error) string {
	if e, ok := errs.As(err); ok {
		return e.Rule + " " + e.Field
	}
	return ""
}

// TestGODTDonationAcrossNewYear counts a deceased donor whose procurements
// straddle 31 December once, in the year of the first (the donation's),
// and as utilized there when an organ of a later procurement was
// transplanted; the transplant itself counts in the year it was performed.
func TestGODTDonationAcrossNewYear(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newGODTWorld(t, dsn, time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC))
		// A kidney procured at 22:00 on 31 December, discarded; the heart
		// of the same donor procured at 01:00 on 1 January, transplanted.
		donor, kidney := w.donor(transplant.DonorBrainDeath, "kidney")
		w.discard(kidney[0])
		pr, err := w.svc.RecordProcurement(ctx, w.coord, transplant.NewProcurement{DonorID: donor, ProcuredAt: w.at(7), Organs: []string{"heart"}})
		w.must(err)
		w.transplant(pr.Organs[0].ID)
		// A living donor who gave in each year counts in each.
		w.set(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
		living, l1 := w.donor(transplant.DonorLiving, "kidney")
		w.transplant(l1[0])
		w.set(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
		pr, err = w.svc.RecordProcurement(ctx, w.coord, transplant.NewProcurement{DonorID: living, ProcuredAt: w.at(10), Organs: []string{"liver"}})
		w.must(err)
		w.transplant(pr.Organs[0].ID)

		for year, want := range map[int]map[string]int64{
			2025: {"total_actual_dd": 1, "actual_dbd": 1, "total_utilized_dd": 1, "utilized_dbd": 1, "living_donors": 1, "total_heart_tx": 0,
				"ld_kidney_tx": 1, "ld_liver_tx": 0},
			2026: {"total_actual_dd": 0, "actual_dbd": 0, "total_utilized_dd": 0, "utilized_dbd": 0, "living_donors": 1, "total_heart_tx": 1,
				"ld_kidney_tx": 0, "ld_liver_tx": 1},
		} {
			rep, err := w.svc.GODT(ctx, w.regulator, transplant.GODTQuery{Country: "XA", Year: year, Population: 1_000_000})
			if err != nil {
				t.Fatal(err)
			}
			for f, n := range want {
				if got := rep.Value(f); got != n {
					t.Errorf("%d %s = %d, want %d", year, f, got, n)
				}
			}
		}
	})
}

// TestGODTQueryRefusesByName: a parameter the report does not take is
// refused by name, cut and escaped as a refusal repeats what a client
// wrote, and, of two, the first in order each time.
func TestGODTQueryRefusesByName(t *testing.T) {
	long := strings.Repeat("p", 5000) + "\x1b[2J"
	for range 20 {
		_, err := transplant.GODTQueryOf(url.Values{"country": {"XA"}, "year": {"2025"}, "population": {"1"}, "zz": {"1"}, long: {"1"}, "aa": {"1"}})
		e, ok := errs.As(err)
		if !ok || e.Rule != "query" || e.Field != "aa" {
			t.Fatalf("%v, want rule query at aa", err)
		}
	}
	_, err := transplant.GODTQueryOf(url.Values{long: {"1"}})
	if e, ok := errs.As(err); !ok || len(e.Message) > 300 || strings.Contains(e.Message, "\x1b") {
		t.Errorf("a long name with an escape: %q", err)
	}
}
