package transplant_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/page"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// testClock is the world's clock: the time now, moved on when told, so that
// deadlines pass without waiting for them.
type testClock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// vigilWorld is an apptest.World on the test clock with a deceased donor of
// centre A whose two kidneys went to a recipient of centre A and one of
// centre B, and whose liver is procured and waits.
type vigilWorld struct {
	*apptest.World
	clk                                *testClock
	svc                                *transplant.Service
	coordA, coordB, regulator, auditor *auth.Principal
	donor                              string
	kidneyA, kidneyB, liver            string
	rA, rB                             string
}

// procureAtA registers a deceased donor at centre A, with the family's
// consent, and procures organs from them hoursAgo.
func (w *vigilWorld) procureAtA(t *testing.T, hoursAgo int, organs ...string) *transplant.Procurement {
	t.Helper()
	ctx := context.Background()
	d, err := w.svc.RegisterDonor(ctx, w.coordA, deceasedDonor(w.CentreA))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.RecordConsent(ctx, w.coordA, d.ID, transplant.NewConsent{Kind: transplant.ConsentFamily, GivenOn: daysAgo(2),
		AssessedBy: "Donation coordinator", AssessorIndependent: true, Voluntary: true, Informed: true}); err != nil {
		t.Fatal(err)
	}
	pr, err := w.svc.RecordProcurement(ctx, w.coordA, transplant.NewProcurement{DonorID: d.ID, ProcuredAt: apptest.Hours(hoursAgo), Organs: organs})
	if err != nil {
		t.Fatal(err)
	}
	return pr
}

func newVigilWorld(t *testing.T, dsn string) *vigilWorld {
	t.Helper()
	return newVigilWorldWith(t, dsn, nil)
}

// newVigilWorldWith is newVigilWorld with the server's configuration
// changed by tune (when not nil).
func newVigilWorldWith(t *testing.T, dsn string, tune func(*server.Config)) *vigilWorld {
	t.Helper()
	ctx := context.Background()
	clk := &testClock{}
	w := &vigilWorld{World: apptest.NewWorldWith(t, dsn, func(c *server.Config) {
		c.Now = clk.Now
		if tune != nil {
			tune(c)
		}
	}), clk: clk}
	w.svc = w.App.Transplant
	w.coordA, w.coordB = w.Principal(t, w.CoordA), w.Principal(t, w.CoordB)
	w.regulator, w.auditor = w.Principal(t, w.Regulator), w.Principal(t, w.Auditor)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	pr := w.procureAtA(t, 10, "kidney", "kidney", "liver")
	w.donor = pr.DonorID
	w.kidneyA, w.kidneyB, w.liver = pr.Organs[0].ID, pr.Organs[1].ID, pr.Organs[2].ID
	for _, x := range []struct {
		coord       *auth.Principal
		centre, org string
		rc          *string
	}{{w.coordA, w.CentreA, w.kidneyA, &w.rA}, {w.coordB, w.CentreB, w.kidneyB, &w.rB}} {
		r, err := w.svc.RegisterRecipient(ctx, x.coord, recipient(x.centre, "kidney"))
		must(err)
		*x.rc = r.ID
		ta, err := w.svc.AuthorizeTransplant(ctx, x.coord, authorization(x.org, r.ID, x.centre))
		must(err)
		_, err = w.svc.RecordTransplant(ctx, x.coord, transplant.NewTransplant{OrganID: x.org, RecipientID: r.ID, CentreID: x.centre,
			PerformedAt: apptest.Hours(2), AuthorizationID: ta.ID})
		must(err)
	}
	return w
}

// refused checks that err is the refusal code/rule/field, that it wrote
// nothing but its alert (when it has one), and returns nothing.
func (w *vigilWorld) refused(t *testing.T, name string, err error, code errs.Code, rule, field string, alert bool, size int) {
	t.Helper()
	e, ok := errs.As(err)
	if !ok || e.Code != code || e.Rule != rule || e.Field != field || e.Alert != alert {
		t.Fatalf("%s: got %v (%+v), want %s/%s on %q, alert %t", name, err, e, code, rule, field, alert)
	}
	want := size
	if alert {
		want++
	}
	got := w.LogSize(t)
	// A repeat of an alert logged less than a minute ago is counted
	// outside the log, in alert_repeats (ledger.RepeatPeriod).
	if alert && got == size && w.count(t, "SELECT COALESCE(SUM(count), 0) FROM alert_repeats") > 0 {
		return
	}
	if got != want {
		t.Errorf("%s: the log has %d leaves, want %d", name, got, want)
	}
}

