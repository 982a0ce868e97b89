package web_test

import (
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

var nextRE = regexp.MustCompile(`<a rel="next" href="([^"]+)">Next page</a>`)

// TestListPagesFilterAndPage: the donors page filters with a plain form and
// pages with a "Next page" link, a refused filter is shown on the form, and a
// coordinator's list stays their centre's whatever the query says.
func TestListPagesFilterAndPage(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	var atA []string
	for _, bg := range []string{"A", "O", "A"} {
		d := apptest.DeceasedDonor(w.CentreA)
		d["blood_group"] = bg
		atA = append(atA, w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, d).Str("id"))
	}
	atB := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordB, apptest.DeceasedDonor(w.CentreB)).Str("id")

	r := newBrowser(t, w.URL)
	r.signIn(w.Regulator)
	p := r.get("/transplant/donors?blood_group=A&limit=1")
	wantStatus(t, "first page", p, http.StatusOK)
	mustContain(t, "first page", p, `id="filter"`, `name="blood_group"`, `<option value="A" selected>`, atA[2])
	if strings.Contains(p.Body, atA[0]+"<") || strings.Contains(p.Body, atB+"<") {
		t.Error("the first page lists more than its one donor of blood group A")
	}
	m := nextRE.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatal("no Next page link on the first page")
	}
	next := html.UnescapeString(m[1])
	if !strings.HasPrefix(next, "/transplant/donors?") || !strings.Contains(next, "blood_group=A") || !strings.Contains(next, "cursor=") {
		t.Errorf("next page link %s", next)
	}
	p = r.get(next)
	wantStatus(t, "second page", p, http.StatusOK)
	mustContain(t, "second page", p, atA[0])
	if nextRE.MatchString(p.Body) {
		t.Error("the last page has a Next page link")
	}

	p = r.get("/transplant/donors?blood_group=Z")
	mustContain(t, "refused filter", p, `Refused by rule <strong>enum</strong> on field <code>blood_group</code>`, atB)
	p = r.get("/transplant/donors?limit=10abc")
	mustContain(t, "refused limit", p, `Refused by rule <strong>query</strong> on field <code>limit</code>`)
	p = r.get("/transplant/organs?organ=spleen")
	mustContain(t, "refused organ", p, `Refused by rule <strong>enum</strong> on field <code>organ</code>`)
	p = r.get("/transplant/recipients?status=waiting&organ=liver")
	wantStatus(t, "recipients filtered", p, http.StatusOK)
	mustContain(t, "recipients filtered", p, "No recipient matches these filters.")

	b := newBrowser(t, w.URL)
	b.signIn(w.CoordB)
	p = b.get("/transplant/donors?centre_id=" + w.CentreA)
	wantStatus(t, "coordinator B asks for centre A", p, http.StatusOK)
	mustContain(t, "coordinator B asks for centre A", p, atB)
	if strings.Contains(p.Body, atA[0]) {
		t.Error("coordinator B sees centre A's donors")
	}
}

// TestAlertsPageFiltersAndPages: the alerts page filters by the dates raised
// too, pages with a "Next page" link that keeps the filters, and shows a
// refused date on the form.
func TestAlertsPageFiltersAndPages(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	for _, c := range []struct{ token, centre string }{{w.CoordA, w.CentreB}, {w.CoordB, w.CentreA}} {
		w.Must(t, 403, "POST", "/api/v1/transplant/donors", c.token, apptest.DeceasedDonor(c.centre))
	}
	r := newBrowser(t, w.URL)
	r.signIn(w.Regulator)
	today := time.Now().UTC().Format("2006-01-02")
	p := r.get("/alerts?limit=1&from=" + today)
	wantStatus(t, "alerts' first page", p, http.StatusOK)
	mustContain(t, "alerts' first page", p, `name="from"`, `value="`+today+`"`, `id="alerts"`)
	if n := strings.Count(p.Body, `<tr id="alert-`); n != 1 {
		t.Errorf("the first page lists %d alerts, want 1", n)
	}
	m := nextRE.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatal("no Next page link on the alerts' first page")
	}
	next := html.UnescapeString(m[1])
	if !strings.HasPrefix(next, "/alerts?") || !strings.Contains(next, "from="+today) || !strings.Contains(next, "cursor=") {
		t.Errorf("next page link %s", next)
	}
	p = r.get(next)
	if n := strings.Count(p.Body, `<tr id="alert-`); n != 1 || nextRE.MatchString(p.Body) {
		t.Errorf("the last page lists %d alerts, or links to a next page", n)
	}
	p = r.get("/alerts?to=yesterday")
	mustContain(t, "refused date", p, `Refused by rule <strong>date_format</strong> on field <code>to</code>`)
	if n := strings.Count(p.Body, `<tr id="alert-`); n != 2 {
		t.Errorf("under the refused filter, %d alerts, want both", n)
	}
}

// TestAuthoritiesPageFilters: the administrator's authorities page filters
// by kind, jurisdiction and name, and pages with a "Next page" link.
func TestAuthoritiesPageFilters(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	for _, n := range []string{"CHU de Lille", "CHU de Lyon", "Hospital Leuven"} {
		w.Must(t, 201, "POST", "/api/v1/authorities", w.Admin, map[string]any{"name": n, "kind": "transplant_centre", "jurisdiction": map[bool]string{true: "BE", false: "FR"}[strings.HasSuffix(n, "Leuven")]})
	}
	a := newBrowser(t, w.URL)
	a.signIn(w.Admin)
	p := a.get("/authorities?name=chu&jurisdiction=FR&limit=1")
	wantStatus(t, "authorities' first page", p, http.StatusOK)
	mustContain(t, "authorities' first page", p, `id="filter"`, `value="chu"`, "CHU de Lyon")
	mustNotContain(t, "authorities' first page", p, "CHU de Lille", "Hospital Leuven")
	m := nextRE.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatal("no Next page link on the authorities' first page")
	}
	p = a.get(html.UnescapeString(m[1]))
	mustContain(t, "authorities' second page", p, "CHU de Lille")
	mustNotContain(t, "authorities' second page", p, "CHU de Lyon")
	p = a.get("/authorities?kind=bakery")
	mustContain(t, "refused kind", p, `Refused by rule <strong>enum</strong> on field <code>kind</code>`, "Hospital Leuven")
}
