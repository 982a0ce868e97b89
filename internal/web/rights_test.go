package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// TestSubjectRightsPages: a coordinator rectifies and exports (page and
// JSON) for their own centre's donor; the regulator is shown what an
// erasure makes unreadable, is refused under retention with a ground that
// does not override it, and erases with one that does; the donor's page
// then says erased, and when. No personal data reaches a URL, a redirect or
// a log line.
func TestSubjectRightsPages(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	d := apptest.DeceasedDonor(w.CentreA)
	d["national_id"] = "XA-WEB-4242"
	donor := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, d).Str("id")
	const corrected = "Wilhelmina Canary (synthetic)"
	secrets := []string{corrected, "XA-WEB-4242"}

	srv, logs := transplantUI(t, w)

	a := newBrowser(t, srv.URL)
	a.signIn(w.CoordA)
	p := a.get("/transplant/donors/" + donor)
	mustContain(t, "donor page", p, `id="subject-rights"`, `href="/transplant/subjects/`+donor+`/access"`, `href="/transplant/subjects/`+donor+`/rectify"`)
	if strings.Contains(p.Body, "/erase") {
		t.Error("a coordinator is offered erasure")
	}
	p = a.post("/transplant/subjects/"+donor+"/rectify", url.Values{"name": {corrected}, "reason": {"misspelt at registration"}})
	wantStatus(t, "rectify", p, http.StatusSeeOther)
	mustContain(t, "rectified", a.get(noticed(t, "rectify", p, "/transplant/donors/"+donor)), `id="flash"`)
	p = a.post("/transplant/subjects/"+donor+"/rectify", url.Values{"name": {corrected}, "reason": {"again"}})
	mustContain(t, "rectify to the same value", p, `id="refusal-rule">unchanged<`)
	if strings.Contains(p.Body, `value="`+corrected+`"`) {
		t.Error("a refused rectification shows the value again")
	}
	p = a.post("/transplant/subjects/"+donor+"/access", url.Values{"purpose": {"request of 2 December"}, "format": {"page"}})
	wantStatus(t, "access page", p, http.StatusOK)
	mustContain(t, "access page", p, corrected, `id="reads"`, "subject access export (page): request of 2 December", "misspelt at registration")
	if p.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("the subject-access page may be cached: %q", p.Header.Get("Cache-Control"))
	}
	p = a.post("/transplant/subjects/"+donor+"/access", url.Values{"purpose": {"request of 2 December"}, "format": {"json"}})
	if !strings.Contains(p.Header.Get("Content-Disposition"), "attachment") || !strings.Contains(p.Body, `"subject_id": "`+donor+`"`) || !strings.Contains(p.Body, corrected) {
		t.Errorf("access JSON: %v\n%.300s", p.Header, p.Body)
	}

	reg := newBrowser(t, srv.URL)
	reg.signIn(w.Regulator)
	p = reg.get("/transplant/subjects/" + donor + "/erase")
	mustContain(t, "erase page", p, `id="erase-what"`, `id="retention"`, `<select id="erase-ground" name="ground" required`)
	p = reg.post("/transplant/subjects/"+donor+"/erase", url.Values{"ground": {"consent_withdrawn"}, "reference": {"DPO-2026-7"}})
	wantStatus(t, "erase under retention", p, http.StatusConflict)
	mustContain(t, "erase under retention", p, `id="refusal-rule">retention<`)
	p = reg.post("/transplant/subjects/"+donor+"/erase", url.Values{"ground": {"legal_obligation"}, "reference": {"Court order 2026/118"}})
	p = reg.get(noticed(t, "erase", p, "/transplant/donors/"+donor))
	mustContain(t, "donor page after erasure", p, `id="erased"`, `id="flash"`)
	p = reg.post("/transplant/donors/"+donor+"/personal-data", url.Values{"purpose": {"after erasure"}})
	mustContain(t, "personal data after erasure", p, `id="refusal-rule">subject_erased<`)

	for _, s := range secrets {
		if strings.Contains(logs.String(), s) {
			t.Errorf("the log lines hold %q", s)
		}
	}
}
