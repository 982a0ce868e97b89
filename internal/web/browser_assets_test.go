package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// TestBrowserCaseAndMeasure drives the asset-recovery forms in headless
// Chromium as a prosecutor would, without any script of the page's: open a
// case on the cases page, then, once an asset is identified, record its
// freeze on the case page and see it on the asset's timeline; a
// confiscation of more than was frozen is refused on the form, the rule
// named, and the timeline is unchanged.
func TestBrowserCaseAndMeasure(t *testing.T) {
	path := findChromium()
	if path == "" {
		t.Skip("no Chromium found: set CUSTOS_CHROMIUM to a Chromium or Chrome binary, or install chromium, to run the browser test")
	}
	e := apptest.Start(t, storetest.SQLite(t))
	po := e.Must(t, 201, "POST", "/api/v1/authorities", e.Admin, map[string]any{"name": "Demoland Asset Recovery Office", "kind": "prosecution_service", "jurisdiction": "XA"}).Str("id")
	token := e.Must(t, 201, "POST", "/api/v1/principals", e.Admin, map[string]any{"name": "Prosecutor", "role": "prosecutor", "authority_id": po}).Str("token")

	b := newTab(t, path, e.URL)
	b.signIn(token)
	b.open("/assets/cases", 200)
	b.fill(map[string]string{"case-reference": "ARO-WEB-1", "case-title": "Harbour contracts", "case-kind": "domestic", "case-offences": "0703", "case-opened_on": "2026-01-05"})
	b.click("open the case", `#case button[type="submit"]`, 200)
	if flash := b.text(".flash"); !strings.Contains(flash, "The case is opened") {
		t.Fatalf("after opening the case: %q", flash)
	}
	caseID := strings.TrimPrefix(b.eval(`location.pathname`), "/assets/cases/")
	if !strings.Contains(b.text("h1"), "ARO-WEB-1") || caseID == "" {
		t.Fatalf("the case page: %q (%s)", b.text("h1"), caseID)
	}

	asset := e.Must(t, 201, "POST", "/api/v1/assets/cases/"+caseID+"/assets", token, map[string]any{"type": "bank_account", "jurisdiction": "XA",
		"description": "Account at Demo Bank", "value": "250000.00", "currency": "EUR", "identified_on": "2026-01-10", "instrument": "Investigation report 1", "authority": "ARO"}).Str("id")
	form := "measure-" + asset
	b.open("/assets/cases/"+caseID, 200)
	b.do("open the step form", chromedp.Click(chromedp.CSS("#asset-"+asset+" summary")))
	b.fill(map[string]string{form + "-step": "frozen", form + "-decided_on": "2026-01-12", form + "-amount": "250000.00", form + "-currency": "EUR",
		form + "-instrument": "Freezing order 7/2026", form + "-authority": "Investigating judge"})
	b.click("record the freeze", "#"+form+` button[type="submit"]`, 200)
	if flash := b.text(".flash"); !strings.Contains(flash, "The step is recorded") {
		t.Fatalf("after recording the freeze: %q", flash)
	}
	timeline := "#asset-" + asset + " ol.timeline li"
	if n := b.count(timeline); n != 2 {
		t.Fatalf("the timeline shows %d steps, want identified and frozen", n)
	}
	if got := b.text("#asset-" + asset + " ol.timeline li.step-frozen"); !strings.Contains(got, "2026-01-12") || !strings.Contains(got, "Freezing order 7/2026") {
		t.Fatalf("the freeze on the timeline: %q", got)
	}

	b.do("open the step form", chromedp.Click(chromedp.CSS("#asset-"+asset+" summary")))
	b.fill(map[string]string{form + "-step": "confiscated", form + "-confiscation": "criminal", form + "-decided_on": "2026-03-01", form + "-amount": "300000.00",
		form + "-currency": "EUR", form + "-instrument": "Judgment 12/2026", form + "-authority": "District court"})
	b.click("record a confiscation of too much", "#"+form+` button[type="submit"]`, 422)
	if got := b.text("#" + form + " .form-error"); !strings.Contains(got, "measure_amount") {
		t.Fatalf("the refusal on the form: %q", got)
	}
	if n := b.count(timeline); n != 2 {
		t.Fatalf("after a refusal the timeline shows %d steps, want 2", n)
	}
	b.screenshot("assets-case.png")
}
