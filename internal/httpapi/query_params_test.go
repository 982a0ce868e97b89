package httpapi_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/httpapi"
	"github.com/custos-project/custos/internal/storetest"
)

// TestQueryParamsDeclared walks every route of the API through the real
// server, as a principal the route serves: a query naming a parameter the
// route does not declare is refused (422, rule query, the parameter as
// field, the message naming those it takes), and so is a declared
// parameter given twice unless it takes several values (Param.Multi),
// before the handler runs: the log does not grow. HMA's routes, in HMA's
// shape, ignore parameters they do not read, as HMA does.
func TestQueryParamsDeclared(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		// A principal of every role, so that each route is reached past
		// its role check.
		tokens := []string{w.Admin, w.Regulator, w.Auditor, w.CoordA}
		for _, spec := range w.App.Catalogue.Roles() {
			body := map[string]any{"name": string(spec.Role), "role": string(spec.Role)}
			if spec.Kind != "" {
				body["authority_id"] = w.Must(t, 201, "POST", "/api/v1/authorities", w.Admin, map[string]any{"name": string(spec.Kind) + " " + string(spec.Role), "kind": string(spec.Kind), "jurisdiction": "XA"}).Str("id")
			} else {
				body["authority_id"] = w.RegulatorAuthority
			}
			tokens = append(tokens, w.Must(t, 201, "POST", "/api/v1/principals", w.Admin, body).Str("token"))
		}
		tokenOf := func(rt httpapi.Route) string {
			if rt.Public {
				return ""
			}
			for _, tok := range tokens {
				if w.Principal(t, tok).RequireAny(rt.Allow...) == nil {
					return tok
				}
			}
			t.Fatalf("%s %s: no principal of the world may use it", rt.Method, rt.Path)
			return ""
		}
		refused := func(key, path, tok, method, name, says string) {
			t.Helper()
			r := w.Do(t, method, path, tok, nil)
			if r.Status != 422 || r.Str("error.rule") != "query" || r.Str("error.field") != name || !strings.Contains(r.Str("error.message"), says) {
				t.Errorf("%s, %s: %d %s, want 422 query on %s saying %q", key, path, r.Status, truncate(r.Raw), name, says)
			}
		}
		size := w.LogSize(t)
		param := regexp.MustCompile(`\{[^}]+\}`)
		rts := append([]httpapi.Route{{Method: "GET", Path: "/api/v1/openapi.json", Public: true}}, routes(w)...)
		hma, checked := 0, 0
		for _, rt := range rts {
			key := rt.Method + " " + rt.Path
			base := param.ReplaceAllString(rt.Path, "NONE-1")
			tok := tokenOf(rt)
			if strings.HasPrefix(rt.Path, httpapi.HMAPrefix+"/") {
				// HMA's clients may send what HMA ignores: no refusal of
				// the parameter by custos's rule.
				hma++
				if r := w.Do(t, rt.Method, base+"?zz_unknown=1", tok, nil); r.Str("error.rule") == "query" || r.Str("field") == "zz_unknown" {
					t.Errorf("%s: an unknown parameter refused: %d %s", key, r.Status, truncate(r.Raw))
				}
				continue
			}
			checked++
			takes := "takes none"
			if len(rt.Query) > 0 {
				takes = "it takes " + rt.Query[0].Name
			}
			refused(key, base+"?zz_unknown=1", tok, rt.Method, "zz_unknown", takes)
			for _, p := range rt.Query {
				name := p.Name
				if p.Prefix {
					name += "x"
				}
				twice := base + "?" + url.Values{name: {"1", "2"}}.Encode()
				if !p.Multi {
					refused(key, twice, tok, rt.Method, name, "more than once")
					continue
				}
				if r := w.Do(t, rt.Method, twice, tok, nil); r.Str("error.rule") == "query" && r.Str("error.field") == name {
					t.Errorf("%s: %s takes several values, refused: %d %s", key, twice, r.Status, truncate(r.Raw))
				}
			}
		}
		if hma == 0 || checked < 100 {
			t.Errorf("%d routes checked, %d of HMA's: the walk missed the route table", checked, hma)
		}
		if got := w.LogSize(t); got != size {
			t.Errorf("the log grew from %d to %d leaves: a refused query changed something", size, got)
		}
	})
}
