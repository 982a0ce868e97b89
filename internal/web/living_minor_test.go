package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// TestLivingMinorConsentForm: a minor proposed as a living donor is
// registered, and the consent form of their page refuses their consent
// (403), naming the rule living_donor_minor and the field donor_id, the
// values typed kept, and marks the form's Given on input with the refusal
// (the form has no input for the donor); a procurement from them is
// refused alike, its Procured at input marked; the regulator sees the
// alert. On SQLite and PostgreSQL.
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
		// The form has no input for the donor, the page's: the refusal is
		// shown at the day the donor is under 18 on, which the form has.
		onDay(t, "a minor's consent", p, "consent-given_on")
		p = a.post("/transplant/donors/"+donor+"/procurements", url.Values{"procured_at": {time.Now().UTC().Add(-2 * time.Hour).Format("2006-01-02T15:04")},
			"count_kidney": {"1"}})
		wantStatus(t, "a procurement from a minor", p, http.StatusForbidden)
		mustContain(t, "a procurement from a minor", p, `id="refusal-rule">living_donor_minor<`, `id="refusal-field">donor_id<`)
		onDay(t, "a procurement from a minor", p, "procurement-procured_at")
		if cs, _ := w.Must(t, 200, "GET", "/api/v1/transplant/donors/"+donor, w.CoordA, nil).Body["consents"].([]any); len(cs) != 0 {
			t.Errorf("%d consents recorded for a minor", len(cs))
		}
		al := w.Must(t, 200, "GET", "/api/v1/alerts", w.Regulator, nil).Body["alerts"].([]any)[0].(map[string]any)
		if al["rule"] != "living_donor_minor" || al["field"] != "donor_id" {
			t.Errorf("newest alert %v, want living_donor_minor on donor_id", al)
		}
	})
}

// onDay checks that the page marks the input id, and it alone, with the
// refusal: invalid, described by its error, which says the rule's message.
func onDay(t *testing.T, what string, p *page, id string) {
	t.Helper()
	input := regexp.MustCompile(`<input id="` + id + `"[^>]*>`).FindString(p.Body)
	if !strings.Contains(input, `aria-invalid="true"`) || strings.Count(p.Body, `aria-invalid="true"`) != 1 {
		t.Errorf("%s: the input %s %q is not the one marked invalid", what, id, input)
	}
	mustContain(t, what, p, `<p class="field-error" id="`+id+`-error">a living donor is 18 or older`)
}