func (w *vigilWorld) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := w.App.DB.Read().QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDisposition: an organ not transplanted is discarded or used for
// research by the centre that holds it, once; the registry lists it as
// awaiting a disposition once it is older than --disposition-after, and the
// trace shows what became of it. Each refusal names its rule and field and
// records no disposition.
func TestDisposition(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newVigilWorld(t, dsn)
		s := w.svc
		dispose := func(p *auth.Principal, organ string, f func(*transplant.NewDisposition)) error {
			in := transplant.NewDisposition{OrganID: organ, Outcome: transplant.DispositionDiscarded, Reason: "organ_quality",
				Note: "biopsy: 40% glomerulosclerosis", DisposedAt: apptest.Hours(5)}
			if f != nil {
				f(&in)
			}
			_, err := s.RecordDisposition(ctx, p, in)
			return err
		}
		cases := []struct {
			name        string
			err         func() error
			code        errs.Code
			rule, field string
			alert       bool
		}{
			{"an unknown organ", func() error { return dispose(w.coordA, ghostOrgan(t), nil) }, errs.NotFound, "reference", "organ_id", false},
			{"a mistyped organ identifier", func() error { return dispose(w.coordA, mistyped(w.liver), nil) }, errs.Invalid, "organ_id_check", "organ_id", false},
			{"an organ transplanted", func() error { return dispose(w.coordA, w.kidneyA, nil) }, errs.Conflict, "organ_final", "organ_id", false},
			{"a centre that neither procured nor holds the organ", func() error { return dispose(w.coordB, w.liver, nil) }, errs.Forbidden, "organ_holder", "organ_id", true},
			{"for another centre", func() error {
				return dispose(w.coordA, w.liver, func(d *transplant.NewDisposition) { d.CentreID = w.CentreB })
			}, errs.Forbidden, "own_centre", "centre_id", true},
			{"a regulator", func() error { return dispose(w.regulator, w.liver, nil) }, errs.Forbidden, "role", "", false},
			{"an outcome not in the list", func() error {
				return dispose(w.coordA, w.liver, func(d *transplant.NewDisposition) { d.Outcome = "lost" })
			}, errs.Invalid, "enum", "outcome", false},
			{"a reason not in the list", func() error {
				return dispose(w.coordA, w.liver, func(d *transplant.NewDisposition) { d.Reason = "bad" })
			}, errs.Invalid, "enum", "reason", false},
			{"research without the project", func() error {
				return dispose(w.coordA, w.liver, func(d *transplant.NewDisposition) { d.Outcome, d.Note = transplant.DispositionResearch, " " })
			}, errs.Invalid, "required", "note", false},
			{"another reason without words", func() error {
				return dispose(w.coordA, w.liver, func(d *transplant.NewDisposition) { d.Reason, d.Note = "other", "" })
			}, errs.Invalid, "required", "note", false},
			{"before the procurement", func() error {
				return dispose(w.coordA, w.liver, func(d *transplant.NewDisposition) { d.DisposedAt = apptest.Hours(20) })
			}, errs.Invalid, "dates_in_order", "disposed_at", false},
			{"in the future", func() error {
				return dispose(w.coordA, w.liver, func(d *transplant.NewDisposition) { d.DisposedAt = "2999-01-01T00:00:00Z" })
			}, errs.Invalid, "dates_in_order", "disposed_at", false},
		}
		for _, c := range cases {
			size := w.LogSize(t)
			w.refused(t, c.name, c.err(), c.code, c.rule, c.field, c.alert, size)
			if n := w.count(t, "SELECT COUNT(*) FROM organ_dispositions"); n != 0 {
				t.Fatalf("%s: %d dispositions recorded", c.name, n)
			}
		}

		awaiting := func() []string {
			t.Helper()
			pg, err := s.OrgansAwaitingDisposition(ctx, w.regulator, transplant.ListFilter{})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, o := range pg.Items {
				ids = append(ids, o.ID)
				if o.CentreID != w.CentreA {
					t.Errorf("organ %s is listed with procuring centre %q, want %s", o.ID, o.CentreID, w.CentreA)
				}
			}
			return ids
		}
		// Procured 10 hours ago: not yet awaiting (72 hours by default).
		if got := awaiting(); len(got) != 0 {
			t.Errorf("organs awaiting a disposition 10 hours after procurement: %v, want none", got)
		}
		w.clk.advance(63 * time.Hour)
		if got := awaiting(); len(got) != 1 || got[0] != w.liver {
			t.Errorf("organs awaiting a disposition 73 hours after procurement: %v, want the liver %s", got, w.liver)
		}
		if _, err := s.OrgansAwaitingDisposition(ctx, w.regulator, transplant.ListFilter{Status: "waiting"}); errs.CodeOf(err) != errs.Invalid {
			t.Errorf("a filter the list does not have: %v, want a refusal", err)
		}

		if err := dispose(w.coordA, w.liver, nil); err != nil {
			t.Fatal(err)
		}
		size := w.LogSize(t)
		w.refused(t, "a second disposition", dispose(w.coordA, w.liver, func(d *transplant.NewDisposition) { d.Outcome, d.Note = transplant.DispositionResearch, "study X" }),
			errs.Conflict, "organ_final", "organ_id", false, size)
		if got := awaiting(); len(got) != 0 {
			t.Errorf("organs awaiting a disposition after it: %v, want none", got)
		}
		// A discarded organ is no longer available, nor transplantable.
		avail, err := s.AvailableOrgans(ctx, w.regulator, transplant.ListFilter{})
		if err != nil || len(avail.Items) != 0 {
			t.Errorf("organs available after the liver's discard: %v %v, want none", avail.Items, err)
		}
		o, err := s.Organ(ctx, w.regulator, w.liver)
		if err != nil || o.Status != transplant.DispositionDiscarded {
			t.Errorf("the liver's status: %+v %v, want discarded", o, err)
		}
		// The trace shows it.
		tr, err := s.TraceOrgan(ctx, w.auditor, w.liver)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, x := range tr.Donors[0].Organs {
			if x.ID == w.liver {
				found = true
				if x.Status != "discarded" || x.Disposition == nil || x.Disposition.Reason != "organ_quality" || x.Disposition.Centre.ID != w.CentreA || x.Transplant != nil {
					t.Errorf("the trace shows the liver as %+v (disposition %+v)", x, x.Disposition)
				}
			} else if x.Disposition != nil || x.Status != "transplanted" {
				t.Errorf("the trace shows kidney %s as %+v", x.ID, x)
			}
		}
		if !found {
			t.Error("the trace does not show the liver")
		}
		rep, err := ledger.Verify(ctx, w.App.DB, w.App.Projections, ledger.VerifyOptions{VerifierKey: w.App.Keys.LogKey})
		if err != nil || !rep.OK() {
			t.Fatalf("log verify: %v %v", err, rep)
		}
	})
}

