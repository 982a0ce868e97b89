package httpapi_test

import (
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// TestImportOutcomeRules records the outcome of an organ received from
// abroad as the centre that holds it: a recipient named with an organ
// discarded or used for research is refused (outcome_recipient), naming the
// field and leaving the organ without an outcome; then a recipient waiting
// for the organ gets it.
func TestImportOutcomeRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		im := importedOrgans(t, w, dsn)
		today := time.Now().UTC().Format("2006-01-02")
		waiting := w.Must(t, 201, "POST", "/api/v1/transplant/recipients", w.CoordA, apptest.Recipient(w.CentreA, "kidney")).Str("id")

		for _, c := range []struct {
			name, coord, organ string
			body               map[string]any
			status             int
			rule, field        string
			alert              bool
		}{
			{"an organ discarded with a recipient", w.CoordA, im.named, map[string]any{"outcome": "discarded", "reason": "organ_quality",
				"recipient_id": waiting, "on": today}, 422, "outcome_recipient", "recipient_id", false},
			{"an organ used for research with a recipient", w.CoordA, im.named, map[string]any{"outcome": "research", "reason": "consented",
				"recipient_id": waiting, "on": today}, 422, "outcome_recipient", "recipient_id", false},
		} {
			r := w.Do(t, "POST", "/api/v1/transplant/imports/"+c.organ+"/outcome", c.coord, c.body)
			e, _ := r.Body["error"].(map[string]any)
			if r.Status != c.status || r.Str("error.rule") != c.rule || r.Str("error.field") != c.field || (e["alert"] == true) != c.alert {
				t.Errorf("%s: %d %s, want %d %s on %s (alert %v)", c.name, r.Status, r.Raw, c.status, c.rule, c.field, c.alert)
			}
			if got := w.Must(t, 200, "GET", "/api/v1/transplant/imports/"+c.organ, w.Regulator, nil); got.Str("outcome") != "" || got.Str("recipient_id") != "" {
				t.Fatalf("%s changed the import: %s", c.name, got.Raw)
			}
		}
		got := w.Must(t, 201, "POST", "/api/v1/transplant/imports/"+im.named+"/outcome", w.CoordA, map[string]any{"outcome": "transplanted",
			"recipient_id": waiting, "on": today})
		if got.Str("outcome") != "transplanted" || got.Str("recipient_id") != waiting || got.Str("centre_id") != w.CentreA {
			t.Fatalf("the outcome of an organ transplanted into a recipient waiting for it: %s", got.Raw)
		}
	})
}
