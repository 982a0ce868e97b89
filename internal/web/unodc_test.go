package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// TestAssessmentAndUNODCPages: the designated authority records a report's
// assessment on its page (a refusal marks the input it names, and keeps
// what was typed), then finds the UNODC return's page and downloads it; the
// regulator reaches the page from the navigation; a coordinator may not.
// The administrator sets an authority's notification e-mail on the
// authorities page.
func TestAssessmentAndUNODCPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		da := w.Must(t, 201, "POST", "/api/v1/authorities", w.Admin, map[string]any{"name": "Rapporteur", "kind": "trafficking_authority"}).Str("id")
		assessor := w.Must(t, 201, "POST", "/api/v1/principals", w.Admin, map[string]any{"name": "Assessor", "role": "trafficking_assessor", "authority_id": da}).Str("token")
		ref := w.Must(t, 201, "POST", "/api/v1/transplant/trafficking/reports", w.CoordA, map[string]any{"indicators": []string{"travel.donor_brought"},
			"text": "Synthetic."}).Str("reference")

		d := newBrowser(t, w.URL)
		d.signIn(assessor)
		casePath := "/transplant/trafficking/reports/" + ref
		if p := d.get(casePath); strings.Contains(p.Body, `id="assessment"`) {
			t.Error("a report just received offers the assessment's form")
		}
		w.Must(t, 200, "POST", "/api/v1/transplant/trafficking/reports/"+ref+"/status", assessor, map[string]any{"status": "under_assessment"})
		p := d.get(casePath)
		mustContain(t, "the report under assessment", p, `id="assessment"`, `name="donor.nationality"`, `name="recipient.age_band"`)
		form := url.Values{"conclusion": {"confirmed"}, "year": {"2025"}, "organ": {"kidney"}, "donor.nationality": {"Narnia"},
			"donor.sex": {"male"}, "donor.age_band": {"25-34"}, "recipient.nationality": {"xa"}, "recipient.sex": {"female"}, "recipient.age_band": {"45-54"}}
		p = d.post(casePath+"/assessment", form)
		wantStatus(t, "a nationality that is not a code", p, http.StatusUnprocessableEntity)
		mustContain(t, "a nationality that is not a code", p, "iso3166", `value="Narnia"`)
		form.Set("year", "next year")
		form.Set("donor.nationality", "XB")
		p = d.post(casePath+"/assessment", form)
		wantStatus(t, "a year that is not a number", p, http.StatusUnprocessableEntity)
		mustContain(t, "a year that is not a number", p, "year must be between 1990 and")
		form.Set("year", "2025")
		p = d.post(casePath+"/assessment", form)
		wantStatus(t, "the assessment", p, http.StatusSeeOther)
		p = d.get(p.Header.Get("Location"))
		mustContain(t, "the assessed report", p, "The assessment is recorded in the log.", `id="assessment-current"`, "Confirmed", `value="XA"`)

		p = d.get("/transplant/trafficking/queue")
		mustContain(t, "the queue", p, `href="/transplant/trafficking/unodc"`)
		p = d.get("/transplant/trafficking/unodc")
		wantStatus(t, "the UNODC page", p, http.StatusOK)
		mustContain(t, "the UNODC page", p, "from 1 to 4", `href="/transplant/trafficking/unodc/export?format=csv"`)
		p = d.get("/transplant/trafficking/unodc/export?format=csv")
		wantStatus(t, "the CSV", p, http.StatusOK)
		if !strings.Contains(p.Body, "organ,2025,kidney,x") || !strings.Contains(p.Body, "list,unodc") {
			t.Errorf("the CSV return:\n%s", p.Body)
		}

		r := newBrowser(t, w.URL)
		r.signIn(w.Regulator)
		mustContain(t, "the regulator's home", r.get("/"), `href="/transplant/trafficking/unodc"`)
		wantStatus(t, "the regulator's UNODC page", r.get("/transplant/trafficking/unodc"), http.StatusOK)
		c := newBrowser(t, w.URL)
		c.signIn(w.CoordA)
		wantStatus(t, "a coordinator's UNODC page", c.get("/transplant/trafficking/unodc"), http.StatusForbidden)

		a := newBrowser(t, w.URL)
		a.signIn(w.Admin)
		p = a.post("/authorities/contact", url.Values{"id": {w.CentreB}, "email": {"not an address"}})
		wantStatus(t, "a contact that is not an address", p, http.StatusUnprocessableEntity)
		mustContain(t, "a contact that is not an address", p, "email is not an e-mail address")
		p = a.post("/authorities/contact", url.Values{"id": {w.CentreB}, "email": {"vigilance@centre-b.example"}, "language": {"fr"}})
		wantStatus(t, "a contact", p, http.StatusSeeOther)
		p = a.get(p.Header.Get("Location"))
		mustContain(t, "the authorities", p, "vigilance@centre-b.example", "(fr)", "is recorded in the log")
	})
}
