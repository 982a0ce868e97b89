package transplant_test

import (
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// TestLivingDonorOrgans checks, through the API on both engines, the rule
// living_donor_organs: a living donor gives one kidney, and never a heart,
// each refusal at the organ that breaks it, alerted, and saying so in words
// (a heart was refused as "at most 0 hearts").
func TestLivingDonorOrgans(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		w.Must(t, 201, "POST", "/api/v1/transplant/centres/"+w.CentreA+"/authorizations", w.Regulator,
			map[string]any{"activity": "procurement", "organ": "heart", "valid_from": "2020-01-01"})
		in := apptest.DeceasedDonor(w.CentreA)
		in["kind"] = "living"
		delete(in, "cause_of_death")
		delete(in, "date_of_death")
		donor := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, in).Str("id")
		for _, c := range []struct {
			organs         []string
			field, message string
		}{
			{[]string{"heart"}, "organs[0]", "a living donor never gives a heart"},
			{[]string{"kidney", "kidney"}, "organs[1]", "a living donor can give at most 1 kidney"},
		} {
			r := w.Must(t, 422, "POST", "/api/v1/transplant/procurements", w.CoordA,
				map[string]any{"donor_id": donor, "procured_at": apptest.Hours(1), "organs": c.organs})
			if r.Str("error.rule") != "living_donor_organs" || r.Str("error.field") != c.field || r.Str("error.message") != c.message {
				t.Errorf("procurement of %v from a living donor: %s; want living_donor_organs at %s: %q", c.organs, r.Raw, c.field, c.message)
			}
			if strings.Contains(r.Str("error.message"), " 0 ") {
				t.Errorf("the refusal counts zero organs: %q", r.Str("error.message"))
			}
		}
		alerts := w.Must(t, 200, "GET", "/api/v1/alerts?rule=living_donor_organs", w.Regulator, nil)
		if n := len(alerts.Body["alerts"].([]any)); n != 2 {
			t.Errorf("%d alerts living_donor_organs, want 2: %s", n, alerts.Raw)
		}
	})
}
