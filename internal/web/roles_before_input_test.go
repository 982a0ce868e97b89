package web_test

import (
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/storetest"
)

// TestPageRoleBeforeInput asks pages that read their query or form before
// they call the registry, with input that is wrong, as a role that may not
// use the page and as one that may: the first is refused (403) before the
// input is read, so that it learns nothing from the input's refusal; the
// second gets that refusal (400 or 422), or the page's own answer to an id
// no record has.
func TestPageRoleBeforeInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		e := apptest.Start(t, dsn)
		me := e.Must(t, 200, "GET", "/api/v1/me", e.Admin, nil).Str("authority_id")
		principal := func(role, authority string) string {
			return e.Must(t, 201, "POST", "/api/v1/principals", e.Admin, map[string]any{"name": role, "role": role, "authority_id": authority}).Str("token")
		}
		office := e.Must(t, 201, "POST", "/api/v1/authorities", e.Admin, map[string]any{"name": "Statistics Office", "kind": "statistics_office"}).Str("id")
		statistician, auditor, regulator := principal("statistician", office), principal("auditor", me), principal("regulator", me)
		signedIn := func(token string) *browser {
			b := newBrowser(t, e.URL)
			b.signIn(token)
			return b
		}
		for _, c := range []struct {
			method, path string
			form         url.Values
			wrong, right string
			rightStatus  int
		}{
			{"GET", "/stats/uncts?table=police&year=abc&format=csv", nil, auditor, regulator, http.StatusUnprocessableEntity},
			{"GET", "/stats/uncts?format=docx", nil, auditor, statistician, http.StatusUnprocessableEntity},
			{"GET", "/stats/sdmx?level=9", nil, auditor, statistician, http.StatusUnprocessableEntity},
			{"GET", "/stats/tables/export?format=csv&view=pie", nil, auditor, statistician, http.StatusUnprocessableEntity},
			{"GET", "/stats/imports/progress/NONE", nil, regulator, statistician, http.StatusNotFound},
			{"POST", "/stats/imports/withdraw", url.Values{"id": {"NONE"}}, regulator, statistician, http.StatusUnprocessableEntity},
			{"GET", "/transplant/donors?limit=abc", nil, statistician, auditor, http.StatusBadRequest},
			{"GET", "/transplant/sae?from=yesterday", nil, statistician, auditor, http.StatusUnprocessableEntity},
			{"GET", "/hashmatch/cases?limit=0", nil, auditor, "", 0},
			{"GET", "/assets/statistics?currency=EURO", nil, statistician, auditor, http.StatusUnprocessableEntity},
			{"GET", "/mail/outbox?state=lost", nil, auditor, e.Admin, http.StatusUnprocessableEntity},
			{"POST", "/people", url.Values{"role": {"emperor"}}, auditor, e.Admin, http.StatusUnprocessableEntity},
		} {
			do := func(token string) *page {
				b := signedIn(token)
				if c.method == "POST" {
					return b.post(c.path, c.form)
				}
				return b.get(c.path)
			}
			if p := do(c.wrong); p.Status != http.StatusForbidden {
				t.Errorf("%s %s by a role that may not: %d, want 403\n%.400s", c.method, c.path, p.Status, p.Body)
			}
			if c.right == "" {
				continue
			}
			if p := do(c.right); p.Status != c.rightStatus {
				t.Errorf("%s %s by a role that may: %d, want %d\n%.400s", c.method, c.path, p.Status, c.rightStatus, p.Body)
			}
		}
	})
}

// pageRights are the pages served to every signed-in principal, without a
// page-level Allow, and why.
var pageRights = map[string]string{
	"POST /signout":                        "every principal signs itself out",
	"GET /account":                         "every principal's own account",
	"POST /account":                        "every principal sets its own preferences",
	"POST /account/sessions/end-all":       "every principal ends its own sessions",
	"POST /account/sessions/{ref}/end":     "every principal ends its own session (another's ref is not found)",
	"GET /figures/{file}":                  "the figures of the principal's own dashboard, which holds only what it may read (else 404 figure, before the period is read)",
	"GET /exchange/inbox/{peer}/{id}":      "the message's readers, else 404 as for none (exchange.Service.InboxMessage)",
	"POST /exchange/inbox/{peer}/{id}/use": "the message's readers, else 404 as for none (exchange.Service.Usable)",
}

// TestEveryPageRole asks every page the UI serves (UI.Pages, the core's and
// every section's) as a principal of every role the registry defines, with
// a query string that cannot be decoded and an id no record has. A role
// that may take none of the page's actions (Page.Allow) gets 403 before the
// query is read; a role that may gets the query's refusal (400), never a
// role refusal. Every page without Allow is one of pageRights, where every
// role gets the query's refusal.
func TestEveryPageRole(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		e := apptest.Start(t, dsn)
		me := e.Must(t, 200, "GET", "/api/v1/me", e.Admin, nil).Str("authority_id")
		authorities := map[string]string{"": me}
		type signedIn struct {
			p *auth.Principal
			b *browser
		}
		var who []signedIn
		for _, spec := range e.App.Catalogue.Roles() {
			token := e.Admin
			if spec.Role != auth.Admin {
				if authorities[spec.Kind] == "" {
					authorities[spec.Kind] = e.Must(t, 201, "POST", "/api/v1/authorities", e.Admin, map[string]any{"name": "Authority of kind " + spec.Kind, "kind": spec.Kind}).Str("id")
				}
				token = e.Must(t, 201, "POST", "/api/v1/principals", e.Admin, map[string]any{"name": string(spec.Role), "role": spec.Role, "authority_id": authorities[spec.Kind]}).Str("token")
			}
			b := newBrowser(t, e.URL)
			b.signIn(token)
			who = append(who, signedIn{e.Principal(t, token), b})
		}
		if len(who) < 12 {
			t.Fatalf("%d roles: want at least the 12 of the default modules", len(who))
		}
		param := regexp.MustCompile(`\{[^}]+\}`)
		var open []string
		refused := 0
		for _, pg := range e.App.UI().Pages() {
			key := pg.Method + " " + pg.Path
			if pg.Allow == nil {
				open = append(open, key)
			}
			path := param.ReplaceAllString(pg.Path, "NONE-1") + "?limit=%zz"
			for _, w := range who {
				got := w.b.do(pg.Method, path, url.Values{})
				if pg.Allow != nil && w.p.RequireAny(pg.Allow...) != nil {
					refused++
					if got.Status != http.StatusForbidden {
						t.Errorf("%s as %s, bad input: %d, want 403\n%.300s", key, w.p.Role, got.Status, got.Body)
					}
					continue
				}
				if got.Status != http.StatusBadRequest {
					t.Errorf("%s as %s, who may, bad input: %d, want 400 (the query's refusal)\n%.300s", key, w.p.Role, got.Status, got.Body)
				}
			}
		}
		if refused == 0 {
			t.Error("no page refused any role")
		}
		want := slices.Collect(maps.Keys(pageRights))
		slices.Sort(open)
		slices.Sort(want)
		if !slices.Equal(open, want) {
			t.Errorf("pages without Allow: %v\nwant those of pageRights: %v", open, want)
		}
	})
}
