package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// doubleClick clicks the button sel finds twice, 80 ms apart, as a person's
// double click does (the second click comes while the first request is
// under way), and waits for the page to settle.
func (b *tab) doubleClick(what, sel string) {
	b.t.Helper()
	xy, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]float64](`(() => {
		const e = document.querySelector(`+"`"+sel+"`"+`); e.scrollIntoView({block: 'center'});
		const r = e.getBoundingClientRect(); return [r.x + r.width/2, r.y + r.height/2]; })()`))
	if err != nil {
		b.fatal(what, err)
	}
	b.do(what, chromedp.MouseClickXY(xy[0], xy[1]), chromedp.Sleep(80*time.Millisecond),
		chromedp.MouseClickXY(xy[0], xy[1], chromedp.ClickCount(2)), chromedp.Sleep(2*time.Second),
		chromedp.WaitReady(chromedp.CSS("main")))
}

// TestBrowserDoubleClick double-clicks, in headless Chromium, the button of
// a procurement of one kidney and then that of the kidney's
// transplantation: one kidney is procured, not two of two donations; the
// transplantation is recorded and the page says so, with no refusal
// (organ_available) and no alert for the second click.
func TestBrowserDoubleClick(t *testing.T) {
	path := findChromium()
	if path == "" {
		t.Skip("no Chromium found: set CUSTOS_CHROMIUM to a Chromium or Chrome binary, or install chromium, to run the browser test")
	}
	w := apptest.NewWorld(t, storetest.SQLite(t))
	donor := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, apptest.DeceasedDonor(w.CentreA)).Str("id")
	w.Must(t, 201, "POST", "/api/v1/transplant/donors/"+donor+"/consents", w.CoordA, map[string]any{"kind": "family_authorization",
		"given_on": time.Now().UTC().AddDate(0, 0, -2).Format("2006-01-02"), "assessed_by": "Dr Ines Marlow", "informed": true, "voluntary": true})
	recipient := w.Must(t, 201, "POST", "/api/v1/transplant/recipients", w.CoordA, apptest.Recipient(w.CentreA, "kidney")).Str("id")

	b := newTab(t, path, w.URL)
	b.signIn(w.CoordA)
	b.open("/transplant/donors/"+donor, 200)
	b.fill(map[string]string{"procurement-procured_at": time.Now().UTC().Add(-2 * time.Hour).Format("2006-01-02T15:04"), "procurement-count_kidney": "1"})
	b.doubleClick("double-click record procurement", `#procurement button[type="submit"]`)
	if f := b.eval(`document.querySelector('main').innerText`); !strings.Contains(f, "Procurement recorded") {
		t.Fatalf("after the double click: %q", f)
	}
	os, _ := w.Must(t, 200, "GET", "/api/v1/transplant/organs?centre_id="+w.CentreA, w.CoordA, nil).Body["organs"].([]any)
	if len(os) != 1 {
		t.Fatalf("a double click procured %d kidneys, want 1: %v", len(os), os)
	}
	kidney := os[0].(map[string]any)["id"].(string)
	if n := b.count("#organs tbody tr"); n != 1 {
		t.Errorf("the donor's page lists %d organs, want 1", n)
	}

	ta := w.Must(t, 201, "POST", "/api/v1/transplant/transplant-authorizations", w.CoordA, map[string]any{"organ_id": kidney, "recipient_id": recipient,
		"centre_id": w.CentreA, "authorized_by": "Dr A", "compatibility_documented": true, "consent_verified": true, "no_payment_declared": true}).Str("id")
	b.open("/transplant/transplants/new?organ_id="+kidney+"&recipient_id="+recipient+"&authorization_id="+ta, 200)
	b.fill(map[string]string{"transplant-performed_at": time.Now().UTC().Add(-time.Hour).Format("2006-01-02T15:04")})
	b.doubleClick("double-click record transplantation", `#transplant button[type="submit"]`)
	if f := b.eval(`document.querySelector('main').innerText`); !strings.Contains(f, "Transplantation recorded") {
		t.Fatalf("after the double click: %q", f)
	}
	if as, _ := w.Must(t, 200, "GET", "/api/v1/alerts", w.Regulator, nil).Body["alerts"].([]any); len(as) != 0 {
		t.Errorf("a double click raised %d alerts: %v", len(as), as)
	}
}
