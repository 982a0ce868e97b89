package web_test

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// TestBrowserHandoffs drives the scan form as a USB barcode scanner does:
// the cursor is in the identifier's field when the page opens, the scanner
// types the identifier and Enter, and the hand-off shows in the trace with
// where the organ is now; a misread label is refused with its rule and
// field. Then the coordinator reads the UI in Arabic and opens the HTML
// label: right to left, the organ's word in Arabic, the identifier left to
// right, and printed by the browser as one page of 100 by 150 mm.
func TestBrowserHandoffs(t *testing.T) {
	path := findChromium()
	if path == "" {
		t.Skip("no Chromium found: set CUSTOS_CHROMIUM to a Chromium or Chrome binary, or install chromium, to run the browser test")
	}
	ctx := context.Background()
	w := apptest.NewWorld(t, storetest.SQLite(t))
	svc := w.App.Opened[transplant.Module.Name].Service.(*transplant.Service)
	coordA, coordB := w.Principal(t, w.CoordA), w.Principal(t, w.CoordB)
	d, err := svc.RegisterDonor(ctx, coordA, transplant.NewDonor{Kind: transplant.DonorBrainDeath, Name: "Label Donor (synthetic)", NationalID: "XA-LB-1",
		Sex: "male", BloodGroup: "B", DateOfBirth: "1970-02-03", CauseOfDeath: "trauma", DateOfDeath: time.Now().UTC().AddDate(0, 0, -1).Format("2006-01-02"),
		IVDrugUse: "no", Malignancy: "no", TransmissibleDisease: "no", HIV: "negative", HCV: "negative", HBV: "negative", OrganFunction: "normal"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RecordConsent(ctx, coordA, d.ID, transplant.NewConsent{Kind: transplant.ConsentFamily, GivenOn: time.Now().UTC().AddDate(0, 0, -1).Format("2006-01-02"),
		AssessedBy: "coordinator", AssessorIndependent: true, Voluntary: true, Informed: true}); err != nil {
		t.Fatal(err)
	}
	pr, err := svc.RecordProcurement(ctx, coordA, transplant.NewProcurement{DonorID: d.ID, ProcuredAt: apptest.Hours(3), Organs: []string{"kidney"}})
	if err != nil {
		t.Fatal(err)
	}
	kidney := pr.Organs[0].ID
	rc, err := svc.RegisterRecipient(ctx, coordB, transplant.NewRecipient{CentreID: w.CentreB, Name: "Label Recipient (synthetic)", NationalID: "XA-LB-2", Sex: "female", BloodGroup: "B", DateOfBirth: "1980-01-01", Residence: "XA", OrganNeeded: "kidney", ListedOn: "2024-01-01"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AuthorizeTransplant(ctx, coordB, transplant.NewTransplantAuthorization{OrganID: kidney, RecipientID: rc.ID, CentreID: w.CentreB,
		AuthorizedBy: "Dr. M", CompatibilityDocumented: true, ConsentVerified: true, NoPaymentDeclared: true}); err != nil {
		t.Fatal(err)
	}

	b := newTab(t, path, w.URL)
	b.signIn(w.CoordA)
	b.open("/transplant/handoffs", 200)
	// The browser applies autofocus once it renders the page, which may be
	// a moment after the load that open waits for (and a read while the
	// page's context is being replaced fails: it is read again).
	focused, err := "", error(nil)
	for deadline := time.Now().Add(5 * time.Second); focused != "handoff-organ_id" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		focused, err = chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.activeElement ? document.activeElement.id : ""`))
	}
	if focused != "handoff-organ_id" {
		t.Errorf("the cursor is in %q when the page opens, want the identifier's field (%v)", focused, err)
	}
	scan := func(what, typed string, want int) {
		t.Helper()
		resp, err := chromedp.RunResponse(b.ctx, chromedp.SendKeys(chromedp.CSS(`#handoff-organ_id`), typed+kb.Enter))
		if err != nil {
			b.fatal(what, err)
		}
		if int(resp.Status) != want {
			t.Fatalf("%s: status %d, want %d\n%s", what, resp.Status, want, b.text("main"))
		}
	}
	// A label misread: refused, nothing recorded, the cursor back in the field.
	misread := kidney[:len(kidney)-1] + map[bool]string{true: "1", false: "0"}[kidney[len(kidney)-1] == '0']
	scan("a misread label", misread, 422)
	if rule := b.text("#refusal-rule"); rule != "organ_id_check" {
		t.Errorf("a misread label is refused by %q", rule)
	}
	if v := b.value("handoff-organ_id"); v != "" {
		t.Errorf("after a refusal the scan field holds %q, want it empty for the next scan", v)
	}
	b.fill(map[string]string{"handoff-step": transplant.StepProcurementTheatre, "handoff-place": "Theatre 4"})
	scan("scan the label", strings.ToLower(kidney), 200)
	if flash := b.text("#flash"); !strings.Contains(flash, kidney) {
		t.Errorf("flash after the scan: %q", flash)
	}
	if step, place := b.value("handoff-step"), b.value("handoff-place"); step != transplant.StepProcurementTheatre || place != "Theatre 4" {
		t.Errorf("the form keeps step %q and place %q for the next scan", step, place)
	}
	b.click("trace the organ", `#last-handoff a[href^="/transplant/trace"]`, 200)
	custody := b.text("#custody-" + kidney)
	if !strings.Contains(custody, "Leaving the procurement theatre") || !strings.Contains(custody, "Theatre 4") {
		t.Errorf("the trace's chain of custody: %q", custody)
	}
	if now := b.text("#custody-" + kidney + " .custody-now"); !strings.Contains(now, "Leaving the procurement theatre") {
		t.Errorf("where the organ is: %q", now)
	}
	b.screenshot("handoff-trace.png")

	// The label, in Arabic.
	b.do("choose Arabic", chromedp.SetValue(chromedp.ID("language-switch"), "ar"))
	b.click("change the language", `#languages button[type="submit"]`, 200)
	b.click("open the label", `a.label-link[href="/transplant/organs/`+kidney+`/label"]`, 200)
	l := w.App.Languages.Localizer("ar")
	if got := b.eval(`document.documentElement.lang + ' ' + document.documentElement.dir`); got != "ar rtl" {
		t.Errorf("the label page is marked %q", got)
	}
	if title := b.text("#label-title"); title != l.T("Kidney") {
		t.Errorf("the label's title %q, want %q", title, l.T("Kidney"))
	}
	if dir := b.eval(`getComputedStyle(document.getElementById('label-id')).direction`); dir != "ltr" {
		t.Errorf("the identifier reads %s", dir)
	}
	if id := b.text("#label-id"); id != kidney {
		t.Errorf("the label's identifier %q", id)
	}
	if dest := b.text("#label-destination"); !strings.Contains(dest, w.CentreB) {
		t.Errorf("the label's destination %q", dest)
	}
	b.screenshot("label-ar.png")
	yes := true
	printed, err := chromedp.Call(b.ctx, cdppage.PrintToPDF, cdppage.PrintToPDFParams{PreferCSSPageSize: &yes, PrintBackground: &yes})
	if err != nil {
		b.fatal("print the label", err)
	}
	pdf := printed.Data
	pages := regexp.MustCompile(`/Type\s*/Page[^s]`).FindAll(pdf, -1)
	box := regexp.MustCompile(`/MediaBox\s*\[\s*0 0 ([0-9.]+) ([0-9.]+)\s*\]`).FindSubmatch(pdf)
	if len(pages) != 1 || box == nil || !near(box[1], 283.46) || !near(box[2], 425.2) {
		t.Errorf("printed, the label is %d pages of %q, want one page of 283.46 x 425.2 points (100 x 150 mm)", len(pages), box)
	}
	if !bytes.HasPrefix(pdf, []byte("%PDF")) {
		t.Error("the browser did not print a PDF")
	}
}

// near tells whether the number written in b is within a point of v.
func near(b []byte, v float64) bool {
	f, err := strconv.ParseFloat(string(b), 64)
	return err == nil && f > v-1 && f < v+1
}
