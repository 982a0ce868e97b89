package httpapi_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
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
	"GET /api/v1/me":                              "every principal reads itself",
	"POST /api/v1/me/preferences":                 "every principal sets its own",
	"GET /api/v1/exchange/inbox/{peer}/{id}":      "the message's readers, else 404 as for none (InboxMessage)",
	"POST /api/v1/exchange/inbox/{peer}/{id}/use": "the message's readers, else 404 as for none (Usable), before the body",
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

// TestOpenAPIActions: every operation of the served document lists the
// actions its route serves (Route.Allow) and the roles that may take each
// in x-custos-actions, the roles that may take any in x-custos-roles, and
// says so in its description; an alias lists its route's. The roles listed
// are those the role check lets through: of every role of the catalogue, a
// principal of it passes the route's check exactly when the role is
// listed. A route open to every principal lists no action; a public route
// has neither key.
func TestOpenAPIActions(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	paths := w.Must(t, 200, "GET", "/api/v1/openapi.json", "", nil).Body["paths"].(map[string]any)
	type right struct {
		Action string   `json:"action"`
		Roles  []string `json:"roles"`
	}
	var roles []auth.Role
	for _, r := range w.App.Catalogue.Roles() {
		roles = append(roles, r.Role)
	}
	checked := 0
	for _, rt := range routes(w) {
		for _, path := range append([]string{rt.Path}, rt.Aliases...) {
			key := rt.Method + " " + path
			op, _ := paths[path].(map[string]any)[strings.ToLower(rt.Method)].(map[string]any)
			if op == nil {
				t.Errorf("%s is not in the document", key)
				continue
			}
			if rt.Public {
				if op[httpapi.ActionsKey] != nil || op[httpapi.RolesKey] != nil {
					t.Errorf("%s, public, lists actions %v or roles %v", key, op[httpapi.ActionsKey], op[httpapi.RolesKey])
				}
				continue
			}
			checked++
			var got []right
			var gotRoles []string
			raw, _ := json.Marshal(op[httpapi.ActionsKey])
			rawRoles, _ := json.Marshal(op[httpapi.RolesKey])
			if json.Unmarshal(raw, &got) != nil || json.Unmarshal(rawRoles, &gotRoles) != nil || got == nil || (gotRoles == nil) != (len(rt.Allow) == 0) {
				t.Errorf("%s: %s %s, %s %s; want the actions, and the roles when there are some", key, httpapi.ActionsKey, raw, httpapi.RolesKey, rawRoles)
				continue
			}
			want := []right{}
			for _, a := range rt.Allow {
				var names []string
				for _, r := range a.Roles() {
					names = append(names, string(r))
				}
				want = append(want, right{a.Name, names})
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s lists the actions %v, want its route's Allow %v", key, got, want)
			}
			description, _ := op["description"].(string)
			for _, a := range want {
				if !strings.Contains(description, a.Action+" ("+strings.Join(a.Roles, ", ")+")") {
					t.Errorf("%s: the description %q does not name the action %q and its roles", key, description, a.Action)
				}
			}
			if len(want) == 0 && !strings.Contains(description, "Every principal reaches this route") {
				t.Errorf("%s, without Allow: the description %q does not say every principal reaches it", key, description)
			}
			for _, r := range roles {
				if len(rt.Allow) == 0 {
					break // every role passes: no list
				}
				passes := (&auth.Principal{Role: r}).RequireAny(rt.Allow...) == nil
				if slices.Contains(gotRoles, string(r)) != passes {
					t.Errorf("%s: the role %s passes the role check: %v; listed in %s %v", key, r, passes, httpapi.RolesKey, gotRoles)
				}
			}
		}
	}
	if checked < 100 {
		t.Errorf("%d operations checked, want every signed-in route's", checked)
	}
	// One spelled out: only the administrator manages principals.
	op := paths["/api/v1/principals"].(map[string]any)["post"].(map[string]any)
	if raw, _ := json.Marshal(op[httpapi.ActionsKey]); string(raw) != `[{"action":"manage authorities and principals","roles":["admin"]}]` {
		t.Errorf("POST /api/v1/principals: %s %s", httpapi.ActionsKey, raw)
	}
}
