package web_test

import (
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// TestTraffickingCaseLinksShown links a report's case to a transplantation
// here of an organ from abroad, on SQLite and PostgreSQL, and reads the
// report's page as the designated authority: the link is listed, with when
// and by whom. The link makes the procedure not payable once the
// assessment confirms trafficking, and there was no page that showed it.
func TestTraffickingCaseLinksShown(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		im := apptest.ImportedOrgans(t, w, dsn)
		da := w.Must(t, 201, "POST", "/api/v1/authorities", w.Admin, map[string]any{"name": "Rapporteur", "kind": "trafficking_authority"}).Str("id")
		assessor := w.Must(t, 201, "POST", "/api/v1/principals", w.Admin, map[string]any{"name": "Assessor Ines (synthetic)", "role": "trafficking_assessor", "authority_id": da}).Str("token")
		base := "/api/v1/transplant/trafficking/reports/"
		ref := w.Must(t, 201, "POST", strings.TrimSuffix(base, "/"), w.CoordA, map[string]any{"indicators": []string{"finance.payment_to_donor"}, "text": "synthetic"}).Str("reference")

		b := newBrowser(t, w.URL)
		b.signIn(assessor)
		p := b.get("/transplant/trafficking/reports/" + ref)
		mustNotContain(t, "a report linked to nothing", p, `id="report-transplants"`)

		w.Must(t, 200, "POST", base+ref+"/status", assessor, map[string]any{"status": "under_assessment"})
		w.Must(t, 204, "POST", base+ref+"/transplants", assessor, map[string]any{"transplant_id": im.Held})
		p = b.get("/transplant/trafficking/reports/" + ref)
		mustContain(t, "the report's page", p, `id="report-transplants"`, im.Held, "Assessor Ines (synthetic)")
		r := w.Must(t, 200, "GET", base+ref, assessor, nil)
		if links, _ := r.Body["transplants"].([]any); len(links) != 1 || links[0].(map[string]any)["transplant_id"] != im.Held {
			t.Errorf("the API's report: %s; want transplants [%s]", r.Raw, im.Held)
		}
	})
}
