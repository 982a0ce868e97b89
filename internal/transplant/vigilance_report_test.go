package transplant_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// TestSAEOneReportPerEvent: a report whose reporter, donor, kind, organ,
// recipients (in any order) and start are an open report's is refused
// duplicate_report at started_at, naming the open report, and writes
// nothing; sent twice at once, one is recorded. Another start, another
// reporter, or the same after the first report closed, is a new report. On
// SQLite and PostgreSQL.
func TestSAEOneReportPerEvent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newVigilWorld(t, dsn)
		s := w.svc
		in := newSAE(w.donor)
		in.StartedAt, in.RecipientIDs = apptest.Hours(1), []string{w.rA, w.rB}
		first, err := s.ReportSAE(ctx, w.coordA, in)
		if err != nil {
			t.Fatal(err)
		}
		reports, notifications := w.count(t, "SELECT COUNT(*) FROM sae_reports"), w.count(t, "SELECT COUNT(*) FROM notifications")
		again := in
		again.DonorID, again.RecipientIDs = strings.ToLower(w.donor), []string{w.rB, w.rA}
		again.Description = "Sent again from the form."
		for name, dup := range map[string]transplant.NewSAE{"the same report": in, "as typed again, recipients in another order": again} {
			size := w.LogSize(t)
			_, err := s.ReportSAE(ctx, w.coordA, dup)
			w.refused(t, name, err, errs.Conflict, "duplicate_report", "started_at", false, size)
			if !strings.Contains(err.Error(), first.ReportID) {
				t.Errorf("%s: the refusal %v does not name report %s", name, err, first.ReportID)
			}
		}
		if r, n := w.count(t, "SELECT COUNT(*) FROM sae_reports"), w.count(t, "SELECT COUNT(*) FROM notifications"); r != reports || n != notifications {
			t.Fatalf("duplicates left %d reports and %d notifications, want %d and %d", r, n, reports, notifications)
		}

		// Not the same event: another start, other recipients, another
		// reporter.
		other := in
		other.StartedAt = apptest.Hours(3)
		fewer := in
		fewer.RecipientIDs = []string{w.rA}
		for name, c := range map[string]struct {
			by *transplant.NewSAE
			b  bool
		}{"another start": {&other, false}, "other recipients": {&fewer, false}, "centre B": {&in, true}} {
			p := w.coordA
			if c.b {
				p = w.coordB
			}
			if _, err := s.ReportSAE(ctx, p, *c.by); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}

		// Once the first report is closed, the same is a new report.
		if _, err := s.RecordFinalReport(ctx, w.coordA, first.ID, transplant.FinalReport{Conclusion: "confirmed",
			Outcome: "Batch contaminated.", CorrectiveActions: "Supplier changed."}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ReportSAE(ctx, w.coordA, in); err != nil {
			t.Fatalf("the same event after its report closed: %v", err)
		}

		// Sent twice at once: one report, the other refused.
		twice := in
		twice.StartedAt = apptest.Hours(4)
		reports = w.count(t, "SELECT COUNT(*) FROM sae_reports")
		errors := make([]error, 2)
		var wg sync.WaitGroup
		for i := range errors {
			wg.Go(func() { _, errors[i] = s.ReportSAE(ctx, w.coordA, twice) })
		}
		wg.Wait()
		var refused int
		for _, err := range errors {
			if e, ok := errs.As(err); ok && e.Rule == "duplicate_report" {
				refused++
			} else if err != nil {
				t.Fatalf("sent at once: %v", err)
			}
		}
		if refused != 1 || w.count(t, "SELECT COUNT(*) FROM sae_reports") != reports+1 {
			t.Fatalf("sent twice at once: %v; %d reports, want %d", errors, w.count(t, "SELECT COUNT(*) FROM sae_reports"), reports+1)
		}
	})
}

