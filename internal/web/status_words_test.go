package web_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// TestOutcomeWordsInTheReadersLanguage: a coordinator who reads Arabic
// records the final disposition of two organs, one discarded and one used
// for research, and finds each organ's status in Arabic on the donor's page
// and on the organ's trace, never the stored code; the regulator who reads
// Arabic finds the travel report's columns (a transplant abroad by organ)
// in Arabic, not the codes capitalised in English ("Transplant kidney"),
// which is what a value with no label falls back to.
func TestOutcomeWordsInTheReadersLanguage(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	ar := w.App.Languages.Localizer("ar")
	for _, token := range []string{w.CoordA, w.Regulator} {
		w.Must(t, 200, "POST", "/api/v1/me/preferences", token, map[string]any{"language": "ar"})
	}
	donor := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, apptest.DeceasedDonor(w.CentreA)).Str("id")
	w.Must(t, 201, "POST", "/api/v1/transplant/donors/"+donor+"/consents", w.CoordA, map[string]any{"kind": "family_authorization",
		"given_on": yesterday(), "assessed_by": "Dr Test", "voluntary": true, "informed": true})
	pr := w.Must(t, 201, "POST", "/api/v1/transplant/procurements", w.CoordA, map[string]any{"donor_id": donor, "procured_at": apptest.Hours(6),
		"organs": []string{"kidney", "liver"}})
	organs := pr.Body["organs"].([]any)
	coord := newBrowser(t, w.URL)
	coord.signIn(w.CoordA)
	now := strings.TrimSuffix(apptest.Hours(0)[:16], "Z")
	for i, outcome := range transplant.DispositionOutcomes {
		organ := organs[i].(map[string]any)["id"].(string)
		p := coord.post("/transplant/dispositions", url.Values{"organ_id": {organ}, "outcome": {outcome}, "reason": {"organ_quality"}, "disposed_at": {now},
			"note": {"Research project 12, ethics committee approval 2026-04 (synthetic)"}})
		wantStatus(t, "disposition "+outcome, p, http.StatusSeeOther)
		word := ar.T(outcome)
		if word == outcome {
			t.Errorf("the Arabic catalogue has no word for the status %q", outcome)
		}
		status := `<span class="status status-` + outcome + `">` + html.EscapeString(word) + `</span>`
		for _, path := range []string{"/transplant/donors/" + donor, "/transplant/trace?q=" + organ} {
			p := coord.get(path)
			wantStatus(t, path, p, http.StatusOK)
			mustContain(t, path, p, `<html lang="ar" dir="rtl">`, status)
		}
	}

	reg := newBrowser(t, w.URL)
	reg.signIn(w.Regulator)
	p := reg.get("/transplant/travel")
	wantStatus(t, "travel", p, http.StatusOK)
	mustContain(t, "travel", p, `<html lang="ar" dir="rtl">`, `id="travel-report"`)
	for _, organ := range transplant.OrganTypes {
		if code := "Transplant " + organ; strings.Contains(p.Body, ">"+code+"<") {
			t.Errorf("the travel report's column %q is in English", code)
		}
	}
	mustContain(t, "travel", p, html.EscapeString(ar.T("Kidney transplants")), html.EscapeString(ar.T("Intestine transplants")))
}
