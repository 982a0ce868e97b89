package web_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

// TestHashmatchFeedbackPages: a reviewer disputes a rejected case from its
// page; the owner's analyst sees the entry on Disputed entries, withdraws
// it and publishes the withdrawal; the service reads its disputes; a
// service turns retroactive matching on and off on its page.
func TestHashmatchFeedbackPages(t *testing.T) {
	w := apptest.NewHashmatchWorld(t, storetest.SQLite(t), hashmatch.Config{})
	bank := w.Bank(t, "Known images")
	w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst,
		map[string]any{"adds": []map[string]any{{"entry_id": "e1", "pdq": apptest.PDQHex(1)}}})
	w.Subscribe(t, bank)
	res := w.Must(t, 200, "POST", "/api/v1/hashmatch/match", w.Service, map[string]any{"items": []map[string]any{
		{"pdq": apptest.PDQHex(1), "quality": 90, "user_id": "user-1", "content_ref": "photo/1"}}})
	caseID := res.Body["results"].([]any)[0].(map[string]any)["case_id"].(string)

	rv := newBrowser(t, w.URL)
	rv.signIn(w.Reviewer)
	mustContain(t, "reviewer home", rv.get("/"), `href="/hashmatch/disputes"`, `href="/hashmatch/retro"`)
	p := rv.get("/hashmatch/cases/" + caseID)
	mustNotContain(t, "open case", p, `id="dispute"`)
	wantStatus(t, "reject", rv.post("/hashmatch/cases/"+caseID+"/review", url.Values{"decision": {"reject"}, "note": {"benign"}}), http.StatusSeeOther)
	mustContain(t, "rejected case", rv.get("/hashmatch/cases/"+caseID), `id="dispute"`, "never the content")
	p = rv.post("/hashmatch/cases/"+caseID+"/dispute", url.Values{"note": {""}})
	wantStatus(t, "dispute without a note", p, http.StatusUnprocessableEntity)
	mustContain(t, "dispute without a note", p, `id="refusal-field">note<`)
	wantStatus(t, "dispute", rv.post("/hashmatch/cases/"+caseID+"/dispute", url.Values{"note": {"a company logo"}}), http.StatusSeeOther)
	mustContain(t, "disputed case", rv.get("/hashmatch/cases/"+caseID), `id="case-dispute"`, "a company logo")
	mustContain(t, "service's disputes", rv.get("/hashmatch/disputes"), `id="disputes"`, caseID, "a company logo")

	an := newBrowser(t, w.URL)
	an.signIn(w.Analyst)
	mustContain(t, "analyst home", an.get("/"), `href="/hashmatch/disputes"`)
	p = an.get("/hashmatch/disputes")
	mustContain(t, "disputed entries", p, `id="disputed-entries"`, "a company logo", `id="review-`+bank+`-e1"`)
	mustNotContain(t, "disputed entries", p, caseID, "photo/1")
	review := "/hashmatch/banks/" + bank + "/entries/e1/disputes/review"
	p = an.post(review, url.Values{"decision": {"withdraw"}, "reason": {""}})
	wantStatus(t, "review without a reason", p, http.StatusUnprocessableEntity)
	mustContain(t, "review without a reason", p, `id="refusal-field">reason<`)
	wantStatus(t, "withdraw", an.post(review, url.Values{"decision": {"withdraw"}, "reason": {"entered by mistake"}}), http.StatusSeeOther)
	mustContain(t, "pending", an.get("/hashmatch/disputes"), `id="withdrawals-`+bank+`"`, "No entry of your banks is disputed.")
	p = an.post("/hashmatch/banks/"+bank+"/withdrawals", url.Values{})
	wantStatus(t, "publish the withdrawals", p, http.StatusSeeOther)
	p = an.get(p.Header.Get("Location"))
	mustContain(t, "published", p, "Version published: it deletes the withdrawn entries.")
	mustNotContain(t, "published", p, `id="withdrawals-`)
	mustContain(t, "withdrawn", rv.get("/hashmatch/disputes"), "Withdrawn by the owner", "entered by mistake")

	sv := newBrowser(t, w.URL)
	sv.signIn(w.Service)
	mustContain(t, "retro off", sv.get("/hashmatch/retro"), `id="retro"`, "Off: nothing that matches nothing is kept.",
		"for a video, the PDQ hash, quality and time of each of its distinct frames of sufficient quality")
	p = sv.post("/hashmatch/retro", url.Values{"retention_days": {"120"}})
	wantStatus(t, "retention 120", p, http.StatusUnprocessableEntity)
	mustContain(t, "retention 120", p, `id="refusal-field">retention_days<`)
	wantStatus(t, "opt in", sv.post("/hashmatch/retro", url.Values{"retention_days": {"14"}}), http.StatusSeeOther)
	mustContain(t, "retro on", sv.get("/hashmatch/retro"), "On: uploads are kept 14 days.", `id="opt-out"`)
	wantStatus(t, "opt out", sv.post("/hashmatch/retro", url.Values{"opt_out": {"1"}}), http.StatusSeeOther)
	mustContain(t, "retro off again", sv.get("/hashmatch/retro"), "Off: nothing that matches nothing is kept.")
}
