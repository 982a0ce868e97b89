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
