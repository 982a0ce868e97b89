package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/storetest"
)

// TestBrowserAcknowledgeAlert drives the alerts page in headless Chromium as
// the regulator would, on a registry with alerts of two rules (a coordinator
// recording a donor at another centre; a hash bank's entry quarantined):
// filter by rule with the page's form, open an alert of that rule,
// acknowledge it with its button; the page says so, and the registry has
// the acknowledgement: the alert's row and its alert.acknowledged log entry.
func TestBrowserAcknowledgeAlert(t *testing.T) {
	path := findChromium()
	if path == "" {
		t.Skip("no Chromium found: set CUSTOS_CHROMIUM to a Chromium or Chrome binary, or install chromium, to run the browser test")
	}
	ctx := context.Background()
	w := apptest.NewHashmatchWorld(t, storetest.SQLite(t), hashmatch.Config{QuarantineLimit: 2})
	// A hash bank's entry matched by two services is quarantined: alert hashmatch_quarantine.
	bank := w.Bank(t, "Bank A")
	w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst,
		map[string]any{"adds": []map[string]any{{"entry_id": "e1", "pdq": apptest.PDQHex(1), "classification": "A1"}}})
	w.Subscribe(t, bank)
	w.SubscribeOther(t, bank)
	for _, token := range []string{w.Service, w.OtherService} {
		w.Must(t, 200, "POST", "/api/v1/hashmatch/match", token, map[string]any{"items": []map[string]any{{"pdq": apptest.PDQHex(1), "quality": 90}}})
	}
	// A coordinator records a donor at another centre: alert own_centre.
	centreA := w.Must(t, 201, "POST", "/api/v1/transplant/centres", w.Admin, map[string]any{"name": "Centre A", "city": "Port Aster"}).Str("id")
	centreB := w.Must(t, 201, "POST", "/api/v1/transplant/centres", w.Admin, map[string]any{"name": "Centre B", "city": "Northgate"}).Str("id")
	coord := w.Must(t, 201, "POST", "/api/v1/principals", w.Admin, map[string]any{"name": "Coordinator A", "role": "coordinator", "authority_id": centreA}).Str("token")
	w.Must(t, 403, "POST", "/api/v1/transplant/donors", coord, apptest.DeceasedDonor(centreB))
	var misfiled, quarantine string
	for _, a := range w.Must(t, 200, "GET", "/api/v1/alerts", w.Regulator, nil).Body["alerts"].([]any) {
		a := a.(map[string]any)
		switch a["rule"] {
		case "own_centre":
			misfiled = a["id"].(string)
		case "hashmatch_quarantine":
			quarantine = a["id"].(string)
		}
	}
	if misfiled == "" || quarantine == "" {
		t.Fatalf("alerts own_centre %q, hashmatch_quarantine %q: want one of each", misfiled, quarantine)
	}

	b := newTab(t, path, w.URL)
	b.signIn(w.Regulator)
	b.open("/alerts", 200)
	if n := b.count("#alerts tbody tr"); n != 2 {
		t.Fatalf("the alerts page lists %d alerts, want 2", n)
	}
	b.fill(map[string]string{"filter-rule": "own_centre"})
	b.click("filter by rule", `#filter button[type="submit"]`, 200)
	if n := b.count("#alerts tbody tr"); n != 1 || b.count("#alert-"+misfiled) != 1 {
		t.Fatalf("filtered by rule own_centre, the page lists %d alerts: %s", n, b.text("#alerts"))
	}
	if loc, err := chromedp.Run(b.ctx, chromedp.Location()); err != nil || !strings.Contains(loc, "rule=own_centre") {
		t.Errorf("the filtered page is at %s (%v)", loc, err)
	}
	b.click("open the alert", "#alert-"+misfiled+" a", 200)
	if s := strings.ToLower(b.text("#alert .state")); !strings.Contains(s, "open") {
		t.Fatalf("the alert's state shows %q", s)
	}
	b.click("acknowledge", `#acknowledge button[type="submit"]`, 200)
	b.screenshot("alert-acknowledged")
	if f := b.text("#flash"); !strings.Contains(f, "The alert is acknowledged.") {
		t.Errorf("after acknowledging, the page says %q", f)
	}
	if s := strings.ToLower(b.text("#alert .state")); !strings.Contains(s, "acknowledged") {
		t.Errorf("after acknowledging, the alert's state shows %q", s)
	}
	if facts := b.text("#alert"); !strings.Contains(facts, "Acknowledged") || !strings.Contains(facts, "Regulator") {
		t.Errorf("the alert's facts do not say who acknowledged it: %q", facts)
	}
	if b.count("#acknowledge") != 0 {
		t.Error("an acknowledged alert still offers the acknowledge form")
	}

	// The registry: the alert's row, and the leaf that acknowledged it.
	q := w.App.DB.Read()
	var state, by string
	if err := q.QueryRow(ctx, "SELECT state, acknowledged_by FROM alerts WHERE id = ?", misfiled).Scan(&state, &by); err != nil {
		t.Fatal(err)
	}
	if regulator := w.Principal(t, w.Regulator).ID; state != "acknowledged" || by != regulator {
		t.Errorf("the alert's row: state %q, acknowledged by %q; want acknowledged by %s", state, by, regulator)
	}
	if err := q.QueryRow(ctx, "SELECT state FROM alerts WHERE id = ?", quarantine).Scan(&state); err != nil || state != "open" {
		t.Errorf("the other alert's state is %q (%v), want open", state, err)
	}
	var leaf string
	if err := q.QueryRow(ctx, "SELECT data FROM log_leaves ORDER BY idx DESC LIMIT 1").Scan(&leaf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(leaf, ledger.TypeAlertAcknowledged) || !strings.Contains(leaf, misfiled) {
		t.Errorf("the last log entry is not the acknowledgement of %s: %s", misfiled, leaf)
	}
}
