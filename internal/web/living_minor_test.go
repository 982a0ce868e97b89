package web_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// TestLivingMinorConsentForm: a minor proposed as a living donor is
// registered, and the consent form of their page refuses their consent
// (403), naming the rule living_donor_minor and the field donor_id, the
// values typed kept; the regulator sees the alert. On SQLite and
// PostgreSQL.
func TestLivingMinorConsentForm(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		child := apptest.DeceasedDonor(w.CentreA)
		child["kind"], child["date_of_birth"] = "living", time.Now().UTC().AddDate(-12, 0, 0).Format("2006-01-02")
		delete(child, "cause_of_death")
		delete(child, "date_of_death")
		donor := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, child).Str("id")
		a := newBrowser(t, w.URL)
		a.signIn(w.CoordA)
		p := a.post("/transplant/donors/"+donor+"/consents", url.Values{"kind": {"living_informed_consent"}, "given_on": {todayDate()},
			"assessed_by": {"Independent living donor advocate"}, "assessor_independent": {"on"}, "voluntary": {"on"}, "informed": {"on"}})
		wantStatus(t, "a minor's consent", p, http.StatusForbidden)
		mustContain(t, "a minor's consent", p, `id="refusal-rule">living_donor_minor<`, `id="refusal-field">donor_id<`,
			`value="Independent living donor advocate"`)
		if cs, _ := w.Must(t, 200, "GET", "/api/v1/transplant/donors/"+donor, w.CoordA, nil).Body["consents"].([]any); len(cs) != 0 {
			t.Errorf("%d consents recorded for a minor", len(cs))
		}
		al := w.Must(t, 200, "GET", "/api/v1/alerts", w.Regulator, nil).Body["alerts"].([]any)[0].(map[string]any)
		if al["rule"] != "living_donor_minor" || al["field"] != "donor_id" {
			t.Errorf("newest alert %v, want living_donor_minor on donor_id", al)
		}
	})
}
