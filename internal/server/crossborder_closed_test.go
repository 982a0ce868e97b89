package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/storetest"
)

// TestCrossBorderClosedStopsEscalation: a report closed by its final
// report escalates nothing more across borders either. Registry A reports
// on a donor whose kidney registry B's centre A transplanted, then closes
// the report; the final report reaches B. Two days on, neither A's
// notification of B nor B's centre's notification, both unacknowledged, is
// escalated; both read closed before acknowledged; B's centre may still
// acknowledge; both logs replay to their tables.
func TestCrossBorderClosedStopsEscalation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		a, b, toB, _ := peeredWorlds(t, dsn)
		ctx := context.Background()
		donor := a.Must(t, 201, "POST", "/api/v1/transplant/donors", a.CoordA, apptest.DeceasedDonor(a.CentreA)).Str("id")
		a.Must(t, 201, "POST", "/api/v1/transplant/donors/"+donor+"/consents", a.CoordA, map[string]any{"kind": "family_authorization",
			"given_on": time.Now().UTC().AddDate(0, 0, -1).Format("2006-01-02"), "assessed_by": "Dr Test", "voluntary": true, "informed": true})
		pr := a.Must(t, 201, "POST", "/api/v1/transplant/procurements", a.CoordA, map[string]any{"donor_id": donor, "procured_at": apptest.Hours(3),
			"organs": []string{"kidney"}})
		organ := pr.Body["organs"].([]any)[0].(map[string]any)["id"].(string)
		a.Must(t, 201, "POST", "/api/v1/transplant/exports", a.CoordA, map[string]any{"organ_id": organ, "peer_id": toB, "destination_centre": b.CentreA})
		relay(t, a, b)
		rc := b.Must(t, 201, "POST", "/api/v1/transplant/recipients", b.CoordA, apptest.Recipient(b.CentreA, "kidney")).Str("id")
		b.Must(t, 201, "POST", "/api/v1/transplant/imports/"+organ+"/outcome", b.CoordA, map[string]any{"outcome": "transplanted", "recipient_id": rc,
			"on": time.Now().UTC().Format("2006-01-02")})
		relay(t, b, a)

		sae := a.Must(t, 201, "POST", "/api/v1/transplant/sae", a.Regulator, map[string]any{"kind": "event", "donor_id": donor, "contact": "Desk",
			"started_at": apptest.Hours(2), "detected_at": apptest.Hours(1), "description": "Synthetic.", "immediate_measures": "None."})
		relay(t, a, b)
		a.Must(t, 200, "POST", "/api/v1/transplant/sae/"+sae.Str("id")+"/final-report", a.Regulator, map[string]any{"conclusion": "not_confirmed",
			"outcome": "Not confirmed.", "corrective_actions": "None needed: not confirmed."})
		relay(t, a, b)

		later := func() time.Time { return time.Now().Add(48 * time.Hour) }
		a.App.Transplant.Now, b.App.Transplant.Now = later, later
		for i, w := range []*apptest.World{a, b} {
			name := "AB"[i : i+1]
			if n, err := w.App.Transplant.Escalate(ctx); err != nil || n != 0 {
				t.Fatalf("%s escalated %d after the report closed, %v; want none", name, n, err)
			}
			if n := len(w.Must(t, 200, "GET", "/api/v1/alerts?rule=sae_acknowledgement", w.Regulator, nil).Body["alerts"].([]any)); n != 0 {
				t.Fatalf("%s: %d alerts sae_acknowledgement after the report closed", name, n)
			}
		}
		closedUnacked := func(n any) bool {
			m := n.(map[string]any)
			return m["closed_unacknowledged"] == true && m["report_closed_at"] != nil && m["escalated_at"] == nil
		}
		var ofB any
		for _, n := range a.Must(t, 200, "GET", "/api/v1/transplant/sae/"+sae.Str("id"), a.Regulator, nil).Body["notifications"].([]any) {
			if n.(map[string]any)["peer_id"] == toB {
				ofB = n
			}
		}
		if ofB == nil || !closedUnacked(ofB) {
			t.Fatalf("A's notification of B: %v, want closed before acknowledged, not escalated", ofB)
		}
		fs := b.Must(t, 200, "GET", "/api/v1/transplant/foreign-sae/"+sae.Str("report_id"), b.Regulator, nil)
		ns := fs.Body["notifications"].([]any)
		if len(ns) != 1 || !closedUnacked(ns[0]) || fs.Str("final_reported_at") == "" {
			t.Fatalf("B's report: %s, want its centre's notification closed before acknowledged", fs.Raw)
		}
		// Acknowledged after the closure: accepted.
		b.Must(t, 200, "POST", "/api/v1/transplant/foreign-notifications/"+ns[0].(map[string]any)["id"].(string)+"/acknowledge", b.CoordA, nil)
		for i, w := range []*apptest.World{a, b} {
			name := "AB"[i : i+1]
			rep, err := ledger.Verify(ctx, w.App.DB, w.App.Projections, ledger.VerifyOptions{VerifierKey: w.App.Keys.LogKey})
			if err != nil || !rep.OK() {
				t.Fatalf("%s: log verify: %v %v", name, err, rep)
			}
		}
	})
}
