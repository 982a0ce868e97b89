package web_test

import (
	"html/template"
	"net/http"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

// TestCaseReviewerName: a reviewed case's page names its reviewer, the
// principal's id kept as the title (what the API and the log answer), as
// the alert and outbox pages name principals (principalNames). The API
// still answers the id.
func TestCaseReviewerName(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		w.SubscribedBank(t, "Known images")
		res := w.Must(t, 200, "POST", "/api/v1/hashmatch/match", w.Service, map[string]any{"items": []map[string]any{{"pdq": apptest.PDQHex(1), "quality": 90}}})
		id := res.Body["results"].([]any)[0].(map[string]any)["case_id"].(string)
		w.Must(t, 200, "POST", "/api/v1/hashmatch/cases/"+id+"/review", w.Reviewer, map[string]any{"decision": "confirm"})
		reviewer := w.Must(t, 200, "GET", "/api/v1/hashmatch/cases/"+id, w.Reviewer, nil).Str("reviewed_by")
		if reviewer == "" {
			t.Fatal("the API answers no reviewed_by")
		}
		rv := newBrowser(t, w.URL)
		rv.signIn(w.Reviewer)
		p := rv.get("/hashmatch/cases/" + id)
		wantStatus(t, "case", p, http.StatusOK)
		mustContain(t, "case", p, `<span id="reviewed-by"><span class="principal" title="`+template.HTMLEscapeString(reviewer)+`">`+
			template.HTMLEscapeString("Trust and safety reviewer")+`</span></span>`)
	})
}

// TestPrincipalNamesByReader: a page names a principal to a reader of the
// principal's own authority, and to a regulator; a reader of another
// authority is shown the principal's authority ("someone at Centre A") and
// never the person's name, the id kept as the title either way
// (docs/personal-data.md). A trace's hand-off, as a coordinator of the
// centre, a coordinator of another centre and the regulator read it; a
// bank's version, as its analyst and a platform's reviewer read it.
func TestPrincipalNamesByReader(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		donor := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, apptest.DeceasedDonor(w.CentreA)).Str("id")
		w.Must(t, 201, "POST", "/api/v1/transplant/donors/"+donor+"/consents", w.CoordA, map[string]any{"kind": "family_authorization",
			"given_on": yesterday(), "assessed_by": "Dr Ines Marlow", "informed": true, "voluntary": true})
		pr := w.Must(t, 201, "POST", "/api/v1/transplant/procurements", w.CoordA, map[string]any{"donor_id": donor, "procured_at": apptest.Hours(3), "organs": []string{"kidney"}})
		kidney := pr.Body["organs"].([]any)[0].(map[string]any)["id"].(string)
		w.Must(t, 201, "POST", "/api/v1/transplant/handoffs", w.CoordA, map[string]any{"organ_id": kidney, "step": "procurement_theatre", "place": "Theatre 1"})
		coordA := w.Principal(t, w.CoordA)
		named := `<span class="principal" title="` + template.HTMLEscapeString(coordA.ID) + `">Coordinator A</span>`
		atCentre := `<span class="principal authority" title="` + template.HTMLEscapeString(coordA.ID) + `">someone at Centre A</span>`
		for _, c := range []struct {
			who, token string
			sees       string
		}{{"centre A's coordinator", w.CoordA, named}, {"the regulator", w.Regulator, named}, {"centre B's coordinator", w.CoordB, atCentre}} {
			b := newBrowser(t, w.URL)
			b.signIn(c.token)
			p := b.get("/transplant/trace?q=" + kidney)
			wantStatus(t, c.who, p, http.StatusOK)
			mustContain(t, "the trace, as "+c.who+" reads it", p, c.sees)
			if c.sees == atCentre {
				mustNotContain(t, "the trace, as "+c.who+" reads it", p, "Coordinator A")
			}
		}
	})
	storetest.Each(t, func(t *testing.T, dsn string) {
		h := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		bank := h.Bank(t, "Known images")
		h.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", h.Analyst, map[string]any{"adds": []any{
			map[string]any{"entry_id": "img-1", "pdq": apptest.PDQHex(1), "classification": "A1"}}})
		analyst := h.Principal(t, h.Analyst)
		an, rv := newBrowser(t, h.URL), newBrowser(t, h.URL)
		an.signIn(h.Analyst)
		rv.signIn(h.Reviewer)
		mustContain(t, "the bank, as its analyst reads it", an.get("/hashmatch/banks/"+bank),
			`<span class="principal" title="`+template.HTMLEscapeString(analyst.ID)+`">Analyst</span>`)
		p := rv.get("/hashmatch/banks/" + bank)
		mustContain(t, "the bank, as a platform's reviewer reads it", p,
			`<span class="principal authority" title="`+template.HTMLEscapeString(analyst.ID)+`">someone at National Child Protection Hotline</span>`)
		mustNotContain(t, "the bank, as a platform's reviewer reads it", p, `">Analyst</span>`)
	})
}
