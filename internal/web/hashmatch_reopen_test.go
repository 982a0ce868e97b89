package web_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

// TestHashmatchReopenPage: a reviewer who rejected a match with suppress
// by mistake reopens the case from its page, with a reason: the case is
// open for review again and the hash matches again. A reason is required,
// and only a rejected case offers the form.
func TestHashmatchReopenPage(t *testing.T) {
	w := apptest.NewHashmatchWorld(t, storetest.SQLite(t), hashmatch.Config{})
	bank := w.Bank(t, "Known images")
	w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst,
		map[string]any{"adds": []map[string]any{{"entry_id": "e1", "pdq": apptest.PDQHex(1)}}})
	w.Subscribe(t, bank)
	match := func() map[string]any {
		res := w.Must(t, 200, "POST", "/api/v1/hashmatch/match", w.Service, map[string]any{"items": []map[string]any{
			{"pdq": apptest.PDQHex(1), "quality": 90, "content_ref": "photo/1"}}})
		return res.Body["results"].([]any)[0].(map[string]any)
	}
	caseID := match()["case_id"].(string)

	rv := newBrowser(t, w.URL)
	rv.signIn(w.Reviewer)
	mustNotContain(t, "open case", rv.get("/hashmatch/cases/"+caseID), `id="reopen"`)
	wantStatus(t, "reject", rv.post("/hashmatch/cases/"+caseID+"/review", url.Values{"decision": {"reject"}, "note": {"benign"}, "suppress": {"1"}}), http.StatusSeeOther)
	if got := match()["status"]; got != "suppressed" {
		t.Fatalf("after the rejection with suppress the hash answers %v", got)
	}
	mustContain(t, "rejected case", rv.get("/hashmatch/cases/"+caseID), `id="reopen"`, "the hashes its rejection added to your suppression list are lifted")
	p := rv.post("/hashmatch/cases/"+caseID+"/reopen", url.Values{"reason": {" "}})
	wantStatus(t, "reopen without a reason", p, http.StatusUnprocessableEntity)
	mustContain(t, "reopen without a reason", p, `id="refusal-field">reason<`)
	p = rv.post("/hashmatch/cases/"+caseID+"/reopen", url.Values{"reason": {"a misclick: it is the listed image"}})
	wantStatus(t, "reopen", p, http.StatusSeeOther)
	p = rv.get(p.Header.Get("Location"))
	mustContain(t, "reopened case", p, "Case reopened", `id="confirm"`, `id="reject"`)
	mustNotContain(t, "reopened case", p, `id="reopen"`, `id="dispute"`)
	if got := match()["status"]; got != "match" {
		t.Errorf("after the reopening the hash answers %v, want match", got)
	}
}
