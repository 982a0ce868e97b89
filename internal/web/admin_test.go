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

var (
	tokenRE       = regexp.MustCompile(`cst_[a-z2-7]{20,}`)
	newPrincipal  = regexp.MustCompile(`id="new-principal-id">(PR-[0-9A-Z]{10})<`)
	centreCreated = regexp.MustCompile(`^/transplant/centres\?notice=[^&#]+#centre-(TC-[0-9A-Z]{10})$`)
	hexHash       = regexp.MustCompile(`[0-9a-f]{64}`)
)

// TestAdminCentres: the administrator registers a centre from the Centres
// page; a refusal comes back on the form; the regulator is not offered the
// form and is refused when posting it.
func TestAdminCentres(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	ad := newBrowser(t, w.URL)
	ad.signIn(w.Admin)

	p := ad.get("/")
	mustContain(t, "admin home", p, `id="administration"`, `href="/people"`, `href="/transplant/centres#register-centre"`)
	p = ad.get("/transplant/centres")
	wantStatus(t, "admin centres", p, http.StatusOK)
	mustContain(t, "admin centres", p, `<form method="post" action="/transplant/centres" id="centre" novalidate>`, `id="centre-name"`, `id="centre-city"`)

	p = ad.post("/transplant/centres", url.Values{"name": {"  "}, "city": {"Southport"}})
	wantStatus(t, "centre without name", p, http.StatusUnprocessableEntity)
	mustContain(t, "centre without name", p, `id="refusal-rule">required<`, `id="refusal-field">name<`,
		`id="centre-name" name="name" type="text" value="  " required aria-describedby="centre-name-error" aria-invalid="true"`,
		`id="centre-city" name="city" type="text" value="Southport"`, `<a href="#centre">Go to the form</a>`)

	p = ad.post("/transplant/centres", url.Values{"name": {"Centre C"}, "city": {"Southport"}})
	wantStatus(t, "register centre", p, http.StatusSeeOther)
	m := centreCreated.FindStringSubmatch(p.Header.Get("Location"))
	if m == nil {
		t.Fatalf("after registration, redirect to %q", p.Header.Get("Location"))
	}
	c := w.Must(t, 200, "GET", "/api/v1/centres/"+m[1], w.Regulator, nil)
	if c.Str("centre.name") != "Centre C" || c.Str("centre.city") != "Southport" || c.Str("centre.kind") != "transplant_centre" || c.Str("centre.jurisdiction") != "XA" {
		t.Errorf("registered centre: %s", c.Raw)
	}
	p = ad.get(p.Header.Get("Location"))
	mustContain(t, "registered", p, "Centre registered.", `id="centre-`+m[1]+`"`, "Centre C", "Southport")

	// The regulator grants authorizations, and registers no centre.
	r := newBrowser(t, w.URL)
	r.signIn(w.Regulator)
	p = r.get("/transplant/centres")
	if strings.Contains(p.Body, `action="/transplant/centres" id="centre"`) {
		t.Error("the regulator is offered the register centre form")
	}
	mustContain(t, "regulator centres", p, `action="/transplant/centres/`+m[1]+`/authorizations"`)
	p = r.post("/transplant/centres", url.Values{"name": {"Centre D"}})
	wantStatus(t, "regulator registers", p, http.StatusForbidden)
	mustContain(t, "regulator registers", p, `id="refusal-rule">role<`)
	if cs := w.Must(t, 200, "GET", "/api/v1/centres", w.Regulator, nil).Body["centres"].([]any); len(cs) != 3 {
		t.Errorf("%d centres, want 3", len(cs))
	}
}

