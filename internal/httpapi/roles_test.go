package httpapi_test

import (
	"regexp"
	"slices"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/httpapi"
	"github.com/custos-project/custos/internal/storetest"
)

// routeRights are the routes open to a principal without a route-level
// Allow, and why: their handlers decide, before reading anything else the
// request carries.
var routeRights = map[string]string{
	"GET /api/v1/me":                                              "every principal reads itself",
	"POST /api/v1/me/preferences":                                 "every principal sets its own",
	"GET /api/v1/exchange/inbox/{peer}/{id}":                      "the message's readers, else 404 as for none (InboxMessage)",
	"POST /api/v1/exchange/inbox/{peer}/{id}/use":                 "the message's readers, else 404 as for none (Usable), before the body",
	"GET /api/v1/transplant/trafficking/indicators":               "reporters (a role of a centre) and the designated authority",
	"POST /api/v1/transplant/trafficking/reports":                 "reporters: a role of a transplant centre (RequireReporter), before the body",
	"GET /api/v1/transplant/trafficking/reports/mine":             "reporters",
	"GET /api/v1/transplant/trafficking/reports/mine/{reference}": "reporters",
}

// routes lists the API's routes as the server builds them.
func routes(w *apptest.World) []httpapi.Route {
	env := httpapi.Env{DB: w.App.DB, Writer: w.App.Writer, Log: w.App.Log, Catalogue: w.App.Catalogue, Authorities: w.App.Authorities}
	var out []httpapi.Route
	for _, r := range w.App.Modules {
		if o := w.App.Opened[r.Name]; o != nil && o.Routes != nil {
			out = append(out, o.Routes(env)...)
		}
	}
	return out
}

// TestRoleBeforeInput sends every route that declares the actions it serves
// a request whose every part is wrong (an id no record has, a query string
// that cannot be decoded, a body that is not JSON) from each principal of
// the world. A role that may take none of the route's actions gets 403
// rule role, so that it learns nothing from the input's refusals or from
// which records exist; a role that may gets the input's refusal (400
// query), never a role refusal. Every route without Allow is one of
// routeRights.
func TestRoleBeforeInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		who := map[string]string{"admin": w.Admin, "regulator": w.Regulator, "auditor": w.Auditor, "coordinator": w.CoordA}
		principals := map[string]*auth.Principal{}
		for name, tok := range who {
			principals[name] = w.Principal(t, tok)
		}
		param := regexp.MustCompile(`\{[^}]+\}`)
		var open []string
		for _, rt := range routes(w) {
			key := rt.Method + " " + rt.Path
			if rt.Public {
				continue
			}
			if rt.Allow == nil {
				open = append(open, key)
				continue
			}
			path := param.ReplaceAllString(rt.Path, "NONE-1") + "?limit=%zz"
			for name, tok := range who {
				r := w.Do(t, rt.Method, path, tok, `{"no json`)
				if principals[name].RequireAny(rt.Allow...) != nil {
					if r.Status != 403 || (r.Str("error.rule") != "role" && r.Str("rule") != "role") {
						t.Errorf("%s as %s, bad input: %d %s, want 403 role", key, name, r.Status, truncate(r.Raw))
					}
					continue
				}
				if r.Status != 400 || r.Str("error.rule") != "query" {
					t.Errorf("%s as %s, who may, bad input: %d %s, want 400 query", key, name, r.Status, truncate(r.Raw))
				}
			}
		}
		var want []string
		for k := range routeRights {
			want = append(want, k)
		}
		slices.Sort(open)
		slices.Sort(want)
		if !slices.Equal(open, want) {
			t.Errorf("routes without Allow: %v\nwant those of routeRights: %v", open, want)
		}
	})
}

// TestRoleBeforeInputFindings are the routes an attacker found answering
// input before the role: a coordinator (no right to the statistics) gets
// 403 for an aggregation with a missing field, an auditor (who may read
// them) 422; and a use of a received message tells a role that may not
// use it nothing of whether the message exists.
func TestRoleBeforeInputFindings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		for _, c := range []struct {
			name, token string
			status      int
			rule        string
		}{
			{"coordinator", w.CoordA, 403, "role"},
			{"auditor", w.Auditor, 422, ""},
		} {
			r := w.Do(t, "POST", "/api/v1/stats/aggregate", c.token, map[string]any{})
			if r.Status != c.status || (c.rule != "" && r.Str("error.rule") != c.rule) {
				t.Errorf("aggregate as %s with a missing field: %d %s, want %d %s", c.name, r.Status, r.Raw, c.status, c.rule)
			}
		}
		// No message has this id: a coordinator (who neither reads the
		// exchange nor can be a message's reader here) and an administrator
		// get the same 404 whatever the body, as they would for a message
		// that exists and is not theirs (TestExchangeUseHidden).
		for _, body := range []any{`{"no json`, map[string]any{"purpose": "NOT A PURPOSE"}} {
			for name, tok := range map[string]string{"coordinator": w.CoordA, "admin": w.Admin} {
				r := w.Do(t, "POST", "/api/v1/exchange/inbox/PEER-NONE/XM-NONE/use", tok, body)
				if r.Status != 404 || r.Str("error.rule") != "message" {
					t.Errorf("use of no message as %s, body %v: %d %s, want 404 message", name, body, r.Status, r.Raw)
				}
			}
		}
	})
}
