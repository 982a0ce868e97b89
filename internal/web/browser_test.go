package web_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// findChromium returns the browser to drive: $CUSTOS_CHROMIUM, else
// /usr/bin/chromium, else chromium or google-chrome on the PATH.
func findChromium() string {
	if p := os.Getenv("CUSTOS_CHROMIUM"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, n := range []string{"chromium", "google-chrome"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

// tab drives one browser tab through the UI.
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string
}

func (b *tab) fatal(what string, err error) {
	b.t.Helper()
	loc, _ := chromedp.Run(b.ctx, chromedp.Location())
	b.t.Fatalf("%s: %v (at %s)", what, err, loc)
}

func (b *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.fatal(what, err)
	}
}

// open loads a page and checks its status.
func (b *tab) open(path string, want int) {
	b.t.Helper()
	resp, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(b.base+path))
	if err != nil {
		b.fatal("open "+path, err)
	}
	if int(resp.Status) != want {
		b.t.Fatalf("open %s: status %d, want %d\n%s", path, resp.Status, want, b.shown())
	}
}

// fill sets the inputs and selects with these ids.
func (b *tab) fill(values map[string]string) {
	b.t.Helper()
	for id, v := range values {
		b.do("fill #"+id, chromedp.SetValue(chromedp.ID(id), v))
	}
}

// tick clicks checkboxes, as a person does.
func (b *tab) tick(ids ...string) {
	b.t.Helper()
	for _, id := range ids {
		b.do("tick #"+id, chromedp.Click(chromedp.ID(id)))
	}
}

// click clicks what sel finds, waits for the page it loads and checks its
// status (after any redirect).
func (b *tab) click(what, sel string, want int) {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		b.fatal(what, err)
	}
	if int(resp.Status) != want {
		b.t.Fatalf("%s: status %d, want %d at %s\n%s", what, resp.Status, want, b.eval(`location.pathname`), b.shown())
	}
}

// shown is the text of the page's main, or of its body where it has none
// (an answer not in the layout, such as a 405), so that a failure says what
// the page said rather than wait for a main that never comes.
func (b *tab) shown() string {
	b.t.Helper()
	return b.eval(`(document.querySelector('main') || document.body).innerText`)
}

func (b *tab) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.fatal("text of "+sel, err)
	}
	return s
}

func (b *tab) value(id string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.ID(id)))
	if err != nil {
		b.fatal("value of #"+id, err)
	}
	return s
}

// screenshot saves the whole page when CUSTOS_SCREENSHOTS names a folder.
func (b *tab) screenshot(name string) {
	b.t.Helper()
	dir := os.Getenv("CUSTOS_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.fatal("screenshot", err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", p)
}

// newTab starts headless Chromium (the binary at path) for the UI at base;
// it stops when t ends, or after 90 seconds.
func newTab(t *testing.T, path, base string) *tab { return newTabFor(t, path, base, 90*time.Second) }

// newTabFor is newTab stopping after d. Chromium is started here, before
// the test's first step, and opens a first page of the server: a browser
// that crashes as it starts or at that page (CI has seen Chromium exit with
// a segmentation fault before its first page, and at a tab's first page of
// the server) is started again, up to three times, so that a crash of the
// browser at start does not read as a failure of custos. A crash later is
// the test's.
func newTabFor(t *testing.T, path, base string, d time.Duration) *tab {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		actx, cancelAlloc := chromedp.NewExecAllocator(ctx,
			chromedp.ExecPath(path),
			chromedp.Headless,
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			chromedp.Flag("disable-quic", true),
			chromedp.NoFirstRun,
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("disable-dev-shm-usage", true),
			chromedp.UserDataDir(t.TempDir()),
			chromedp.WindowSize(1366, 900),
		)
		bctx, cancelTab := chromedp.NewContext(actx)
		// The first page of the server's own (its style sheet, which
		// changes nothing) starts the browser, opens the tab and starts the
		// renderer of the server's site, where CI has seen Chromium crash
		// too.
		if _, err = chromedp.RunResponse(bctx, chromedp.Navigate(base+"/static/custos.css")); err == nil {
			t.Cleanup(cancelAlloc)
			t.Cleanup(cancelTab) // cleanups run last first: the tab, then the browser
			return &tab{t: t, ctx: bctx, base: base}
		}
		cancelTab()
		cancelAlloc()
		if ctx.Err() != nil {
			break
		}
		t.Logf("Chromium did not start (try %d of 3): %v", attempt, err)
	}
	t.Fatalf("Chromium did not start: %v", err)
	return nil
}