// TestAdminPeople: the administrator lists principals, creates one (its
// token shown once, on the answer to the POST), and revokes it; the token
// signs in until it is revoked; others may not manage people.
func TestAdminPeople(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	adminID := w.Must(t, 200, "GET", "/api/v1/me", w.Admin, nil).Str("id")
	ad := newBrowser(t, w.URL)
	ad.signIn(w.Admin)
	r := newBrowser(t, w.URL)
	r.signIn(w.Regulator)

	p := r.get("/people")
	wantStatus(t, "regulator people", p, http.StatusForbidden)
	mustContain(t, "regulator people", p, `id="refusal-rule">role<`)
	if strings.Contains(r.get("/").Body, `href="/people"`) {
		t.Error("the regulator's navigation shows People")
	}

	p = ad.get("/people")
	wantStatus(t, "people", p, http.StatusOK)
	mustContain(t, "people", p, `<a href="/people" aria-current="page">People</a>`, `id="people"`,
		"Coordinator A", "Centre A", "Coordinator B", "Centre B", "Auditor", "Regulator", "Test Transplant Authority",
		`<form method="post" action="/people" id="principal" novalidate>`, `<option value="coordinator">`,
		`<option value="`+w.CentreA+`">Centre A (Transplant centre)</option>`)
	if hexHash.MatchString(p.Body) || tokenRE.MatchString(p.Body) {
		t.Error("the people page shows a token or a token hash")
	}
	if strings.Contains(p.Body, `action="/people/`+adminID+`/revoke"`) {
		t.Error("the administrator is offered to revoke their own token")
	}

	// Refusals come back on the form with what was typed.
	p = ad.post("/people", url.Values{"name": {"Coordinator X"}, "role": {"coordinator"}, "authority_id": {w.RegulatorAuthority}})
	wantStatus(t, "coordinator of the regulator", p, http.StatusUnprocessableEntity)
	mustContain(t, "coordinator of the regulator", p, `id="refusal-rule">coordinator_centre<`, `id="refusal-field">authority_id<`,
		`<select id="principal-authority_id" name="authority_id" required aria-describedby="principal-authority_id-hint principal-authority_id-error" aria-invalid="true">`,
		`value="Coordinator X"`, `<option value="coordinator" selected>`)
	p = ad.post("/people", url.Values{"name": {"Nobody"}, "role": {"superuser"}, "authority_id": {w.CentreA}})
	wantStatus(t, "unknown role", p, http.StatusUnprocessableEntity)
	mustContain(t, "unknown role", p, `id="refusal-field">role<`, `id="principal-role-error"`)

	// Created: the token is on the answer, once, with the warning.
	p = ad.post("/people", url.Values{"name": {"Coordinator C"}, "role": {"coordinator"}, "authority_id": {w.CentreB}})
	wantStatus(t, "create principal", p, http.StatusCreated)
	if loc := p.Header.Get("Location"); loc != "" {
		t.Errorf("create principal redirects to %q", loc)
	}
	if cc := p.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("token page: Cache-Control %q", cc)
	}
	token := tokenRE.FindString(p.Body)
	m := newPrincipal.FindStringSubmatch(p.Body)
	if token == "" || m == nil {
		t.Fatalf("no token or id on the result page:\n%s", p.Body)
	}
	id := m[1]
	if n := strings.Count(p.Body, token); n != 1 {
		t.Errorf("the token is on the page %d times", n)
	}
	mustContain(t, "token page", p, `id="token-warning"`, "Copy this token now", "only this once", "Coordinator C", "Centre B",
		`<input type="text" id="new-token" class="token" value="`+token+`" readonly`)

	c := newBrowser(t, w.URL)
	c.signIn(token)
	mustContain(t, "new principal", c.get("/"), `<span class="name">Coordinator C</span>`, "Centre B")

	p = ad.get("/people")
	if strings.Contains(p.Body, token) {
		t.Error("the people page shows the token again")
	}
	mustContain(t, "people after create", p, `id="person-`+id+`"`, `action="/people/`+id+`/revoke"`)

	// Only the administrator revokes, and not their own token.
	p = r.post("/people/"+id+"/revoke", url.Values{})
	wantStatus(t, "regulator revokes", p, http.StatusForbidden)
	p = ad.post("/people/"+adminID+"/revoke", url.Values{})
	wantStatus(t, "revoke own token", p, http.StatusConflict)
	mustContain(t, "revoke own token", p, `id="refusal-rule">own_token<`)
	wantStatus(t, "still signed in", c.get("/transplant/donors"), http.StatusOK)

	p = ad.post("/people/"+id+"/revoke", url.Values{})
	wantStatus(t, "revoke", p, http.StatusSeeOther)
	p = ad.get(noticed(t, "revoke", p, "/people"))
	mustContain(t, "revoked", p, "The token of "+id+" is revoked", `<tr id="person-`+id+`" class="revoked">`)
	if strings.Contains(p.Body, `action="/people/`+id+`/revoke"`) {
		t.Error("a revoked principal is offered for revocation")
	}
	p = c.get("/transplant/donors")
	wantStatus(t, "revoked token", p, http.StatusSeeOther)
	if loc := p.Header.Get("Location"); signInReason(p) != "expired" {
		t.Errorf("revoked token: redirect to %s", loc)
	}

	p = ad.post("/people/"+id+"/revoke", url.Values{})
	wantStatus(t, "revoke twice", p, http.StatusConflict)
	mustContain(t, "revoke twice", p, `id="refusal-rule">already_revoked<`)
	p = ad.post("/people/PR-0000000000/revoke", url.Values{})
	wantStatus(t, "revoke unknown", p, http.StatusNotFound)
}
