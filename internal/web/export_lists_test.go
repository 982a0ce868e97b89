package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

// TestHashmatchAndAlertPagesLinkTheirExports: the review queue, the reports,
// a bank's entries (for its owner's analyst only) and the alerts link their
// export in CSV and XLSX with the page's filters, and each link answers the
// file of what the page shows; the queue's link keeps the status shown (open
// by default, all); another analyst is refused the entries' file.
func TestHashmatchAndAlertPagesLinkTheirExports(t *testing.T) {
	w := apptest.NewHashmatchWorld(t, storetest.SQLite(t), hashmatch.Config{QuarantineLimit: 2})
	var adds []map[string]any
	for n := 1; n <= 4; n++ {
		adds = append(adds, map[string]any{"entry_id": fmt.Sprintf("e%d", n), "pdq": apptest.PDQHex(n), "classification": "A1"})
	}
	bank := w.Bank(t, "Bank A")
	w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst, map[string]any{"adds": adds})
	w.Subscribe(t, bank)
	var cases []string
	for n := 1; n <= 3; n++ {
		res := w.Must(t, 200, "POST", "/api/v1/hashmatch/match", w.Service, map[string]any{"items": []map[string]any{{"pdq": apptest.PDQHex(n), "quality": 90}}})
		cases = append(cases, res.Body["results"].([]any)[0].(map[string]any)["case_id"].(string))
	}
	// Entry e4, matched twice by the service, is quarantined at another
	// service's match (one service's count up to half the limit), which
	// raises an alert.
	w.SubscribeOther(t, bank)
	for _, token := range []string{w.Service, w.Service, w.OtherService} {
		w.Must(t, 200, "POST", "/api/v1/hashmatch/match", token, map[string]any{"items": []map[string]any{{"pdq": apptest.PDQHex(4), "quality": 90}}})
	}
	w.Must(t, 200, "POST", "/api/v1/hashmatch/cases/"+cases[0]+"/review", w.Reviewer, map[string]any{"decision": "confirm"})
	report := w.Must(t, 201, "POST", "/api/v1/hashmatch/cases/"+cases[0]+"/report", w.Reviewer, map[string]any{"incident_type": "other"}).Str("id")

	rv := newBrowser(t, w.URL)
	rv.signIn(w.Reviewer)
	links := downloadLinks(rv.get("/hashmatch/cases?bank_id=" + bank + "&limit=1"))
	if links["CSV"] != "/hashmatch/cases/export?bank_id="+bank+"&format=csv&status=open" || links["XLSX"] != "/hashmatch/cases/export?bank_id="+bank+"&format=xlsx&status=open" {
		t.Fatalf("queue's download links %v", links)
	}
	f := rv.get(links["CSV"])
	wantStatus(t, "queue export", f, http.StatusOK)
	mustContain(t, "queue export", f, "registry,hashmatch", "list,cases", "personal data,no", cases[1], cases[2], "rows,4")
	mustNotContain(t, "queue export", f, cases[0])
	links = downloadLinks(rv.get("/hashmatch/cases?status="))
	if links["CSV"] != "/hashmatch/cases/export?format=csv&status=all" {
		t.Fatalf("any status: download links %v", links)
	}
	mustContain(t, "queue export, any status", rv.get(links["CSV"]), cases[0], cases[1], cases[2], "rows,5")
	f = rv.get("/hashmatch/cases/export?format=csv&status=bogus")
	wantStatus(t, "refused export", f, http.StatusUnprocessableEntity)
	mustContain(t, "refused export", f, `id="refusal-field">status<`)

	links = downloadLinks(rv.get("/hashmatch/reports?status=sent"))
	if links["CSV"] != "/hashmatch/reports/export?format=csv&status=sent" {
		t.Fatalf("reports' download links %v", links)
	}
	if f := rv.get(links["XLSX"]); f.Status != http.StatusOK || !strings.Contains(f.Header.Get("Content-Type"), "spreadsheetml") {
		t.Errorf("reports XLSX: %d %v", f.Status, f.Header)
	}
	mustContain(t, "reports export", rv.get(links["CSV"]), "list,reports", report, "rows,1")

	an := newBrowser(t, w.URL)
	an.signIn(w.Analyst)
	links = downloadLinks(an.get("/hashmatch/banks/" + bank + "?status=active&notice=whatever"))
	if links["CSV"] != "/hashmatch/banks/"+bank+"/entries/export?format=csv&status=active" {
		t.Fatalf("entries' download links %v", links)
	}
	mustContain(t, "entries export", an.get(links["CSV"]), "list,entries", apptest.PDQHex(1), apptest.PDQHex(3), "rows,3")
	other := newBrowser(t, w.URL)
	other.signIn(w.OtherAnalyst)
	if l := downloadLinks(other.get("/hashmatch/banks/" + bank)); len(l) != 0 {
		t.Errorf("another analyst is offered the entries' files: %v", l)
	}
	f = other.get("/hashmatch/banks/" + bank + "/entries/export?format=csv")
	wantStatus(t, "another analyst's export", f, http.StatusForbidden)
	mustContain(t, "another analyst's export", f, `id="refusal-rule">own_bank<`)
	if strings.Contains(f.Body, apptest.PDQHex(1)) {
		t.Error("another analyst's refusal shows a hash")
	}

	// Alerts: the quarantine raised one.
	rg := newBrowser(t, w.URL)
	rg.signIn(w.Regulator)
	links = downloadLinks(rg.get("/alerts?rule=hashmatch_quarantine&state=open"))
	if links["CSV"] != "/alerts/export?format=csv&rule=hashmatch_quarantine&state=open" {
		t.Fatalf("alerts' download links %v", links)
	}
	f = rg.get(links["CSV"])
	wantStatus(t, "alerts export", f, http.StatusOK)
	mustContain(t, "alerts export", f, "registry,core", "list,alerts", "hashmatch_quarantine", "rows,1")
}
