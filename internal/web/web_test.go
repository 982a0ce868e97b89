package web_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
	"github.com/custos-project/custos/internal/web"
)

// browser is a client of the web UI over real HTTP: it keeps the session
// cookie and does not follow redirects, so tests see each answer. It keeps
// the sign-in form's reason cookie as a browser does: set by an answer,
// sent until an answer clears it.
type browser struct {
	t      *testing.T
	base   string
	c      *http.Client
	cookie *http.Cookie
	reason *http.Cookie
}

func newBrowser(t *testing.T, base string) *browser {
	return &browser{t: t, base: base, c: &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type page struct {
	Status int
	Header http.Header
	Body   string
}

func (b *browser) do(method, path string, form url.Values) *page {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if b.cookie != nil {
		req.AddCookie(b.cookie)
	}
	if b.reason != nil {
		req.AddCookie(b.reason)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == web.ReasonCookie {
			b.reason = c
			if c.MaxAge < 0 {
				b.reason = nil
			}
		}
	}
	raw, _ := io.ReadAll(resp.Body)
	p := &page{Status: resp.StatusCode, Header: resp.Header, Body: string(raw)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") && resp.StatusCode/100 != 3 {
		checkPage(b.t, method+" "+path, p.Body)
	}
	return p
}

func (b *browser) get(path string) *page { return b.do("GET", path, nil) }

// post submits a form with the CSRF token of the session's pages.
func (b *browser) post(path string, form url.Values) *page {
	b.t.Helper()
	form.Set("csrf", b.csrf())
	return b.do("POST", path, form)
}

func (b *browser) csrf() string {
	b.t.Helper()
	m := csrfRE.FindStringSubmatch(b.get("/").Body)
	if m == nil {
		b.t.Fatal("no CSRF token on the start page")
	}
	return m[1]
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) signIn(token string) {
	b.t.Helper()
	b.cookie = nil
	p := b.do("POST", "/signin", url.Values{"token": {token}})
	if p.Status != http.StatusSeeOther {
		b.t.Fatalf("sign in: status %d: %s", p.Status, p.Body)
	}
	b.cookie = sessionCookie(b.t, p)
}

// signInReason is why the sign-in form says it is shown when p, an
// answer, sends the browser there: the reason cookie p sets; "" when p is
// no redirect to the sign-in form, or sets none.
func signInReason(p *page) string {
	if loc, err := url.Parse(p.Header.Get("Location")); p.Status != http.StatusSeeOther || err != nil || loc.Path != "/" {
		return ""
	}
	for _, c := range (&http.Response{Header: p.Header}).Cookies() {
		if c.Name == web.ReasonCookie && c.MaxAge > 0 {
			return c.Value
		}
	}
	return ""
}

func sessionCookie(t *testing.T, p *page) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: p.Header}).Cookies() {
		if c.Name == web.CookieName {
			return c
		}
	}
	t.Fatalf("no %s cookie set", web.CookieName)
	return nil
}

// checkPage checks what every page must be: no script, no inline style (the
// server's CSP forbids both), one stylesheet of our own.
func checkPage(t *testing.T, what, body string) {
	t.Helper()
	for _, bad := range []string{"<script", " style=", "<style", "javascript:", "ZgotmplZ"} {
		if strings.Contains(body, bad) {
			t.Errorf("%s: page contains %q", what, bad)
		}
	}
	if !strings.Contains(body, `<link rel="stylesheet" href="/static/custos.css">`) {
		t.Errorf("%s: page lacks the stylesheet", what)
	}
}

func mustContain(t *testing.T, what string, p *page, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(p.Body, s) {
			t.Errorf("%s: page lacks %q", what, s)
		}
	}
}

func wantStatus(t *testing.T, what string, p *page, status int) {
	t.Helper()
	if p.Status != status {
		t.Fatalf("%s: status %d, want %d\n%s", what, p.Status, status, p.Body)
	}
}

