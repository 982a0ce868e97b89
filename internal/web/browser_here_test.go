package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// TestBrowserLanguageAfterRefusal switches the language from the page a
// refused form answers, at the form's POST-only address, in headless
// Chromium: a consent recorded without who assessed it is refused at
// /transplant/donors/{id}/consents, which serves no GET; the switch then
// brings the browser to the donor's page (the nearest address served for
// GET), 200 and in the new language, not to a 405. A transplantation
// without authorization, refused at /transplant/transplants, whose parent
// serves no GET either, comes back to the home page.
func TestBrowserLanguageAfterRefusal(t *testing.T) {
	path := findChromium()
	if path == "" {
		t.Skip("no Chromium found: set CUSTOS_CHROMIUM to a Chromium or Chrome binary, or install chromium, to run the browser test")
	}
	w := apptest.NewWorld(t, storetest.SQLite(t))
	cat := w.App.Languages
	donor := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, apptest.DeceasedDonor(w.CentreA)).Str("id")

	b := newTab(t, path, w.URL)
	b.signIn(w.CoordA)
	switchTo := func(code, want string) {
		t.Helper()
		b.do("choose "+code, chromedp.SetValue(chromedp.ID("language-switch"), code))
		b.click("change the language to "+code, `#languages button[type="submit"]`, 200)
		lang, _ := cat.Language(code)
		b.inLanguage(lang)
		if got := b.eval(`location.pathname`); got != want {
			t.Errorf("the switch to %s came back to %s, want %s", code, got, want)
		}
	}

	b.open("/transplant/donors/"+donor, 200)
	b.fill(map[string]string{"consent-given_on": yesterday()})
	b.click("record a consent without its assessor", `#consent button[type="submit"]`, 422)
	if got := b.eval(`location.pathname`); got != "/transplant/donors/"+donor+"/consents" {
		t.Fatalf("the refused consent is answered at %s", got)
	}
	if field := b.text("#refusal-field"); field != "assessed_by" {
		t.Fatalf("the consent is refused on %q, want assessed_by", field)
	}
	switchTo("fr", "/transplant/donors/"+donor)
	if id := b.text("#donor-id"); id != donor {
		t.Errorf("the donor's page shows %q, want %s", id, donor)
	}

	b.open("/transplant/transplants/new", 200)
	b.click("record a transplantation without its fields", `#transplant button[type="submit"]`, 422)
	switchTo("es", "/")
}
