package transplant_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// TestVerifyNotesSharedReportIDs: log verify notes each national report id
// that names two reports (one made here, one raised here on an organ from
// abroad, numbered apart by an older release), with both reports' ids, and
// stays OK; a registry without one notes nothing and says 0 in what it
// checked. A report made since takes a number of its own.
func TestVerifyNotesSharedReportIDs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newVigilWorld(t, dsn)
		first, err := w.svc.ReportSAE(ctx, w.coordA, newSAE(w.donor))
		if err != nil {
			t.Fatal(err)
		}
		notes := func(rep *ledger.Report) (out []string) {
			for _, n := range rep.Notes {
				if strings.HasPrefix(n, "sae_report_ids:") {
					out = append(out, n)
				}
			}
			return out
		}
		covered := func(rep *ledger.Report, want string) {
			t.Helper()
			for _, c := range rep.Covered {
				if strings.HasPrefix(c, "sae_report_ids:") {
					if c != want {
						t.Errorf("checked: %q, want %q", c, want)
					}
					return
				}
			}
			t.Errorf("no sae_report_ids among what log verify checked: %q", rep.Covered)
		}
		rep := w.Verify(t)
		if !rep.OK() || len(notes(rep)) != 0 {
			t.Fatalf("a registry without a shared report id: %v, notes %q", rep.Problems, notes(rep))
		}
		covered(rep, "sae_report_ids: the national report ids of 1 report(s) made here or raised here on organs from abroad, 0 id(s) naming two reports")

		reportID := olderSharedReportID(ctx, t, w)
		another := newSAE(w.donor) // another event: it started earlier
		another.StartedAt = apptest.Hours(2)
		later, err := w.svc.ReportSAE(ctx, w.coordA, another)
		if err != nil {
			t.Fatal(err)
		}
		if later.ReportID == reportID || later.ReportID == first.ReportID {
			t.Errorf("a report made since takes %s, a number already given", later.ReportID)
		}
		rep = w.Verify(t)
		if !rep.OK() {
			t.Fatalf("log verify with a shared report id: %v", rep.Problems)
		}
		got := notes(rep)
		if len(got) != 1 || !strings.Contains(got[0], " "+reportID+" ") || !strings.Contains(got[0], "SA-OLDER (made here)") ||
			!strings.Contains(got[0], "FS-OLDER (raised here on an organ from abroad)") || !strings.Contains(got[0], "docs/vigilance.md") {
			t.Errorf("notes %q, want one naming %s, SA-OLDER and FS-OLDER, and where to read on", got, reportID)
		}
		covered(rep, "sae_report_ids: the national report ids of 4 report(s) made here or raised here on organs from abroad, 1 id(s) naming two reports")
	})
}

// olderSharedReportID writes, as a release before reports made here and
// those raised here on organs from abroad shared the year's numbers did, a
// report raised on an organ from abroad (numbered counting both kinds) and
// then a report made here (numbered counting its own kind only), which
// takes the same national report id; it returns that id. The peer and the
// organ abroad are only named: no projector reads them.
func olderSharedReportID(ctx context.Context, t *testing.T, w *vigilWorld) string {
	t.Helper()
	next := func(tx *store.Tx, now time.Time, count string) (country, id string) {
		t.Helper()
		if err := tx.QueryRow(ctx, "SELECT value FROM settings WHERE name = 'jurisdiction'").Scan(&country); err != nil {
			t.Fatal(err)
		}
		prefix := fmt.Sprintf("%s-SAE-%04d-", country, now.Year())
		var n int
		args := make([]any, strings.Count(count, "?"))
		for i := range args {
			args[i] = prefix + "%"
		}
		if err := tx.QueryRow(ctx, count, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return country, fmt.Sprintf("%s%06d", prefix, n+1)
	}
	var raisedID, madeID string
	if _, err := ledger.SubmitAs[transplant.ForeignSAE](ctx, w.svc.W, w.coordA.Actor(), "report serious adverse event on imported organ",
		func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
			_, raisedID = next(tx, now, `SELECT (SELECT COUNT(*) FROM sae_reports WHERE report_id LIKE ?) +
				(SELECT COUNT(*) FROM foreign_sae_reports WHERE raised_report_id LIKE ?)`)
			report, _ := json.Marshal(map[string]string{"report_id": raisedID, "kind": transplant.SAEEvent})
			return ledger.NewEntry(transplant.TypeImportSAEReported, transplant.ForeignSAE{ID: "FS-OLDER", PeerID: "PE-OLDER", RaisedReportID: raisedID,
				RaisedBy: w.CentreA, DonorRef: "DN-ABROAD", Kind: transplant.SAEEvent, Report: report, ReceivedAt: ledger.FormatTime(now),
				Notifications: []transplant.ForeignNotification{}})
		}); err != nil {
		t.Fatal(err)
	}
	in := newSAE(w.donor)
	if _, err := ledger.SubmitAs[transplant.SAE](ctx, w.svc.W, w.coordA.Actor(), "report serious adverse event",
		func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
			var country string
			country, madeID = next(tx, now, "SELECT COUNT(*) FROM sae_reports WHERE report_id LIKE ?")
			return ledger.NewEntry(transplant.TypeSAEReported, transplant.SAE{ID: "SA-OLDER", ReportID: madeID, Kind: in.Kind,
				ReportingAuthorityID: w.CentreA, Contact: in.Contact, OriginCountry: country, DonorID: w.donor, RecipientIDs: []string{},
				StartedAt: in.StartedAt, DetectedAt: in.DetectedAt, Description: in.Description, ImmediateMeasures: in.ImmediateMeasures,
				ReportedAt: ledger.FormatTime(now), FinalDueAt: ledger.FormatTime(now.AddDate(0, transplant.FinalReportMonths, 0)),
				Destinations: []transplant.SAEDestination{}, ForeignRegistries: []string{}, Notifications: []transplant.Notification{}})
		}); err != nil {
		t.Fatal(err)
	}
	if madeID != raisedID {
		t.Fatalf("the older numbering gave %s and %s, want one id twice", raisedID, madeID)
	}
	return madeID
}