func donorForm(dateOfDeath string) url.Values {
	return url.Values{"kind": {"deceased_brain_death"}, "name": {"Test Donor (synthetic)"}, "national_id": {"XA111"},
		"sex": {"female"}, "blood_group": {"O"}, "date_of_birth": {"1970-05-01"}, "weight_kg": {"70"}, "height_cm": {"170"},
		"cause_of_death": {"cerebrovascular accident"}, "date_of_death": {dateOfDeath}, "iv_drug_use": {"no"},
		"malignancy": {"no"}, "transmissible_disease": {"no"}, "hiv": {"negative"}, "hcv": {"negative"}, "hbv": {"negative"},
		"organ_function": {"normal creatinine"}}
}

func yesterday() string { return time.Now().UTC().AddDate(0, 0, -1).Format("2006-01-02") }

func TestSignIn(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	b := newBrowser(t, w.URL)

	p := b.get("/")
	wantStatus(t, "start page", p, http.StatusOK)
	mustContain(t, "start page", p, `<form method="post" action="/signin" id="signin"`, `name="token"`, `<label for="signin-token">`)

	p = b.do("POST", "/signin", url.Values{"token": {"cst_notarealtoken"}})
	wantStatus(t, "unknown token", p, http.StatusUnauthorized)
	mustContain(t, "unknown token", p, "unknown or revoked", `aria-invalid="true"`, `id="refusal-rule">authentication<`)
	if strings.Contains(p.Body, "cst_notarealtoken") {
		t.Error("the refused token is echoed back")
	}

	p = b.do("POST", "/signin", url.Values{"token": {"  " + w.CoordA + " "}})
	wantStatus(t, "sign in", p, http.StatusSeeOther)
	if loc := p.Header.Get("Location"); loc != "/" {
		t.Errorf("sign in redirects to %q", loc)
	}
	c := sessionCookie(t, p)
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure || c.Path != "/" {
		t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, not Secure over plain HTTP, Path=/", c)
	}
	b.cookie = c

	p = b.get("/")
	wantStatus(t, "home", p, http.StatusOK)
	mustContain(t, "home", p, transplant.Module.Title, `<span class="name">Coordinator A</span>`, `<span class="role role-coordinator">Coordinator</span>`, "Centre A",
		`href="/transplant/donors"`, `href="/transplant/recipients"`, `href="/transplant/organs"`, `href="/transplant/trace"`, `action="/signout"`)
	if strings.Contains(p.Body, `href="/alerts"`) {
		t.Error("a coordinator's navigation shows Alerts")
	}
	if cc := p.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}

	// The regulator's navigation is another.
	r := newBrowser(t, w.URL)
	r.signIn(w.Regulator)
	p = r.get("/")
	mustContain(t, "regulator home", p, `<span class="role role-regulator">Regulator</span>`, `href="/alerts"`, `href="/transplant/centres"`, `href="/transplant/trace"`)

	// Not signed in: back to the sign-in form, then back to the page.
	anon := newBrowser(t, w.URL)
	p = anon.get("/transplant/donors")
	wantStatus(t, "anonymous", p, http.StatusSeeOther)
	loc, _ := url.Parse(p.Header.Get("Location"))
	if loc.Path != "/" || loc.Query().Get("next") != "/transplant/donors" || signInReason(p) != "signin" {
		t.Errorf("anonymous redirect to %s, reason %q", loc, signInReason(p))
	}
	p = anon.get(loc.String())
	mustContain(t, "sign in with next", p, `name="next" value="/transplant/donors"`, "Sign in to continue.")
	p = anon.do("POST", "/signin", url.Values{"token": {w.CoordA}, "next": {"/transplant/donors"}})
	if p.Header.Get("Location") != "/transplant/donors" {
		t.Errorf("after sign-in, redirect to %q, want /transplant/donors", p.Header.Get("Location"))
	}
	// Another site, also as browsers read a path with a tab, a newline
	// or a backslash in it (they drop the first two: "/\t/x" is "//x").
	for _, next := range []string{"//evil.example/", "/\t/evil.example", "/\n/evil.example", "/\\evil.example", "/\x7f/evil.example"} {
		p = anon.do("POST", "/signin", url.Values{"token": {w.CoordA}, "next": {next}})
		if p.Header.Get("Location") != "/" {
			t.Errorf("next %q: open redirect to %q", next, p.Header.Get("Location"))
		}
	}

	// An unknown (or revoked) token in the cookie: back to sign-in, with a
	// clear message, and the cookie is cleared.
	stale := newBrowser(t, w.URL)
	stale.cookie = &http.Cookie{Name: web.CookieName, Value: "cst_revokedorunknown"}
	p = stale.get("/transplant/recipients")
	wantStatus(t, "stale session", p, http.StatusSeeOther)
	if cleared := sessionCookie(t, p); cleared.MaxAge >= 0 || cleared.Value != "" {
		t.Errorf("stale cookie not cleared: %+v", cleared)
	}
	p = stale.get(p.Header.Get("Location"))
	wantStatus(t, "stale sign-in page", p, http.StatusOK)
	mustContain(t, "stale sign-in page", p, "Your session has ended", `id="signin"`)

	// A principal whose token is revoked while signed in is sent back to
	// sign in at the next request.
	rv := newBrowser(t, w.URL)
	rv.signIn(w.CoordB)
	wantStatus(t, "before revocation", rv.get("/transplant/donors"), http.StatusOK)
	token := rv.csrf()
	id := w.Must(t, 200, "GET", "/api/v1/me", w.CoordB, nil).Str("id")
	if _, err := w.App.Writer.Submit(context.Background(), ledger.Actor{}, "revoke principal", auth.RevokePrincipal(id)); err != nil {
		t.Fatal(err)
	}
	p = rv.get("/transplant/donors")
	wantStatus(t, "revoked", p, http.StatusSeeOther)
	if loc := p.Header.Get("Location"); signInReason(p) != "expired" {
		t.Errorf("revoked: redirect to %s", loc)
	}
	p = rv.do("POST", "/transplant/recipients", url.Values{"name": {"X"}, "csrf": {token}})
	wantStatus(t, "revoked post", p, http.StatusUnauthorized)
	mustContain(t, "revoked post", p, "Your session has ended", `id="signin"`)

	// Sign out clears the cookie.
	p = b.post("/signout", url.Values{})
	wantStatus(t, "sign out", p, http.StatusSeeOther)
	if cleared := sessionCookie(t, p); cleared.MaxAge >= 0 {
		t.Errorf("sign out left the cookie: %+v", cleared)
	}

	// The stylesheet is served.
	p = b.get("/static/custos.css")
	if p.Status != http.StatusOK || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/css") {
		t.Errorf("stylesheet: %d %s", p.Status, p.Header.Get("Content-Type"))
	}
	if p = b.get("/static/"); p.Status != http.StatusNotFound {
		t.Errorf("/static/ lists the folder: status %d", p.Status)
	}
}

