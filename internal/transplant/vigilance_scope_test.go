package transplant_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// newSAE is an initial report on donor, the fields every test fills alike.
func newSAE(donor string) transplant.NewSAE {
	return transplant.NewSAE{Kind: transplant.SAEEvent, DonorID: donor, Contact: "Vigilance desk, +00 1 23 45 67",
		StartedAt: apptest.Hours(1), DetectedAt: apptest.Hours(0), Description: "Preservation fluid batch recalled.",
		ImmediateMeasures: "Recipients to be screened."}
}

// TestSAEClosedStopsEscalation: once the final report closes a report, its
// notifications not acknowledged are no longer escalated (no alert, no
// entry), they read as closed before acknowledged, and an acknowledgement
// after the closure is accepted, late; the log's replay gives the tables
// back.
func TestSAEClosedStopsEscalation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newVigilWorld(t, dsn)
		s := w.svc
		sae, err := s.ReportSAE(ctx, w.coordA, newSAE(w.donor))
		if err != nil {
			t.Fatal(err)
		}
		var nB string
		for _, n := range sae.Notifications {
			if n.CentreID == w.CentreB {
				nB = n.ID
			}
			if n.ClosedUnacknowledged || n.ReportClosedAt != "" {
				t.Errorf("notification %+v of an open report reads closed", n)
			}
		}
		if nB == "" {
			t.Fatalf("no notification of centre B: %+v", sae.Notifications)
		}
		closed, err := s.RecordFinalReport(ctx, w.coordA, sae.ID, transplant.FinalReport{Conclusion: "not_confirmed",
			Outcome: "Batch found sterile.", CorrectiveActions: "None needed: the batch was sterile."})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range closed.Notifications {
			want := n.CentreID == w.CentreB // centre A's was acknowledged as it reported
			if n.ClosedUnacknowledged != want || n.ReportClosedAt != closed.FinalReportedAt {
				t.Errorf("notification %+v of the closed report: closed_unacknowledged %t, want %t", n, n.ClosedUnacknowledged, want)
			}
		}

		// A day on, centre B has still not acknowledged: nothing escalates.
		w.clk.advance(s.AcknowledgeWithin() + time.Minute)
		size := w.LogSize(t)
		if n, err := s.Escalate(ctx); err != nil || n != 0 {
			t.Fatalf("escalate after the report closed: %d %v, want 0", n, err)
		}
		if got := w.LogSize(t); got != size {
			t.Errorf("escalating a closed report wrote %d entries", got-size)
		}
		if n := w.count(t, "SELECT COUNT(*) FROM alerts WHERE rule = ?", transplant.RuleAcknowledgement); n != 0 {
			t.Errorf("%d alerts %s after the report closed", n, transplant.RuleAcknowledgement)
		}
		pg, err := s.Notifications(ctx, w.coordB, transplant.ListFilter{CentreID: w.CentreB, Status: "open"})
		if err != nil || len(pg.Items) != 1 || !pg.Items[0].ClosedUnacknowledged || pg.Items[0].EscalatedAt != "" {
			t.Fatalf("centre B's open notifications: %+v %v, want one, closed before acknowledged, not escalated", pg.Items, err)
		}

		// Acknowledged after the closure: accepted, and still reads so.
		ack, err := s.AcknowledgeNotification(ctx, w.coordB, nB)
		if err != nil || ack.AcknowledgedAt == "" || !ack.ClosedUnacknowledged {
			t.Fatalf("an acknowledgement after the closure: %+v %v", ack, err)
		}
		if n, err := s.Escalate(ctx); err != nil || n != 0 {
			t.Fatalf("escalate again: %d %v", n, err)
		}
		rep, err := ledger.Verify(ctx, w.App.DB, w.App.Projections, ledger.VerifyOptions{VerifierKey: w.App.Keys.LogKey})
		if err != nil || !rep.OK() {
			t.Fatalf("log verify: %v %v", err, rep)
		}
	})
}