func (b *tab) signIn(token string) {
	b.t.Helper()
	b.open("/", 200)
	b.fill(map[string]string{"signin-token": token})
	b.click("sign in", `#signin button[type="submit"]`, 200)
}

var flashID = regexp.MustCompile(`RC-[0-9A-Z]{10}`)

// TestBrowserRecordAndTrace drives the UI in headless Chromium as people
// would: a coordinator records a deceased donation of three organs and two
// transplantations and traces the donor; a transplantation without
// authorization is refused; the regulator sees the alert it raised.
func TestBrowserRecordAndTrace(t *testing.T) {
	path := findChromium()
	if path == "" {
		t.Skip("no Chromium found: set CUSTOS_CHROMIUM to a Chromium or Chrome binary, or install chromium, to run the browser test")
	}
	w := apptest.NewWorld(t, storetest.SQLite(t))

	b := newTab(t, path, w.URL)
	bctx := b.ctx

	// Sign in as the coordinator of centre A.
	b.signIn(w.CoordA)
	if who := b.text("#who"); !strings.Contains(who, "Coordinator A") || !strings.Contains(strings.ToLower(who), "coordinator") || !strings.Contains(who, "Centre A") {
		t.Fatalf("header shows %q", who)
	}

	// Register a deceased donor.
	now := time.Now().UTC()
	b.open("/transplant/donors", 200)
	b.fill(map[string]string{
		"donor-name": "Browser Donor (synthetic)", "donor-national_id": "XA-B-0001",
		"donor-kind": "deceased_brain_death", "donor-sex": "male", "donor-blood_group": "A",
		"donor-date_of_birth": "1966-09-14", "donor-weight_kg": "82", "donor-height_cm": "178",
		"donor-cause_of_death": "traumatic brain injury", "donor-iv_drug_use": "no",
		"donor-malignancy": "no", "donor-transmissible_disease": "unknown",
		"donor-hiv": "negative", "donor-hcv": "negative", "donor-hbv": "not_tested",
		"donor-organ_function": "creatinine 0.9 mg/dL; ALT 31 U/L",
	})
	// Forgetting the date of death is refused, naming the rule and the
	// field; the form comes back with what was typed.
	b.click("register donor without date of death", `#donor button[type="submit"]`, 422)
	if rule, field := b.text("#refusal-rule"), b.text("#refusal-field"); rule != "required" || field != "date_of_death" {
		t.Fatalf("refused by %q on %q", rule, field)
	}
	if inv, err := chromedp.Run(bctx, chromedp.Attributes(chromedp.ID("donor-date_of_death"))); err != nil || inv["aria-invalid"] != "true" {
		t.Errorf("date of death not marked invalid: %v %v", inv, err)
	}
	if v := b.value("donor-cause_of_death"); v != "traumatic brain injury" {
		t.Errorf("cause of death lost: %q", v)
	}
	b.screenshot("custos-donor-refused.png")
	b.fill(map[string]string{"donor-date_of_death": now.AddDate(0, 0, -1).Format("2006-01-02")})
	b.click("register donor", `#donor button[type="submit"]`, 200)
	donor := b.text("#donor-id")
	if !regexp.MustCompile(`^DN-[0-9A-Z]{10}$`).MatchString(donor) {
		t.Fatalf("donor id %q", donor)
	}

	// Record the family's authorization.
	if k := b.value("consent-kind"); k != "family_authorization" {
		t.Errorf("consent kind preset to %q", k)
	}
	b.fill(map[string]string{"consent-assessed_by": "Dr Ines Marlow, donation coordinator"})
	b.tick("consent-voluntary", "consent-informed")
	b.click("record consent", `#consent button[type="submit"]`, 200)
	if f := b.text("#flash"); !strings.Contains(f, "Consent recorded") {
		t.Fatalf("after consent: %q", f)
	}

	// Record the procurement of two kidneys and a liver.
	b.fill(map[string]string{
		"procurement-procured_at":  time.Now().UTC().Format("2006-01-02T15:04"),
		"procurement-count_kidney": "2",
		"procurement-count_liver":  "1",
	})
	b.click("record procurement", `#procurement button[type="submit"]`, 200)
	b.screenshot("custos-donor.png")
	rows, err := chromedp.Run(bctx, chromedp.Evaluate[[][]string](
		`Array.from(document.querySelectorAll('#organs tbody tr')).map(r => [r.cells[0].textContent.trim(), r.cells[1].textContent.trim()])`))
	if err != nil {
		b.fatal("read organs", err)
	}
	var kidneys []string
	var liver string
	for _, r := range rows {
		switch r[1] {
		case "Kidney":
			kidneys = append(kidneys, r[0])
		case "Liver":
			liver = r[0]
		}
	}
	if len(rows) != 3 || len(kidneys) != 2 || liver == "" {
		t.Fatalf("organs after procurement: %q", rows)
	}
	organs := append([]string{liver}, kidneys...)
	t.Logf("donor %s: kidneys %v, liver %s", donor, kidneys, liver)

	// Register a recipient waiting for a kidney and one waiting for a liver.
	register := func(organ, sex, born string) string {
		b.open("/transplant/recipients", 200)
		b.fill(map[string]string{"recipient-name": "Browser Recipient " + organ + " (synthetic)", "recipient-national_id": "XA-R-" + organ,
			"recipient-organ_needed": organ, "recipient-blood_group": "A", "recipient-sex": sex, "recipient-date_of_birth": born})
		b.click("register "+organ+" recipient", `#recipient button[type="submit"]`, 200)
		id := flashID.FindString(b.text("#flash"))
		if id == "" {
			t.Fatalf("no recipient id in %q", b.text("#flash"))
		}
		return id
	}
	rcKidney := register("kidney", "female", "1979-03-22")
	rcLiver := register("liver", "male", "1958-11-02")
	b.screenshot("custos-recipients.png")
	b.open("/transplant/organs", 200)
	b.screenshot("custos-organs.png")

	// Authorize each organ for its recipient, then record the transplantation
	// on the form the authorization fills in.
	transplant := func(organ, recipient string) {
		b.open("/transplant/organs", 200)
		f := "authorize-" + organ
		b.fill(map[string]string{f + "-recipient_id": recipient})
		if by := b.value(f + "-authorized_by"); by != "Coordinator A" {
			t.Errorf("authorized_by preset to %q", by)
		}
		b.tick(f+"-compatibility_documented", f+"-consent_verified", f+"-no_payment_declared")
		b.click("authorize "+organ, "#"+f+` button[type="submit"]`, 200)
		if got := b.value("transplant-organ_id"); got != organ {
			t.Fatalf("transplant form: organ %q, want %q", got, organ)
		}
		if got := b.value("transplant-recipient_id"); got != recipient {
			t.Fatalf("transplant form: recipient %q, want %q", got, recipient)
		}
		if got := b.value("transplant-authorization_id"); !strings.HasPrefix(got, "TA-") {
			t.Fatalf("transplant form: authorization %q", got)
		}
		b.click("record transplant of "+organ, `#transplant button[type="submit"]`, 200)
		if f := b.text("#flash"); !strings.Contains(f, "Transplantation recorded") {
			t.Fatalf("after transplantation: %q", f)
		}
	}
	transplant(kidneys[0], rcKidney)
	transplant(liver, rcLiver)

	// Trace the donor, typed in lower case, from the search box.
	b.open("/transplant/trace", 200)
	b.fill(map[string]string{"trace-q": " " + strings.ToLower(donor) + " "})
	b.click("trace", `#trace button[type="submit"]`, 200)
	main := b.text("main")
	for _, want := range append(organs, rcKidney, rcLiver, donor, "Centre A") {
		if !strings.Contains(main, want) {
			t.Errorf("trace page lacks %s:\n%s", want, main)
		}
	}
	b.screenshot("custos-trace.png")

	// The donation number (an organ identifier's first ten characters),
	// typed in lower case with spaces, finds every organ of the donation.
	b.open("/transplant/trace", 200)
	b.fill(map[string]string{"trace-q": strings.ToLower(strings.ReplaceAll(liver[:12], "-", " "))})
	b.click("trace donation", `#trace button[type="submit"]`, 200)
	if summary := b.text("#trace-summary"); !strings.Contains(summary, "From donation") || !strings.Contains(summary, liver[:12]) {
		t.Errorf("trace of donation %s: summary %q", liver[:12], summary)
	}
	main = b.text("main")
	for _, want := range append(organs, donor) {
		if !strings.Contains(main, want) {
			t.Errorf("trace of donation %s lacks %s:\n%s", liver[:12], want, main)
		}
	}

	// Open the donor's personal data, giving a purpose.
	b.open("/transplant/donors/"+donor, 200)
	b.fill(map[string]string{"personal-purpose": "confirm identity with the family"})
	b.click("show personal data", `#personal button[type="submit"]`, 200)
	if name := b.text("#person-name"); name != "Browser Donor (synthetic)" {
		t.Errorf("personal data shows name %q", name)
	}
	if !strings.Contains(strings.ToLower(b.text("#confidential")), "confidential: personal data") {
		t.Error("the personal data page is not marked confidential")
	}
	b.screenshot("custos-personal-data.png")

	// The second kidney, transplanted without authorization: refused, and
	// the regulator is alerted.
	b.open("/transplant/organs", 200)
	b.click("open transplant form", "#organ-"+kidneys[1]+" a.transplant-link", 200)
	if got := b.value("transplant-organ_id"); got != kidneys[1] {
		t.Fatalf("transplant form: organ %q", got)
	}
	b.fill(map[string]string{"transplant-recipient_id": rcKidney})
	b.click("unauthorized transplant", `#transplant button[type="submit"]`, 403)
	if rule := b.text("#refusal-rule"); rule != "procedure_authorization" {
		t.Fatalf("refused by %q", rule)
	}
	if field := b.text("#refusal-field"); field != "authorization_id" {
		t.Errorf("refusal names field %q", field)
	}
	b.screenshot("custos-refusal.png")

	// Sign out; sign in as the regulator; see the alert.
	b.click("sign out", `.signout button[type="submit"]`, 200)
	if f := b.text("#flash"); !strings.Contains(f, "signed out") {
		t.Errorf("after sign out: %q", f)
	}
	// The form's language switch says it again, in French, then in
	// English; a reload says nothing (the reason cookie is read once).
	for _, c := range []struct{ code, says string }{{"fr", "Vous êtes déconnecté."}, {"en", "You are signed out."}} {
		b.do("choose "+c.code, chromedp.SetValue(chromedp.ID("language-switch"), c.code))
		b.click("change the language", `#languages button[type="submit"]`, 200)
		if f := b.text("#flash"); f != c.says {
			t.Errorf("after sign out, switched to %s: %q, want %q", c.code, f, c.says)
		}
	}
	b.open("/", 200)
	if n := b.count("#flash"); n != 0 {
		t.Errorf("the sign-in form reloaded after sign out still says why it is shown")
	}
	b.signIn(w.Regulator)
	b.screenshot("custos-home-regulator.png")
	b.open("/transplant/centres", 200)
	b.screenshot("custos-centres.png")
	b.open("/alerts", 200)
	alerts := b.text("#alerts")
	for _, want := range []string{"procedure_authorization", kidneys[1], rcKidney, "Centre A", "record transplant"} {
		if !strings.Contains(alerts, want) {
			t.Errorf("alerts lack %q:\n%s", want, alerts)
		}
	}
	b.screenshot("custos-alerts.png")

	// The administrator creates a principal and is shown its token once.
	b.click("sign out", `.signout button[type="submit"]`, 200)
	b.signIn(w.Admin)
	b.open("/people", 200)
	b.fill(map[string]string{"principal-name": "Browser Auditor", "principal-role": "auditor", "principal-authority_id": w.RegulatorAuthority})
	b.click("create principal", `#principal button[type="submit"]`, 201)
	if tok := b.value("new-token"); !strings.HasPrefix(tok, "cst_") {
		t.Errorf("new token %q", tok)
	}
	b.screenshot("custos-token.png")
	b.open("/people", 200)
	b.screenshot("custos-people.png")
}
