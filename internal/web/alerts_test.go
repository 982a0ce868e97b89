package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// TestAlertForms: the regulator filters the alerts page (by a rule raised,
// and by one declared that no alert has yet), and acknowledges,
// assigns, comments on and closes an alert from its page; refusals come back
// on their form; a closed alert offers no form but the comment; the auditor
// reads the page without forms and is refused when posting.
func TestAlertForms(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	w.Must(t, 403, "POST", "/api/v1/transplant/donors", w.CoordA, apptest.DeceasedDonor(w.CentreB))
	id := w.Must(t, 200, "GET", "/api/v1/alerts", w.Regulator, nil).Body["alerts"].([]any)[0].(map[string]any)["id"].(string)
	regulatorID := w.Principal(t, w.Regulator).ID
	r := newBrowser(t, w.URL)
	r.signIn(w.Regulator)

	p := r.get("/alerts?rule=own_centre&state=open&authority_id=" + w.CentreA)
	wantStatus(t, "filtered alerts", p, http.StatusOK)
	mustContain(t, "filtered alerts", p, `id="alert-`+id+`"`, `href="/alerts/`+id+`"`, `<option value="own_centre" selected>`)
	p = r.get("/alerts?state=closed")
	mustContain(t, "closed alerts", p, "No alert matches the filter.")
	// A rule the registry declares and no alert has yet is offered, and
	// filters to nothing.
	p = r.get("/alerts?rule=no_payment")
	wantStatus(t, "a rule not raised yet", p, http.StatusOK)
	mustContain(t, "a rule not raised yet", p, `<option value="no_payment" selected>`, "No alert matches the filter.")
	p = r.get("/alerts?state=pending")
	wantStatus(t, "bad filter", p, http.StatusUnprocessableEntity)
	mustContain(t, "bad filter", p, `id="refusal-rule">enum<`, `id="refusal-field">state<`, `id="alert-`+id+`"`)

	page := "/alerts/" + id
	p = r.get(page)
	wantStatus(t, "alert page", p, http.StatusOK)
	mustContain(t, "alert page", p, `action="/alerts/`+id+`/acknowledge"`, `action="/alerts/`+id+`/assign"`,
		`action="/alerts/`+id+`/comment"`, `action="/alerts/`+id+`/close"`, "own_centre")

	p = r.post(page+"/close", url.Values{"outcome": {"corrected"}, "note": {" "}})
	wantStatus(t, "close without note", p, http.StatusUnprocessableEntity)
	mustContain(t, "close without note", p, `id="refusal-rule">required<`, `id="refusal-field">note<`, `<a href="#close">Go to the form</a>`,
		`<option value="corrected" selected>`)
	p = r.post(page+"/assign", url.Values{"assignee_id": {w.Principal(t, w.CoordA).ID}})
	wantStatus(t, "assign a coordinator", p, http.StatusUnprocessableEntity)
	mustContain(t, "assign a coordinator", p, `id="refusal-rule">assignee_role<`, `<a href="#assign">Go to the form</a>`)

	for _, step := range []struct {
		cmd  string
		form url.Values
		see  string
	}{
		{"acknowledge", url.Values{}, "The alert is acknowledged."},
		{"assign", url.Values{"assignee_id": {regulatorID}}, `id="assignee"><span class="principal" title="` + regulatorID + `">Regulator<`},
		{"comment", url.Values{"text": {"called the centre"}}, "called the centre"},
		{"close", url.Values{"outcome": {"corrected"}, "note": {"registered at the right centre"}}, "registered at the right centre"},
	} {
		p = r.post(page+"/"+step.cmd, step.form)
		wantStatus(t, step.cmd, p, http.StatusSeeOther)
		mustNotContain(t, step.cmd+", the bare address", r.get(page+"?done="+step.cmd), `id="flash"`)
		p = r.get(noticed(t, step.cmd, p, page))
		mustContain(t, step.cmd, p, step.see)
	}
	if strings.Contains(p.Body, `action="/alerts/`+id+`/close"`) || strings.Contains(p.Body, `action="/alerts/`+id+`/acknowledge"`) {
		t.Error("a closed alert offers the close or acknowledge form")
	}
	mustContain(t, "closed alert", p, `action="/alerts/`+id+`/comment"`, `id="closed"`)
	p = r.post(page+"/acknowledge", url.Values{})
	wantStatus(t, "acknowledge a closed alert", p, http.StatusConflict)
	mustContain(t, "acknowledge a closed alert", p, `id="refusal-rule">alert_state<`)

	a := newBrowser(t, w.URL)
	a.signIn(w.Auditor)
	p = a.get(page)
	wantStatus(t, "auditor reads", p, http.StatusOK)
	if strings.Contains(p.Body, `action="/alerts/`+id+`/comment"`) {
		t.Error("the auditor is offered the comment form")
	}
	p = a.post(page+"/comment", url.Values{"text": {"x"}})
	wantStatus(t, "auditor comments", p, http.StatusForbidden)
	mustContain(t, "auditor comments", p, `id="refusal-rule">role<`)
}