// TestDispositionByTheReceivingCentre: an organ allocated to another centre
// (a per-procedure authorization there) is disposed of by that centre; an
// organ disposed of cannot be authorized or transplanted.
func TestDispositionByTheReceivingCentre(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newVigilWorld(t, dsn)
		s := w.svc
		pr := w.procureAtA(t, 6, "kidney", "kidney")
		k1, k2 := pr.Organs[0].ID, pr.Organs[1].ID
		r, err := s.RegisterRecipient(ctx, w.coordB, recipient(w.CentreB, "kidney"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.AuthorizeTransplant(ctx, w.coordB, authorization(k1, r.ID, w.CentreB)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RecordDisposition(ctx, w.coordB, transplant.NewDisposition{OrganID: k1, Outcome: transplant.DispositionDiscarded,
			Reason: "damaged_in_procurement", DisposedAt: apptest.Hours(1)}); err != nil {
			t.Fatalf("the receiving centre's disposition: %v", err)
		}
		if _, err := s.RecordDisposition(ctx, w.coordA, transplant.NewDisposition{OrganID: k2, Outcome: transplant.DispositionResearch,
			Reason: "no_suitable_recipient", Note: "renal perfusion study, ethics approval EC-2026-17", DisposedAt: apptest.Hours(1)}); err != nil {
			t.Fatalf("research: %v", err)
		}
		size := w.LogSize(t)
		_, err = s.RecordTransplant(ctx, w.coordB, transplant.NewTransplant{OrganID: k1, RecipientID: r.ID, CentreID: w.CentreB, PerformedAt: apptest.Hours(0)})
		w.refused(t, "transplanting a discarded organ", err, errs.Conflict, "organ_available", "organ_id", true, size)
		size = w.LogSize(t)
		_, err = s.AuthorizeTransplant(ctx, w.coordB, authorization(k2, r.ID, w.CentreB))
		w.refused(t, "authorizing an organ used for research", err, errs.Conflict, "organ_available", "organ_id", true, size)
	})
}

// TestSAE: a serious adverse reaction in the recipient of centre B notifies
// both centres that received an organ of the donor; each acknowledges; the
// one that does not is escalated to the regulator once its time has passed;
// the final report is listed as overdue, alerted, and closes the report.
func TestSAE(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newVigilWorld(t, dsn)
		s := w.svc
		in := transplant.NewSAE{Kind: transplant.SAEReaction, DonorID: w.donor, RecipientIDs: []string{w.rB},
			Contact: "Dr. Q, vigilance officer, +00 1 23 45 67", StartedAt: apptest.Hours(1), DetectedAt: apptest.Hours(0),
			Description:       "Donor-derived infection suspected: recipient febrile, blood cultures positive.",
			ImmediateMeasures: "Recipients of the donor's organs to be screened; donor samples retested."}

		// Refusals first: each writes nothing but its alert.
		other, err := s.RegisterRecipient(ctx, w.coordA, recipient(w.CentreA, "kidney"))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name        string
			p           *auth.Principal
			f           func(*transplant.NewSAE)
			code        errs.Code
			rule, field string
		}{
			{"an auditor", w.auditor, nil, errs.Forbidden, "role", ""},
			{"a recipient of another donor", w.regulator, func(x *transplant.NewSAE) { x.RecipientIDs = []string{other.ID} }, errs.Invalid, "recipient_of_donor", "recipient_ids[0]"},
			{"an unknown donor", w.regulator, func(x *transplant.NewSAE) { x.DonorID = "DN-NOPE" }, errs.NotFound, "reference", "donor_id"},
			{"no donor", w.regulator, func(x *transplant.NewSAE) { x.DonorID = "" }, errs.Invalid, "required", "donor_id"},
			{"an organ of another donor", w.regulator, func(x *transplant.NewSAE) { x.OrganID = ghostOrgan(t) }, errs.NotFound, "reference", "organ_id"},
			{"detected before it started", w.regulator, func(x *transplant.NewSAE) { x.DetectedAt = apptest.Hours(3) }, errs.Invalid, "dates_in_order", "detected_at"},
			{"no description", w.regulator, func(x *transplant.NewSAE) { x.Description = "" }, errs.Invalid, "required", "description"},
			{"no contact", w.regulator, func(x *transplant.NewSAE) { x.Contact = "" }, errs.Invalid, "required", "contact"},
			{"a kind not in the list", w.regulator, func(x *transplant.NewSAE) { x.Kind = "incident" }, errs.Invalid, "enum", "kind"},
		} {
			x := in
			if c.f != nil {
				c.f(&x)
			}
			size := w.LogSize(t)
			_, err := s.ReportSAE(ctx, c.p, x)
			w.refused(t, c.name, err, c.code, c.rule, c.field, false, size)
		}
		if n := w.count(t, "SELECT COUNT(*) FROM sae_reports") + w.count(t, "SELECT COUNT(*) FROM notifications"); n != 0 {
			t.Fatalf("refused reports left %d rows", n)
		}

		sae, err := s.ReportSAE(ctx, w.regulator, in)
		if err != nil {
			t.Fatal(err)
		}
		if len(sae.ReportID) != len("XA-SAE-2026-000001") || sae.ReportID[:7] != "XA-SAE-" || sae.ReportID[len(sae.ReportID)-6:] != "000001" {
			t.Errorf("report id %q, want XA-SAE-<year>-000001", sae.ReportID)
		}
		if len(sae.Destinations) != 3 || len(sae.ForeignRegistries) != 0 {
			t.Errorf("destinations %+v, foreign %v: want the donor's 3 organs and no foreign registry", sae.Destinations, sae.ForeignRegistries)
		}
		byCentre := map[string]transplant.Notification{}
		for _, n := range sae.Notifications {
			byCentre[n.CentreID] = n
			if n.AcknowledgedAt != "" {
				t.Errorf("notification %+v is acknowledged: the regulator reported", n)
			}
		}
		if len(byCentre) != 2 || byCentre[w.CentreA].ID == "" || byCentre[w.CentreB].ID == "" {
			t.Fatalf("notifications %+v, want one for centre A and one for centre B", sae.Notifications)
		}
		nA, nB := byCentre[w.CentreA].ID, byCentre[w.CentreB].ID
		open := func(centre, status string) int {
			t.Helper()
			pg, err := s.Notifications(ctx, w.coordA, transplant.ListFilter{CentreID: centre, Status: status})
			if err != nil {
				t.Fatal(err)
			}
			return len(pg.Items)
		}
		if open(w.CentreA, "open") != 1 || open(w.CentreB, "open") != 1 {
			t.Error("each centre should have one open notification")
		}

		// Acknowledgements: by the notified centre only, once.
		size := w.LogSize(t)
		_, err = s.AcknowledgeNotification(ctx, w.coordB, nA)
		w.refused(t, "another centre's notification", err, errs.Forbidden, "own_centre", "notification_id", true, size)
		size = w.LogSize(t)
		_, err = s.AcknowledgeNotification(ctx, w.regulator, nA)
		w.refused(t, "a regulator acknowledging", err, errs.Forbidden, "role", "", false, size)
		size = w.LogSize(t)
		_, err = s.AcknowledgeNotification(ctx, w.coordA, "NT-NOPE")
		w.refused(t, "an unknown notification", err, errs.NotFound, "reference", "notification_id", false, size)
		ack, err := s.AcknowledgeNotification(ctx, w.coordA, nA)
		if err != nil || ack.AcknowledgedAt == "" || ack.AcknowledgedBy != w.coordA.ID {
			t.Fatalf("acknowledge: %+v %v", ack, err)
		}
		size = w.LogSize(t)
		_, err = s.AcknowledgeNotification(ctx, w.coordA, nA)
		w.refused(t, "a second acknowledgement", err, errs.Conflict, "already_acknowledged", "notification_id", false, size)

		// Escalation: nothing within the day; centre B's after it, once.
		if n, err := s.Escalate(ctx); err != nil || n != 0 {
			t.Fatalf("escalate at once: %d %v, want 0", n, err)
		}
		w.clk.advance(s.AcknowledgeWithin() + time.Minute)
		if n, err := s.Escalate(ctx); err != nil || n != 1 {
			t.Fatalf("escalate after a day: %d %v, want 1", n, err)
		}
		if n, err := s.Escalate(ctx); err != nil || n != 0 {
			t.Fatalf("escalate again: %d %v, want 0", n, err)
		}
		if w.count(t, "SELECT COUNT(*) FROM alerts WHERE rule = ? AND authority_id = ? AND field = 'notification_id'", transplant.RuleAcknowledgement, w.CentreB) != 1 {
			t.Error("no alert for the regulator names centre B's unacknowledged notification")
		}
		if open(w.CentreB, "escalated") != 1 || open(w.CentreA, "escalated") != 0 {
			t.Error("centre B's notification should be listed escalated, centre A's not")
		}
		if late, err := s.AcknowledgeNotification(ctx, w.coordB, nB); err != nil || late.EscalatedAt == "" {
			t.Fatalf("a late acknowledgement: %+v %v", late, err)
		}
		if open(w.CentreB, "open") != 0 || open("", "acknowledged") != 2 {
			t.Error("both notifications should be acknowledged")
		}

		// The final report: due in three months, then overdue and alerted.
		overdue := func() int {
			t.Helper()
			pg, err := s.SAEs(ctx, w.auditor, transplant.ListFilter{Status: "overdue"})
			if err != nil {
				t.Fatal(err)
			}
			return len(pg.Items)
		}
		if overdue() != 0 {
			t.Error("a report is overdue on its first day")
		}
		w.clk.advance(93 * 24 * time.Hour)
		if overdue() != 1 {
			t.Error("the report is not listed overdue after three months")
		}
		if n, err := s.Escalate(ctx); err != nil || n != 1 {
			t.Fatalf("escalate the overdue final report: %d %v, want 1", n, err)
		}
		if w.count(t, "SELECT COUNT(*) FROM alerts WHERE rule = ? AND field = 'sae_id' AND authority_id = ?", transplant.RuleFinalReport, w.RegulatorAuthority) != 1 {
			t.Error("no alert of the overdue final report")
		}
		final := transplant.FinalReport{Conclusion: "confirmed", Outcome: "Donor-derived bacteraemia confirmed by typing.",
			CorrectiveActions: "Donor screening protocol amended; recipients treated."}
		size = w.LogSize(t)
		_, err = s.RecordFinalReport(ctx, w.coordB, sae.ID, final)
		w.refused(t, "a final report by another centre", err, errs.Forbidden, "own_centre", "sae_id", true, size)
		size = w.LogSize(t)
		_, err = s.RecordFinalReport(ctx, w.regulator, sae.ID, transplant.FinalReport{Conclusion: "maybe", Outcome: "x", CorrectiveActions: "y"})
		w.refused(t, "a conclusion not in the list", err, errs.Invalid, "enum", "conclusion", false, size)
		closed, err := s.RecordFinalReport(ctx, w.regulator, sae.ID, final)
		if err != nil || closed.State != "closed" || closed.Overdue || closed.Conclusion != "confirmed" {
			t.Fatalf("final report: %+v %v", closed, err)
		}
		size = w.LogSize(t)
		_, err = s.RecordFinalReport(ctx, w.regulator, sae.ReportID, final)
		w.refused(t, "a second final report", err, errs.Conflict, "sae_closed", "sae_id", false, size)
		if overdue() != 0 {
			t.Error("a closed report is listed overdue")
		}
		if pg, err := s.SAEs(ctx, w.auditor, transplant.ListFilter{Status: "closed", ID: sae.ReportID}); err != nil || len(pg.Items) != 1 {
			t.Errorf("the closed report by its report id: %v %v", pg.Items, err)
		}

		// A coordinator's own report: their centre's notification is
		// acknowledged as it is made.
		in.RecipientIDs = []string{w.rA}
		mine, err := s.ReportSAE(ctx, w.coordA, in)
		if err != nil {
			t.Fatal(err)
		}
		// Numbered again from 1 each year (the clock is three months on).
		if want := "XA-SAE-" + w.clk.Now().UTC().Format("2006") + "-"; mine.ReportID == sae.ReportID || mine.ReportID[:len(want)] != want {
			t.Errorf("the second report is %s, the first %s", mine.ReportID, sae.ReportID)
		}
		for _, n := range mine.Notifications {
			if (n.CentreID == w.CentreA) != (n.AcknowledgedAt != "") {
				t.Errorf("notification %+v of centre A's own report", n)
			}
		}
		// Pages: one report a page, in order, then none.
		first, err := s.SAEs(ctx, w.auditor, transplant.ListFilter{Request: page.Request{Limit: 1}})
		if err != nil || len(first.Items) != 1 || first.Items[0].ID != mine.ID || first.Next == "" {
			t.Fatalf("first page: %+v %v", first, err)
		}
		rep, err := ledger.Verify(ctx, w.App.DB, w.App.Projections, ledger.VerifyOptions{VerifierKey: w.App.Keys.LogKey})
		if err != nil || !rep.OK() {
			t.Fatalf("log verify: %v %v", err, rep)
		}
	})
}