// TestSAEReactionStartFloor: a reaction in a recipient starts no earlier
// than the day of their transplantation, and one on a deceased donor's
// organs no earlier than the day of the procurement; before either it is
// refused dates_in_order at started_at and nothing is written. A living
// donor's reaction and an event have no such floor. On SQLite and
// PostgreSQL.
func TestSAEReactionStartFloor(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newVigilWorld(t, dsn)
		s := w.svc
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		pr := w.procureAtA(t, 48, "kidney")
		r, err := s.RegisterRecipient(ctx, w.coordA, recipient(w.CentreA, "kidney"))
		must(err)
		ta, err := s.AuthorizeTransplant(ctx, w.coordA, authorization(pr.Organs[0].ID, r.ID, w.CentreA))
		must(err)
		_, err = s.RecordTransplant(ctx, w.coordA, transplant.NewTransplant{OrganID: pr.Organs[0].ID, RecipientID: r.ID, CentreID: w.CentreA,
			PerformedAt: apptest.Hours(0), AuthorizationID: ta.ID})
		must(err)
		living, err := s.RegisterDonor(ctx, w.coordA, livingDonor(w.CentreA))
		must(err)
		_, err = s.RecordConsent(ctx, w.coordA, living.ID, transplant.NewConsent{Kind: transplant.ConsentLiving, GivenOn: daysAgo(3),
			AssessedBy: "Donation coordinator", AssessorIndependent: true, Voluntary: true, Informed: true})
		must(err)
		_, err = s.RecordProcurement(ctx, w.coordA, transplant.NewProcurement{DonorID: living.ID, ProcuredAt: apptest.Hours(48), Organs: []string{"kidney"}})
		must(err)
		report := func(kind, donor string, hoursAgo int, recipients ...string) transplant.NewSAE {
			in := newSAE(donor)
			in.Kind, in.StartedAt, in.RecipientIDs = kind, apptest.Hours(hoursAgo), recipients
			return in
		}
		reports := w.count(t, "SELECT COUNT(*) FROM sae_reports")
		for name, in := range map[string]transplant.NewSAE{
			"a reaction the day before the procurement":       report(transplant.SAEReaction, pr.DonorID, 72),
			"a reaction in a recipient before the transplant": report(transplant.SAEReaction, pr.DonorID, 24, r.ID),
		} {
			size := w.LogSize(t)
			_, err := s.ReportSAE(ctx, w.coordA, in)
			w.refused(t, name, err, errs.Invalid, "dates_in_order", "started_at", false, size)
		}
		if n := w.count(t, "SELECT COUNT(*) FROM sae_reports"); n != reports {
			t.Fatalf("refused reactions left %d reports", n-reports)
		}
		for name, in := range map[string]transplant.NewSAE{
			"a reaction after the procurement":                       report(transplant.SAEReaction, pr.DonorID, 24),
			"a reaction in a recipient on the day of the transplant": report(transplant.SAEReaction, pr.DonorID, 0, r.ID),
			"an event before the procurement":                        report(transplant.SAEEvent, pr.DonorID, 72),
			"a living donor's reaction before the procurement":       report(transplant.SAEReaction, living.ID, 72),
		} {
			if _, err := s.ReportSAE(ctx, w.coordA, in); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	})
}

// TestSAEScopeBeforeFields: a coordinator's report on a donor their centre
// had nothing to do with is refused own_centre, with an alert, whatever
// its other fields: the refusal tells nothing of which are valid. On
// SQLite and PostgreSQL.
func TestSAEScopeBeforeFields(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newVigilWorld(t, dsn)
		pr := w.procureAtA(t, 5, "kidney")
		for name, bad := range map[string]func(*transplant.NewSAE){
			"no contact":             func(in *transplant.NewSAE) { in.Contact = "" },
			"a kind not in the list": func(in *transplant.NewSAE) { in.Kind = "incident" },
			"a start not RFC 3339":   func(in *transplant.NewSAE) { in.StartedAt = "yesterday" },
			"detected before start":  func(in *transplant.NewSAE) { in.DetectedAt = apptest.Hours(3) },
			"a recipient twice":      func(in *transplant.NewSAE) { in.RecipientIDs = []string{w.rA, w.rA} },
		} {
			for _, field := range []string{"donor_id", "organ_id"} {
				in := newSAE(pr.DonorID)
				if field == "organ_id" {
					in.DonorID, in.OrganID = "", strings.ToLower(pr.Organs[0].ID)
				}
				bad(&in)
				size := w.LogSize(t)
				_, err := w.svc.ReportSAE(ctx, w.coordB, in)
				w.refused(t, name+" by "+field, err, errs.Forbidden, "own_centre", field, true, size)
			}
		}
		if n := w.count(t, "SELECT COUNT(*) FROM sae_reports"); n != 0 {
			t.Fatalf("refused reports left %d reports", n)
		}
	})
}
