package httpapi_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/errs"
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

// TestQueryParamEchoed sends a route a parameter of a 10 kB name, and one
// whose name holds an escape character and a line break: the refusal (422,
// rule query) repeats the name cut at errs.MaxEchoed characters and
// escaped, in its message and its field, never the whole name or the raw
// control characters; a plain name comes back as it is.
func TestQueryParamEchoed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		long := strings.Repeat("n", 10<<10)
		for _, c := range []struct{ name, echo string }{
			{long, strings.Repeat("n", errs.MaxEchoed) + "…"},
			{"a\x1b[2Jb\nforged", `a\x1b[2Jb\nforged`},
			{"limitt", "limitt"},
		} {
			for _, q := range []string{url.Values{c.name: {"1"}}.Encode(), url.Values{c.name: {"1", "2"}}.Encode()} {
				r := w.Do(t, "GET", "/api/v1/transplant/donors?"+q, w.Auditor, nil)
				msg, field := r.Str("error.message"), r.Str("error.field")
				if r.Status != 422 || r.Str("error.rule") != "query" || field != c.echo || !strings.Contains(msg, "parameter "+c.echo+"; it takes centre_id") {
					t.Errorf("a parameter named %.20q…: %d %s, want 422 query naming %q", c.name, r.Status, truncate(r.Raw), c.echo)
				}
				if len(r.Raw) > 2000 || strings.ContainsFunc(msg+field, unicode.IsControl) {
					t.Errorf("a parameter named %.20q…: the refusal is %d bytes, control characters %v", c.name, len(r.Raw), strings.ContainsFunc(msg+field, unicode.IsControl))
				}
			}
		}
		// A declared parameter given twice: its name is ours, as it is.
		if r := w.Do(t, "GET", "/api/v1/transplant/donors?limit=1&limit=2", w.Auditor, nil); r.Status != 422 || r.Str("error.field") != "limit" || !strings.HasPrefix(r.Str("error.message"), "limit is given more than once") {
			t.Errorf("limit twice: %d %s", r.Status, truncate(r.Raw))
		}
	})
}