// TestTransplantBeforeItsAuthorizationWasRecorded: an authorization given
// on paper and entered after the operation is accepted within 24 hours of
// its stamp, whatever the hour of the day (the rule once compared UTC days,
// which refused an operation at 23:00 authorized at 01:00), and refused
// beyond them, naming the rule and the field and recording nothing.
func TestTransplantBeforeItsAuthorizationWasRecorded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newVigilWorld(t, dsn)
		s := w.svc
		r, err := s.RegisterRecipient(ctx, w.coordA, recipient(w.CentreA, "liver"))
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC()
		w.clk.advance(26 * time.Hour) // the authorization is entered 26 hours on
		ta, err := s.AuthorizeTransplant(ctx, w.coordA, authorization(w.liver, r.ID, w.CentreA))
		if err != nil {
			t.Fatal(err)
		}
		at := func(d time.Duration) transplant.NewTransplant {
			return transplant.NewTransplant{OrganID: w.liver, RecipientID: r.ID, CentreID: w.CentreA,
				PerformedAt: now.Add(d).Format(time.RFC3339), AuthorizationID: ta.ID}
		}
		size := w.LogSize(t)
		_, err = s.RecordTransplant(ctx, w.coordA, at(0)) // 26 hours before the stamp
		w.refused(t, "a transplantation 26 hours before its authorization was recorded", err, errs.Invalid, "dates_in_order", "performed_at", false, size)
		// 23 hours before the stamp: accepted.
		if _, err := s.RecordTransplant(ctx, w.coordA, at(3*time.Hour)); err != nil {
			t.Fatalf("a transplantation 23 hours before its authorization was recorded: %v", err)
		}
	})
}