// TestSAEReporterScope: a coordinator reports only on a donor whose organ
// their centre procured, transplanted or was allocated; another centre is
// refused own_centre at the field that named the donor, with an alert,
// and nothing recorded. The regulator reports on any donor.
func TestSAEReporterScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newVigilWorld(t, dsn)
		s := w.svc
		// A second donor of centre A, whose kidney waits: centre B had none
		// of its organs.
		pr := w.procureAtA(t, 5, "kidney")
		kidney := pr.Organs[0].ID

		byDonor, byOrgan := newSAE(pr.DonorID), newSAE("")
		byOrgan.OrganID = kidney
		for _, c := range []struct {
			name  string
			in    transplant.NewSAE
			field string
		}{{"by the donor", byDonor, "donor_id"}, {"by the organ", byOrgan, "organ_id"}} {
			size := w.LogSize(t)
			_, err := s.ReportSAE(ctx, w.coordB, c.in)
			w.refused(t, "centre B reports "+c.name, err, errs.Forbidden, "own_centre", c.field, true, size)
			if e, _ := errs.As(err); e == nil || !strings.Contains(e.Error(), w.CentreB) {
				t.Errorf("the refusal %v does not name centre B", err)
			}
		}
		if n := w.count(t, "SELECT COUNT(*) FROM sae_reports") + w.count(t, "SELECT COUNT(*) FROM notifications"); n != 0 {
			t.Fatalf("refused reports left %d rows", n)
		}
		if n := w.count(t, "SELECT COUNT(*) FROM alerts WHERE rule = 'own_centre' AND authority_id = ?", w.CentreB); n == 0 {
			t.Error("no alert of centre B's report on a donor it had nothing to do with")
		}

		// Allocated: once centre B holds an authorization of the kidney, it
		// reports on the donor; so does the procuring centre, and the
		// regulator on any donor.
		r, err := s.RegisterRecipient(ctx, w.coordB, recipient(w.CentreB, "kidney"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.AuthorizeTransplant(ctx, w.coordB, authorization(kidney, r.ID, w.CentreB)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ReportSAE(ctx, w.coordB, byOrgan); err != nil {
			t.Fatalf("centre B, allocated the kidney: %v", err)
		}
		if _, err := s.ReportSAE(ctx, w.coordA, byDonor); err != nil {
			t.Fatalf("centre A, which procured it: %v", err)
		}
		if _, err := s.ReportSAE(ctx, w.regulator, byDonor); err != nil {
			t.Fatalf("the regulator: %v", err)
		}
		// Centre B transplanted a kidney of the first donor.
		if _, err := s.ReportSAE(ctx, w.coordB, newSAE(w.donor)); err != nil {
			t.Fatalf("centre B, which transplanted a kidney: %v", err)
		}
	})
}

// TestSAEDonorIDNormalised: a donor id in lower case or with spaces around
// it names the donor, as the web form always read it; one malformed is
// refused as before.
func TestSAEDonorIDNormalised(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newVigilWorld(t, dsn)
		in := newSAE(" " + strings.ToLower(w.donor) + " ")
		in.RecipientIDs = []string{strings.ToLower(w.rB)}
		sae, err := w.svc.ReportSAE(ctx, w.coordA, in)
		if err != nil {
			t.Fatal(err)
		}
		if sae.DonorID != w.donor || len(sae.RecipientIDs) != 1 || sae.RecipientIDs[0] != w.rB {
			t.Errorf("report on %q for %v, want %s for %s", sae.DonorID, sae.RecipientIDs, w.donor, w.rB)
		}
		if in.RecipientIDs[0] != strings.ToLower(w.rB) {
			t.Errorf("the caller's recipient ids were changed: %v", in.RecipientIDs)
		}
		size := w.LogSize(t)
		_, err = w.svc.ReportSAE(ctx, w.coordA, newSAE("dn-no such donor"))
		w.refused(t, "a malformed donor id", err, errs.NotFound, "reference", "donor_id", false, size)
	})
}
