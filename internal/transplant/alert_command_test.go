package transplant_test

import (
	"maps"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// TestAlertNamesRefusedCommand checks, through the API on both engines, that
// an alert raised before the command's turn in the writer (another centre's
// record, refused first) names the command refused, and that refusals of
// different commands are different alerts. They were all named "refused
// command", so a coordinator refused a consent and then a report on the
// same donor of another centre left one alert, the consent's, with one
// repeat: the regulator never saw the report attempted.
func TestAlertNamesRefusedCommand(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		donor := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, apptest.DeceasedDonor(w.CentreA)).Str("id")
		today := time.Now().UTC().Format("2006-01-02")
		attempts := []struct {
			path string
			body any
		}{
			{"/api/v1/transplant/donors/" + donor + "/consents", map[string]any{"kind": "family_authorization", "given_on": today,
				"assessed_by": "ICU team", "assessor_independent": true, "voluntary": true, "informed": true}},
			{"/api/v1/transplant/sae", map[string]any{"kind": "event", "donor_id": donor, "contact": "Vigilance desk",
				"started_at": apptest.Hours(2), "detected_at": apptest.Hours(1), "description": "a malignancy found", "immediate_measures": "recall"}},
			{"/api/v1/transplant/donors", apptest.DeceasedDonor(w.CentreA)},
			{"/api/v1/transplant/recipients", apptest.Recipient(w.CentreA, "kidney")},
		}
		for _, a := range attempts {
			r := w.Must(t, 403, "POST", a.path, w.CoordB, a.body)
			if r.Str("error.rule") != "own_centre" {
				t.Fatalf("POST %s by centre B: %s, want own_centre", a.path, r.Raw)
			}
		}
		list := w.Must(t, 200, "GET", "/api/v1/alerts?authority_id="+w.CentreB, w.Regulator, nil)
		got := map[string]float64{}
		alerts, _ := list.Body["alerts"].([]any)
		for _, x := range alerts {
			a := x.(map[string]any)
			got[a["command"].(string)+" at "+a["field"].(string)], _ = a["repeats"].(float64)
		}
		want := map[string]float64{
			"record consent at donor_id":               0,
			"report serious adverse event at donor_id": 0,
			"register donor at centre_id":              0,
			"register recipient at centre_id":          0,
		}
		if !maps.Equal(want, got) {
			t.Errorf("centre B's alerts, by command and field, with their repeats:\n got %v\nwant %v", got, want)
		}
	})
}