func TestCSRF(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	a := newBrowser(t, w.URL)
	a.signIn(w.CoordA)
	bb := newBrowser(t, w.URL)
	bb.signIn(w.CoordB)

	countDonors := func() int {
		r := w.Must(t, 200, "GET", "/api/v1/donors", w.Regulator, nil)
		ds, _ := r.Body["donors"].([]any)
		return len(ds)
	}

	for _, tc := range []struct {
		name, token string
	}{
		{"missing", ""},
		{"forged", "AAAA"},
		{"another session's", bb.csrf()},
	} {
		f := donorForm(yesterday())
		if tc.token != "" {
			f.Set("csrf", tc.token)
		}
		p := a.do("POST", "/transplant/donors", f)
		wantStatus(t, tc.name+" CSRF token", p, http.StatusForbidden)
		mustContain(t, tc.name+" CSRF token", p, `id="refusal-rule">csrf<`, "reload the page")
	}
	if n := countDonors(); n != 0 {
		t.Fatalf("%d donors registered by forms without a valid CSRF token", n)
	}

	// A cross-site POST is refused even before the token is read.
	req, _ := http.NewRequest("POST", w.URL+"/transplant/donors", strings.NewReader(donorForm(yesterday()).Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.AddCookie(a.cookie)
	resp, err := a.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site POST: status %d", resp.StatusCode)
	}

	p := a.post("/transplant/donors", donorForm(yesterday()))
	wantStatus(t, "valid form", p, http.StatusSeeOther)
	if !donorLocation.MatchString(p.Header.Get("Location")) {
		t.Errorf("after registration, redirect to %q", p.Header.Get("Location"))
	}
	if n := countDonors(); n != 1 {
		t.Fatalf("%d donors after a valid form, want 1", n)
	}
	p = a.get(p.Header.Get("Location"))
	mustContain(t, "donor page", p, "Donor registered.", `id="consent"`, `id="procurement"`)
	if strings.Contains(p.Body, "Test Donor (synthetic)") || strings.Contains(p.Body, "XA111") {
		t.Error("the donor page shows personal data")
	}
}

func TestRefusalShowsRuleAndField(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	a := newBrowser(t, w.URL)
	a.signIn(w.CoordA)

	// A date of death in the future: 422, the rule and field named, the
	// field highlighted, the other values kept.
	f := donorForm(time.Now().UTC().AddDate(0, 0, 3).Format("2006-01-02"))
	p := a.post("/transplant/donors", f)
	wantStatus(t, "future death", p, http.StatusUnprocessableEntity)
	mustContain(t, "future death", p, `id="refusal-rule">dates_in_order<`, `id="refusal-field">date_of_death<`,
		`<div class="field has-error">`, `aria-describedby="donor-date_of_death-hint donor-date_of_death-error" aria-invalid="true"`,
		`id="donor-date_of_death-error"`, `value="cerebrovascular accident"`, `<option value="O" selected>`)
	if strings.Count(p.Body, `aria-invalid="true"`) != 1 {
		t.Errorf("%d fields highlighted, want 1", strings.Count(p.Body, `aria-invalid="true"`))
	}

	// A non-number in a number field.
	f = donorForm(yesterday())
	f.Set("weight_kg", "seventy")
	p = a.post("/transplant/donors", f)
	wantStatus(t, "weight", p, http.StatusUnprocessableEntity)
	mustContain(t, "weight", p, `id="refusal-rule">integer<`, `id="refusal-field">weight_kg<`, `id="donor-weight_kg-error"`)

	// Procurement without consent: 403 and an alert for the regulator.
	p = a.post("/transplant/donors", donorForm(yesterday()))
	donor := recordOf(t, "donor", p, "/transplant/donors/")
	p = a.post("/transplant/donors/"+donor+"/procurements", url.Values{"procured_at": {time.Now().UTC().Add(-time.Hour).Format("2006-01-02T15:04")},
		"count_kidney": {"2"}})
	wantStatus(t, "procurement without consent", p, http.StatusForbidden)
	mustContain(t, "procurement without consent", p, `id="refusal-rule">deceased_authorization<`, `id="refusal-field">donor_id<`,
		`<a href="#procurement">Go to the form</a>`, `id="procurement-count_kidney" name="count_kidney" type="number" value="2"`)

	// Too many kidneys: the registry names organs[2], the form highlights
	// the kidney count.
	w.Must(t, 201, "POST", "/api/v1/donors/"+donor+"/consents", w.CoordA, map[string]any{"kind": "family_authorization",
		"given_on": yesterday(), "assessed_by": "Dr Test", "voluntary": true, "informed": true})
	p = a.post("/transplant/donors/"+donor+"/procurements", url.Values{"procured_at": {time.Now().UTC().Add(-time.Hour).Format("2006-01-02T15:04")},
		"count_kidney": {"3"}})
	wantStatus(t, "three kidneys", p, http.StatusUnprocessableEntity)
	mustContain(t, "three kidneys", p, `id="refusal-rule">organ_count<`, `id="refusal-field">organs[2]<`,
		`id="procurement-count_kidney" name="count_kidney" type="number" value="3" min="0" max="10" aria-describedby="procurement-count_kidney-error" aria-invalid="true"`)

	// A badly written time.
	p = a.post("/transplant/donors/"+donor+"/procurements", url.Values{"procured_at": {"yesterday"}, "count_kidney": {"1"}})
	wantStatus(t, "bad time", p, http.StatusUnprocessableEntity)
	mustContain(t, "bad time", p, `id="refusal-rule">time_format<`, `id="refusal-field">procured_at<`)

	// Role refusals.
	au := newBrowser(t, w.URL)
	au.signIn(w.Auditor)
	p = au.post("/transplant/donors", donorForm(yesterday()))
	wantStatus(t, "auditor registers", p, http.StatusForbidden)
	mustContain(t, "auditor registers", p, `id="refusal-rule">role<`)
	p = au.get("/transplant/donors")
	wantStatus(t, "auditor reads donors", p, http.StatusOK)
	mustContain(t, "auditor reads donors", p, donor)
	// A query string that cannot be decoded is refused, not read as absent.
	p = au.get("/transplant/donors?cursor=%%%%")
	wantStatus(t, "undecodable query", p, http.StatusBadRequest)
	mustContain(t, "undecodable query", p, `id="refusal-rule">query<`)
	if strings.Contains(p.Body, `action="/transplant/donors"`) {
		t.Error("the auditor is offered the donor form")
	}
	p = a.get("/alerts")
	wantStatus(t, "coordinator reads alerts", p, http.StatusForbidden)

	// The regulator sees the alert.
	r := newBrowser(t, w.URL)
	r.signIn(w.Regulator)
	p = r.get("/alerts")
	wantStatus(t, "alerts", p, http.StatusOK)
	mustContain(t, "alerts", p, `<code class="rule">deceased_authorization</code>`, "Centre A", "record procurement", donor)
	p = au.get("/alerts")
	wantStatus(t, "auditor alerts", p, http.StatusOK)
	mustContain(t, "auditor alerts", p, "deceased_authorization")
}

func TestCentres(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	r := newBrowser(t, w.URL)
	r.signIn(w.Regulator)

	p := r.get("/transplant/centres")
	wantStatus(t, "centres", p, http.StatusOK)
	mustContain(t, "centres", p, "Centre A", "Centre B", `action="/transplant/centres/`+w.CentreB+`/authorizations"`)
	// An authorization starts at most a year, and ends at most ten years,
	// ahead: the date inputs' max.
	ahead := func(years int) string { return time.Now().UTC().AddDate(years, 0, 0).Format("2006-01-02") }
	mustContain(t, "centres' date inputs", p,
		`id="grant-`+w.CentreB+`-valid_from" name="valid_from" type="date" value="`+ahead(0)+`" max="`+ahead(1)+`"`,
		`id="grant-`+w.CentreB+`-valid_to" name="valid_to" type="date" value="" max="`+ahead(10)+`"`)

	p = r.post("/transplant/centres/"+w.CentreB+"/authorizations", url.Values{"activity": {"transplantation"}, "organ": {"heart"}, "valid_from": {"2026-01-01"}, "valid_to": {"2025-01-01"}})
	wantStatus(t, "dates out of order", p, http.StatusUnprocessableEntity)
	mustContain(t, "dates out of order", p, `id="refusal-field">valid_to<`, `id="grant-`+w.CentreB+`-valid_to"`, `aria-invalid="true"`)

	p = r.post("/transplant/centres/"+w.CentreB+"/authorizations", url.Values{"activity": {"transplantation"}, "organ": {"heart"}, "valid_from": {"2026-01-01"}})
	granted := noticed(t, "grant", p, "/transplant/centres")
	as := w.Must(t, 200, "GET", "/api/v1/centres/"+w.CentreB+"/authorizations", w.Regulator, nil).Body["authorizations"].([]any)
	var heart string
	for _, a := range as {
		if m := a.(map[string]any); m["organ"] == "heart" {
			heart = m["id"].(string)
		}
	}
	if heart == "" {
		t.Fatal("the grant form granted nothing")
	}
	p = r.get(granted)
	mustNotContain(t, "the bare address", r.get("/transplant/centres?done=grant"), `id="flash"`)
	mustContain(t, "granted", p, "Authorization granted.", "Heart", `action="/transplant/centres/`+w.CentreB+`/authorizations/`+heart+`/revoke"`)

	p = r.post("/transplant/centres/"+w.CentreB+"/authorizations/"+heart+"/revoke", url.Values{"reason": {"  "}})
	wantStatus(t, "revoke without reason", p, http.StatusUnprocessableEntity)
	mustContain(t, "revoke without reason", p, `id="refusal-rule">required<`, `id="refusal-field">reason<`, `id="revoke-`+heart+`-reason"`)

	p = r.post("/transplant/centres/"+w.CentreB+"/authorizations/"+heart+"/revoke", url.Values{"reason": {"inspection found no cardiac surgeon"}})
	wantStatus(t, "revoke", p, http.StatusSeeOther)
	p = r.get("/transplant/centres")
	mustContain(t, "revoked", p, "inspection found no cardiac surgeon", `class="revoked"`)

	// The auditor reads, without forms; a coordinator may not grant.
	au := newBrowser(t, w.URL)
	au.signIn(w.Auditor)
	p = au.get("/transplant/centres")
	wantStatus(t, "auditor centres", p, http.StatusOK)
	if strings.Contains(p.Body, `<form method="post" action="/transplant/centres/`) {
		t.Error("the auditor is offered centre forms")
	}
	c := newBrowser(t, w.URL)
	c.signIn(w.CoordA)
	p = c.post("/transplant/centres/"+w.CentreA+"/authorizations", url.Values{"activity": {"procurement"}, "organ": {"heart"}, "valid_from": {"2026-01-01"}})
	wantStatus(t, "coordinator grants", p, http.StatusForbidden)
}

func TestTraceSearch(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	donor := w.Must(t, 201, "POST", "/api/v1/donors", w.CoordA, apptest.DeceasedDonor(w.CentreA)).Str("id")
	w.Must(t, 201, "POST", "/api/v1/donors/"+donor+"/consents", w.CoordA, map[string]any{"kind": "family_authorization",
		"given_on": yesterday(), "assessed_by": "Dr Test", "voluntary": true, "informed": true})
	pr := w.Must(t, 201, "POST", "/api/v1/procurements", w.CoordA, map[string]any{"donor_id": donor, "procured_at": apptest.Hours(1),
		"organs": []string{"kidney", "liver"}})
	organs := pr.Body["organs"].([]any)
	kidney := organs[0].(map[string]any)["id"].(string)
	liver := organs[1].(map[string]any)["id"].(string)

	a := newBrowser(t, w.URL)
	a.signIn(w.CoordA)
	typed := strings.ToLower(strings.ReplaceAll(kidney, "-", " "))
	p := a.get("/transplant/trace?q=" + url.QueryEscape(" "+typed+" "))
	wantStatus(t, "trace organ", p, http.StatusOK)
	mustContain(t, "trace organ", p, kidney, liver, donor, "Centre A", `class="match"`)

	p = a.get("/transplant/trace?q=" + url.QueryEscape(strings.ToLower(donor)))
	wantStatus(t, "trace donor", p, http.StatusOK)
	mustContain(t, "trace donor", p, kidney, liver, `href="/transplant/donors/`+donor+`"`)

	bad := kidney[:len(kidney)-1] + "0"
	if strings.HasSuffix(kidney, "0") {
		bad = kidney[:len(kidney)-1] + "1"
	}
	p = a.get("/transplant/trace?q=" + url.QueryEscape(bad))
	wantStatus(t, "mistyped organ", p, http.StatusUnprocessableEntity)
	mustContain(t, "mistyped organ", p, `id="refusal-rule">organ_id_check<`, `id="trace-q"`, `aria-invalid="true"`)

	p = a.get("/transplant/trace?q=RC-0000000000")
	wantStatus(t, "unknown recipient", p, http.StatusNotFound)

	// The donor page lists the organs, each linking to its trace.
	p = a.get("/transplant/donors/" + donor)
	mustContain(t, "donor organs", p, `href="/transplant/trace?q=`+kidney+`"`, `href="/transplant/trace?q=`+liver+`"`)

	// Organs available: the coordinator gets an authorize form per organ.
	p = a.get("/transplant/organs")
	mustContain(t, "organs", p, `id="authorize-`+kidney+`"`, `id="authorize-`+liver+`"`, "No recipient of your centre waits for a kidney")
}

// TestOldTransplantPaths: the addresses of the transplant pages before they
// moved under /transplant/ keep working (docs/transplant.md): a GET is
// redirected permanently to the new path, its query kept, even before
// sign-in; a POST is answered where it is, CSRF-checked as at the new path.
func TestOldTransplantPaths(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		anon := newBrowser(t, w.URL)
		for _, old := range []string{"/donors", "/donors/DN-0000000000", "/recipients", "/recipients/RC-0000000000", "/organs",
			"/transplants/new?organ_id=XA-26-000123-01-5&recipient_id=RC-0000000000", "/trace?q=dn+7k%2F2", "/centres"} {
			p := anon.get(old)
			wantStatus(t, "GET "+old, p, http.StatusPermanentRedirect)
			if loc := p.Header.Get("Location"); loc != "/transplant"+old {
				t.Errorf("GET %s: redirected to %q, want %q", old, loc, "/transplant"+old)
			}
		}
		for _, core := range []string{"/people", "/alerts"} {
			if p := anon.get(core); p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/?") {
				t.Errorf("GET %s: the core's page answers %d to %q", core, p.Status, p.Header.Get("Location"))
			}
		}

		// Signed in, the redirect leads to the page.
		a := newBrowser(t, w.URL)
		a.signIn(w.CoordA)
		p := a.get("/recipients")
		wantStatus(t, "old recipients", p, http.StatusPermanentRedirect)
		p = a.get(p.Header.Get("Location"))
		wantStatus(t, "recipients", p, http.StatusOK)
		mustContain(t, "recipients", p, `<a href="/transplant/recipients" aria-current="page">Recipients</a>`)

		// A POST to an old address is the page's own: refusals, CSRF and
		// the answer are those of the new address.
		f := donorForm(yesterday())
		p = a.do("POST", "/donors", f)
		wantStatus(t, "old POST without CSRF token", p, http.StatusForbidden)
		mustContain(t, "old POST without CSRF token", p, `id="refusal-rule">csrf<`)
		f.Set("date_of_death", time.Now().UTC().AddDate(0, 0, 3).Format("2006-01-02"))
		p = a.post("/donors", f)
		wantStatus(t, "old POST refused", p, http.StatusUnprocessableEntity)
		mustContain(t, "old POST refused", p, `id="refusal-rule">dates_in_order<`, `<form method="post" action="/transplant/donors" id="donor" novalidate>`)
		p = a.post("/donors", donorForm(yesterday()))
		wantStatus(t, "old POST", p, http.StatusSeeOther)
		donor := recordOf(t, "old POST", p, "/transplant/donors/")
		p = a.post("/donors/"+donor+"/consents", url.Values{"kind": {"family_authorization"}, "given_on": {yesterday()},
			"assessed_by": {"Dr Test"}, "voluntary": {"yes"}, "informed": {"yes"}})
		wantStatus(t, "old consent POST", p, http.StatusSeeOther)
		noticed(t, "old consent POST", p, "/transplant/donors/"+donor)
		if cs, _ := w.Must(t, 200, "GET", "/api/v1/donors/"+donor, w.Regulator, nil).Body["consents"].([]any); len(cs) != 1 {
			t.Errorf("%d consents after the old POST, want 1", len(cs))
		}
	})
}
