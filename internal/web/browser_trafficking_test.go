package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// TestBrowserTraffickingLinks drives the report's page in headless
// Chromium as the designated authority's assessor: the case is linked to a
// transplantation here of an organ from abroad, and the link withdrawn,
// from the page, where there was only the API. A name typed for the
// transplantation, a link made twice and a reason that says nothing are
// refused with the API's rules, naming the field on the form, nothing
// logged; read in French, the form and its refusal are in French. The link
// withdrawn stays on the page, apart from the links in force, with who
// made it, who withdrew it and why.
func TestBrowserTraffickingLinks(t *testing.T) {
	path := findChromium()
	if path == "" {
		t.Skip("no Chromium found: set CUSTOS_CHROMIUM to a Chromium or Chrome binary, or install chromium, to run the browser test")
	}
	dsn := storetest.SQLite(t)
	w := apptest.NewWorld(t, dsn)
	im := apptest.ImportedOrgans(t, w, dsn)
	da := w.Must(t, 201, "POST", "/api/v1/authorities", w.Admin, map[string]any{"name": "Rapporteur", "kind": "trafficking_authority"}).Str("id")
	assessor := w.Must(t, 201, "POST", "/api/v1/principals", w.Admin, map[string]any{"name": "Assessor Ines (synthetic)", "role": "trafficking_assessor", "authority_id": da}).Str("token")
	base := "/api/v1/transplant/trafficking/reports"
	ref := w.Must(t, 201, "POST", base, w.CoordA, map[string]any{"indicators": []string{"finance.payment_to_donor"}, "text": "synthetic"}).Str("reference")
	w.Must(t, 200, "POST", base+"/"+ref+"/status", assessor, map[string]any{"status": transplant.TraffickingUnderAssessment})
	page := "/transplant/trafficking/reports/" + ref

	b := newTabFor(t, path, w.URL, 4*time.Minute)
	b.signIn(assessor)
	b.open(page, 200)
	if n := b.eval(`String(document.querySelectorAll('#link').length) + ' ' + document.querySelectorAll('#withdraw').length`); n != "1 0" {
		t.Errorf("a report under assessment linked to nothing has %q link and withdrawal forms, want 1 and 0", n)
	}
	refused := func(what, form, sel string, status int, rule, field string) {
		t.Helper()
		size := w.LogSize(t)
		b.click(what, sel, status)
		if got, f := b.text("#refusal-rule"), b.text("#refusal-field"); got != rule || f != field {
			t.Errorf("%s: refused by %s on %s, want %s on %s", what, got, f, rule, field)
		}
		if n := b.eval(`String(document.querySelectorAll('#` + form + `-` + field + `-error').length)`); n != "1" {
			t.Errorf("%s: the form shows no refusal at its field %s", what, field)
		}
		if n := w.LogSize(t); n != size {
			t.Errorf("%s: the log grew from %d to %d", what, size, n)
		}
	}

	// A name typed for the transplantation: refused, and not repeated.
	b.fill(map[string]string{"link-transplant_id": "Jane Roe"})
	refused("link a name", "link", `#link button[type="submit"]`, 422, "id_format", "transplant_id")
	if strings.Contains(b.text("#refusal"), "Jane Roe") {
		t.Errorf("the refusal repeats the name: %q", b.text("#refusal"))
	}
	// The organ's identifier, in lower case, as the API takes it.
	b.fill(map[string]string{"link-transplant_id": strings.ToLower(im.Held)})
	b.click("link the organ from abroad", `#link button[type="submit"]`, 200)
	if flash := b.text("#flash"); !strings.Contains(flash, "link") {
		t.Errorf("flash after the link: %q", flash)
	}
	if got := b.text("#report-transplants"); !strings.Contains(got, im.Held) || !strings.Contains(got, "Assessor Ines (synthetic)") {
		t.Errorf("the links in force: %q, want %s by the assessor", got, im.Held)
	}
	b.fill(map[string]string{"link-transplant_id": im.Held})
	refused("link it twice", "link", `#link button[type="submit"]`, 409, "duplicate", "transplant_id")

	// The withdrawal's reason, too short; then in French.
	b.open(page, 200)
	b.fill(map[string]string{"withdraw-transplant_id": im.Held, "withdraw-reason": "error"})
	refused("withdraw without a reason that says why", "withdraw", `#withdraw button[type="submit"]`, 422, "too_short", "reason")
	// The language is chosen on the page (the switch returns to it).
	b.open(page, 200)
	b.do("choose French", chromedp.SetValue(chromedp.ID("language-switch"), "fr"))
	b.click("change the language", `#languages button[type="submit"]`, 200)
	fr := w.App.Languages.Localizer("fr")
	if h := b.text("#links-h"); h != fr.T("Transplantations of the case") || h == "Transplantations of the case" {
		t.Errorf("in French the form is headed %q", h)
	}
	b.fill(map[string]string{"withdraw-transplant_id": im.Held, "withdraw-reason": "erreur"})
	refused("withdraw in French without a reason that says why", "withdraw", `#withdraw button[type="submit"]`, 422, "too_short", "reason")
	_, err := w.App.Transplant.WithdrawTraffickingCaseLink(context.Background(), w.Principal(t, assessor), ref, im.Held, transplant.LinkWithdrawal{Reason: "erreur"})
	e, ok := errs.As(err)
	if !ok {
		t.Fatalf("the service takes a reason of 6 characters: %v", err)
	}
	if msg := b.text("#refusal .message"); msg != fr.Error(e) || msg == e.Message {
		t.Errorf("in French the refusal reads %q, want %q", msg, fr.Error(e))
	}

	// Withdrawn: not in force, listed apart with who, when and why.
	const why = "Lien erroné : le cas concerne une autre greffe (synthetic)."
	b.fill(map[string]string{"withdraw-transplant_id": im.Held, "withdraw-reason": why})
	b.click("withdraw the link", `#withdraw button[type="submit"]`, 200)
	if flash := b.text("#flash"); flash != fr.T("The link is withdrawn: the withdrawal and its reason are recorded in the log.") {
		t.Errorf("flash after the withdrawal: %q", flash)
	}
	if n := b.eval(`String(document.querySelectorAll('#report-transplants').length) + ' ' + document.querySelectorAll('#withdraw').length`); n != "0 0" {
		t.Errorf("after the withdrawal the page has %q lists of links in force and withdrawal forms, want none", n)
	}
	if got := b.text("#report-withdrawn-links"); !strings.Contains(got, im.Held) || !strings.Contains(got, why) || strings.Count(got, "Assessor Ines (synthetic)") != 2 {
		t.Errorf("the links withdrawn: %q, want %s, linked and withdrawn by the assessor, and why", got, im.Held)
	}
	r := w.Must(t, 200, "GET", base+"/"+ref, assessor, nil)
	if ws, _ := r.Body["withdrawn_links"].([]any); len(ws) != 1 || ws[0].(map[string]any)["reason"] != why || r.Body["transplants"] != nil {
		t.Errorf("the API's report after the withdrawal: %s", r.Raw)
	}
	b.screenshot("trafficking-links-withdrawn.png")
}
