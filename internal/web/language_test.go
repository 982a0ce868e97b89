package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/storetest"
)

// TestAccountLanguage has a regulator choose French on their account
// page: the choice is one principal.preferences_set entry with the
// language, the next page is in French (its lang attribute, its heading
// and the flash as the catalogue translates them), the role in the header
// is named in French; a language the registry does not speak is refused
// on the form and changes nothing; choosing the browser's language ("")
// brings the English pages back.
func TestAccountLanguage(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	fr := i18n.CoreOnly().Localizer("fr")
	heading := fr.T("My account")
	if heading == "My account" {
		t.Fatal("the French catalogue has no translation of \"My account\": nothing to test the page against")
	}

	b := newBrowser(t, w.URL)
	b.signIn(w.Regulator)
	p := b.get("/account")
	wantStatus(t, "account", p, http.StatusOK)
	mustContain(t, "account", p, `<html lang="en" dir="ltr">`, "<h1>My account</h1>", `<select id="preferences-language" name="language"`,
		`<option value="" selected>The browser&#39;s language</option>`, `<option value="fr">Français</option>`, `<option value="ar">العربية</option>`)
	mustNotContain(t, "account", p, "Choose…")

	// A language the registry does not speak: refused on the form, the
	// log unchanged.
	before := lastLeaf(t, w)
	p = b.post("/account", url.Values{"time_zone": {""}, "language": {"xx"}})
	wantStatus(t, "unknown language", p, http.StatusUnprocessableEntity)
	mustContain(t, "unknown language", p, `id="refusal-rule">language<`, `id="refusal-field">language<`, `id="preferences-language-error"`)
	if after := lastLeaf(t, w); after != before {
		t.Fatalf("a refused language wrote %d log entries", after-before)
	}

	p = b.post("/account", url.Values{"time_zone": {""}, "language": {"fr"}})
	wantStatus(t, "choose French", p, http.StatusSeeOther)
	account := noticed(t, "choose French", p, "/account")
	wantLeaves(t, "choose French", w, before, auth.TypePreferencesSet)
	var leaf string
	if err := w.App.DB.Read().QueryRow(context.Background(), "SELECT data FROM log_leaves ORDER BY idx DESC LIMIT 1").Scan(&leaf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(leaf, `"language":"fr"`) {
		t.Errorf("the preferences entry: %s", leaf)
	}

	p = b.get(account)
	wantStatus(t, "account in French", p, http.StatusOK)
	mustContain(t, "account in French", p, `<html lang="fr" dir="ltr">`, "<h1>"+html.EscapeString(heading)+"</h1>",
		html.EscapeString(fr.T("Your preferences are saved: pages show times in %s.", "UTC")),
		`<span class="role role-regulator">`+html.EscapeString(fr.T("Regulator"))+`</span>`,
		`<option value="fr" selected>Français</option>`, `id="account-language">Français<`)
	if p.Header.Get("Content-Language") != "fr" {
		t.Errorf("Content-Language %q", p.Header.Get("Content-Language"))
	}
	// Every page follows the principal, not only this one.
	mustContain(t, "home in French", b.get("/"), `<html lang="fr" dir="ltr">`)
	// Another principal's pages stay English.
	other := newBrowser(t, w.URL)
	other.signIn(w.CoordA)
	mustContain(t, "another principal", other.get("/account"), `<html lang="en" dir="ltr">`, "<h1>My account</h1>")

	// The browser's language again: English, as this browser asks for
	// none.
	p = b.post("/account", url.Values{"time_zone": {""}, "language": {""}})
	wantStatus(t, "browser's language", p, http.StatusSeeOther)
	p = b.get("/account")
	mustContain(t, "browser's language", p, `<html lang="en" dir="ltr">`, "<h1>My account</h1>", `id="account-language">English (the browser&#39;s)<`)
}

// TestCorePagesInEveryLanguage has an administrator read each page of the
// core in each language the registry speaks: every page is served, in the
// language (its lang and dir), with no message left unfilled or filled
// with the wrong arguments (fmt's "%!").
func TestCorePagesInEveryLanguage(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	b := newBrowser(t, w.URL)
	b.signIn(w.Admin)
	pages := []string{"/", "/account", "/alerts", "/people", "/authorities", "/log", "/log?index=0", "/log/verify",
		"/exchange/peers", "/exchange/outbox", "/exchange/inbox"}
	for _, l := range i18n.CoreOnly().Languages() {
		p := b.post("/account", url.Values{"time_zone": {""}, "language": {l.Code}})
		wantStatus(t, "choose "+l.Code, p, http.StatusSeeOther)
		for _, path := range pages {
			p := b.get(path)
			what := l.Code + " " + path
			wantStatus(t, what, p, http.StatusOK)
			mustContain(t, what, p, `<html lang="`+l.Code+`" dir="`+l.Dir()+`">`)
			if i := strings.Index(p.Body, "%!"); i >= 0 {
				t.Errorf("%s: a message with the wrong arguments: %s", what, p.Body[max(0, i-80):min(len(p.Body), i+80)])
			}
		}
	}
}
