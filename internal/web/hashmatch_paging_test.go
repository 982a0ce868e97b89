package web_test

import (
	"fmt"
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

// TestHashmatchListPages: the review queue, the reports and a bank's entries
// filter with a plain form and page with a "Next page" link that keeps the
// filters; a refused filter is shown on the form.
func TestHashmatchListPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		publish := func(bank string, ns ...int) {
			var adds []map[string]any
			for _, n := range ns {
				adds = append(adds, map[string]any{"entry_id": fmt.Sprintf("e%d", n), "pdq": apptest.PDQHex(n), "classification": "A1"})
			}
			w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst, map[string]any{"adds": adds})
		}
		match := func(n int) string {
			res := w.Must(t, 200, "POST", "/api/v1/hashmatch/match", w.Service, map[string]any{"items": []map[string]any{{"pdq": apptest.PDQHex(n), "quality": 90}}})
			return res.Body["results"].([]any)[0].(map[string]any)["case_id"].(string)
		}
		bankA, bankB := w.Bank(t, "Bank A"), w.Bank(t, "Bank B")
		publish(bankA, 1, 2, 3, 4, 5)
		publish(bankB, 21)
		w.Subscribe(t, bankA)
		w.Subscribe(t, bankB)
		// Banks whose cases the queue cannot show: one the service does not
		// subscribe to, and a suppression bank it does.
		bankC := w.Bank(t, "Bank C")
		publish(bankC, 41)
		supp := w.Must(t, 201, "POST", "/api/v1/hashmatch/banks", w.Analyst, map[string]any{"name": "Benign", "kind": hashmatch.KindSuppression}).Str("id")
		w.Subscribe(t, supp)
		a1, a2, a3, b1 := match(1), match(2), match(3), match(21)

		rv := newBrowser(t, w.URL)
		rv.signIn(w.Reviewer)
		p := rv.get("/hashmatch/cases?bank_id=" + bankA + "&limit=2")
		wantStatus(t, "first page", p, http.StatusOK)
		mustContain(t, "first page", p, `id="filter"`, `name="bank_id"`, `<option value="`+bankA+`" selected>`, `<option value="open" selected>`,
			`id="case-`+a3+`"`, `id="case-`+a2+`"`)
		mustNotContain(t, "first page", p, `id="case-`+a1+`"`, `id="case-`+b1+`"`)
		// The bank filter lists the banks the service's cases can come from.
		mustContain(t, "bank filter", p, `<option value="`+bankB+`">`)
		mustNotContain(t, "bank filter", p, `<option value="`+bankC+`"`, `<option value="`+supp+`"`)
		m := nextRE.FindStringSubmatch(p.Body)
		if m == nil {
			t.Fatal("no Next page link on the queue's first page")
		}
		next := html.UnescapeString(m[1])
		if !strings.HasPrefix(next, "/hashmatch/cases?") || !strings.Contains(next, "bank_id="+bankA) || !strings.Contains(next, "cursor=") {
			t.Errorf("next page link %s", next)
		}
		p = rv.get(next)
		wantStatus(t, "second page", p, http.StatusOK)
		mustContain(t, "second page", p, `id="case-`+a1+`"`)
		mustNotContain(t, "second page", p, `id="case-`+a2+`"`, `id="case-`+b1+`"`)
		if nextRE.MatchString(p.Body) {
			t.Error("the queue's last page has a Next page link")
		}
		p = rv.get("/hashmatch/cases?status=bogus")
		mustContain(t, "refused status", p, `Refused by rule <strong>enum</strong> on field <code>status</code>`, `id="case-`+b1+`"`)
		p = rv.get("/hashmatch/cases?from=2024-13-01")
		mustContain(t, "refused date", p, `Refused by rule <strong>date_format</strong> on field <code>from</code>`)
		p = rv.get("/hashmatch/cases?status=confirmed")
		mustContain(t, "no confirmed case", p, "No case.")
		p = rv.get("/hashmatch/cases?status=&limit=3")
		m = nextRE.FindStringSubmatch(p.Body)
		if m == nil || !strings.Contains(m[1], "status=all") {
			t.Fatalf("the Next page link of any status %v: want it to keep status=all", m)
		}
		mustContain(t, "any status, second page", rv.get(html.UnescapeString(m[1])), `id="case-`+a1+`"`)
		p = rv.get("/hashmatch/cases?status=&id=" + b1)
		mustContain(t, "any status, one case", p, `id="case-`+b1+`"`)
		mustNotContain(t, "any status, one case", p, `id="case-`+a1+`"`)
		p = rv.get("/hashmatch/cases?id=HC-NOSUCHCASE")
		mustContain(t, "no such case", p, "No case matches these filters.")

		// Reports: the reviewer's sent ones, the analyst's received ones.
		for _, c := range []string{a1, a2} {
			w.Must(t, 200, "POST", "/api/v1/hashmatch/cases/"+c+"/review", w.Reviewer, map[string]any{"decision": "confirm"})
		}
		r1 := w.Must(t, 201, "POST", "/api/v1/hashmatch/cases/"+a1+"/report", w.Reviewer, map[string]any{"incident_type": "other"}).Str("id")
		r2 := w.Must(t, 201, "POST", "/api/v1/hashmatch/cases/"+a2+"/report", w.Reviewer, map[string]any{"incident_type": "other"}).Str("id")
		w.Must(t, 200, "POST", "/api/v1/hashmatch/reports/"+r1+"/acknowledge", w.Analyst, map[string]any{"reference": "CT-1"})
		an := newBrowser(t, w.URL)
		an.signIn(w.Analyst)
		p = an.get("/hashmatch/reports?status=sent&limit=1")
		wantStatus(t, "reports awaiting", p, http.StatusOK)
		mustContain(t, "reports awaiting", p, `id="filter"`, `name="provider_id"`, `<option value="sent" selected>`, `id="report-`+r2+`"`)
		mustNotContain(t, "reports awaiting", p, `id="report-`+r1+`"`)
		if nextRE.MatchString(p.Body) {
			t.Error("the one report awaiting acknowledgment has a Next page link")
		}
		p = an.get("/hashmatch/reports?limit=1")
		if m := nextRE.FindStringSubmatch(p.Body); m == nil || !strings.Contains(an.get(html.UnescapeString(m[1])).Body, `id="report-`+r1+`"`) {
			t.Error("the reports' Next page does not lead to the older report")
		}
		p = an.get("/hashmatch/reports?provider_id=" + w.OtherProvider)
		mustContain(t, "reports of another provider", p, "No report matches these filters.")
		p = rv.get("/hashmatch/reports?status=open")
		mustContain(t, "refused report status", p, `Refused by rule <strong>enum</strong> on field <code>status</code>`, `name="authority_id"`)

		// A bank's entries, for its owner: two a page, then the quarantined.
		p = an.get("/hashmatch/banks/" + bankA + "?limit=2")
		wantStatus(t, "entries", p, http.StatusOK)
		mustContain(t, "entries", p, `id="entries"`, `>e1<`, `>e2<`)
		mustNotContain(t, "entries", p, `>e3<`)
		m = nextRE.FindStringSubmatch(p.Body)
		if m == nil || !strings.HasPrefix(html.UnescapeString(m[1]), "/hashmatch/banks/"+bankA+"?") {
			t.Fatalf("entries' Next page link %v", m)
		}
		p = an.get(html.UnescapeString(m[1]))
		mustContain(t, "entries' second page", p, `>e3<`, `>e4<`)
		mustNotContain(t, "entries' second page", p, `>e2<`)
		p = an.get("/hashmatch/banks/" + bankA + "?status=quarantined")
		mustContain(t, "no quarantined entry", p, "No entry matches these filters.")
		p = an.get("/hashmatch/banks/" + bankA + "?status=frozen")
		mustContain(t, "refused entry status", p, `Refused by rule <strong>enum</strong> on field <code>status</code>`, `>e5<`)
	})
}
