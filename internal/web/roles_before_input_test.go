package web_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
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
