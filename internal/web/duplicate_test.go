package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

var donorLocation = regexp.MustCompile(`^/transplant/donors/(DN-[0-9A-Z]{10})\?notice=[^&#]+$`)

// TestRegisterLikelyDuplicate registers a donor through the form, then the
// same person again: the form comes back (409) with the rule, the record it
// looks like linked, and the two ways on: the identifier of the same person,
// or a reason. Both register; the Find a person page then finds all three
// records, and is refused to an auditor, who may not open personal data.
func TestRegisterLikelyDuplicate(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	a := newBrowser(t, w.URL)
	a.signIn(w.CoordA)

	register := func(what string, f url.Values) string {
		t.Helper()
		p := a.post("/transplant/donors", f)
		wantStatus(t, what, p, http.StatusSeeOther)
		m := donorLocation.FindStringSubmatch(p.Header.Get("Location"))
		if m == nil {
			t.Fatalf("%s: redirect to %q", what, p.Header.Get("Location"))
		}
		return m[1]
	}
	first := register("first", donorForm(yesterday()))

	again := donorForm(yesterday())
	again.Set("name", "TEST donor (Synthetic)")
	again.Set("national_id", "XA-999")
	p := a.post("/transplant/donors", again)
	wantStatus(t, "the same name and birth date", p, http.StatusConflict)
	mustContain(t, "the same name and birth date", p, `id="refusal-rule">likely_duplicate<`, `id="refusal-field">name<`,
		`id="donor-duplicates"`, `href="/transplant/donors/`+first+`"`, `id="donor-duplicate_of"`, `id="donor-not_duplicate_reason"`,
		`value="TEST donor (Synthetic)"`)

	again.Set("not_duplicate_reason", "another person: checked the hospital file")
	other := register("with a reason", again)
	linked := donorForm(yesterday())
	linked.Set("duplicate_of", first)
	same := register("linked", linked)
	d := w.Must(t, 200, "GET", "/api/v1/transplant/donors/"+same, w.Auditor, nil)
	if d.Str("donor.duplicate_of") != first {
		t.Errorf("the linked donor: %s", d.Raw)
	}
	mustContain(t, "the linked donor's page", a.get("/transplant/donors/"+same), `id="duplicate-of" href="/transplant/donors/`+first+`"`)
	mustContain(t, "the other donor's page", a.get("/transplant/donors/"+other), `id="not-duplicate-reason">another person: checked the hospital file<`)

	rc := apptest.Recipient(w.CentreA, "kidney")
	rc1 := w.Must(t, 201, "POST", "/api/v1/transplant/recipients", w.CoordA, rc).Str("id")
	rc["organ_needed"], rc["duplicate_of"] = "pancreas", rc1
	rc2 := w.Must(t, 201, "POST", "/api/v1/transplant/recipients", w.CoordA, rc).Str("id")
	mustContain(t, "the linked recipient's page", a.get("/transplant/recipients/"+rc2), `id="duplicate-of" href="/transplant/recipients/`+rc1+`"`)

	p = a.get("/transplant/persons")
	wantStatus(t, "find a person", p, http.StatusOK)
	mustContain(t, "find a person", p, `<a href="/transplant/persons"`, `id="person-national_id"`, `id="person-purpose"`)
	p = a.post("/transplant/persons", url.Values{"name": {"Donor Test (synthetic)"}, "date_of_birth": {"1970-05-01"}, "purpose": {"test"}})
	wantStatus(t, "search", p, http.StatusOK)
	if cc := p.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("search answer: Cache-Control %q", cc)
	}
	for _, id := range []string{first, other, same} {
		mustContain(t, "search", p, `href="/transplant/donors/`+id+`"`)
	}
	p = a.post("/transplant/persons", url.Values{"national_id": {"XA111"}})
	wantStatus(t, "search without purpose", p, http.StatusUnprocessableEntity)
	mustContain(t, "search without purpose", p, `id="refusal-rule">required<`, `id="refusal-field">purpose<`)
	if strings.Contains(p.Body, "found") && strings.Contains(p.Body, `id="matches"`) {
		t.Error("a refused search lists records")
	}

	au := newBrowser(t, w.URL)
	au.signIn(w.Auditor)
	wantStatus(t, "an auditor's search page", au.get("/transplant/persons"), http.StatusForbidden)
	if strings.Contains(au.get("/transplant/donors").Body, `href="/transplant/persons"`) {
		t.Error("the auditor is offered Find a person")
	}
}
