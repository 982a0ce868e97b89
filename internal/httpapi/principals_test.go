package httpapi_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// TestPrincipalsListedAndRevoked: an administrator lists the principals
// over the API, filtered and a page at a time, never with a token, and
// revokes one, whose token is refused at once; whoever else may do
// neither, and a refused revocation changes nothing. The refusals are the
// web's: an unknown id 404, an already revoked principal or one's own token
// refused with the rule's name.
func TestPrincipalsListedAndRevoked(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		idOf := func(token string) string { return w.Must(t, 200, "GET", "/api/v1/me", token, nil).Str("id") }
		admin, auditor, coordA := idOf(w.Admin), idOf(w.Auditor), idOf(w.CoordA)
		made := w.Must(t, 201, "POST", "/api/v1/principals", w.Admin, map[string]any{"name": "Leaver", "role": "coordinator", "authority_id": w.CentreA})
		leaver, token := made.Str("id"), made.Str("token")

		all := walk(t, w, w.Admin, "/api/v1/principals", "principals", nil)
		if len(all) < 5 || all[0] != leaver || !strings.Contains(fmt.Sprint(all), admin) {
			t.Errorf("principals: %v, want the newest, %s, first and the administrator %s among them", all, leaver, admin)
		}
		if got := walk(t, w, w.Admin, "/api/v1/principals?limit=1", "principals", nil); fmt.Sprint(got) != fmt.Sprint(all) {
			t.Errorf("a principal a page: %v, want %v", got, all)
		}
		r := w.Must(t, 200, "GET", "/api/v1/principals", w.Admin, nil)
		if strings.Contains(string(r.Raw), token) || strings.Contains(string(r.Raw), "token") {
			t.Errorf("the list shows a token: %s", truncate(r.Raw))
		}
		for _, c := range []struct {
			query string
			want  []string
		}{
			{"authority_id=" + w.CentreA, []string{leaver, coordA}},
			{"role=auditor", []string{auditor}},
			{"name=" + "coordinator%20a", []string{coordA}},
			{"state=revoked", nil},
			{"state=active&authority_id=" + w.CentreA + "&role=coordinator", []string{leaver, coordA}},
		} {
			if got := walk(t, w, w.Admin, "/api/v1/principals?"+c.query, "principals", nil); fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("principals?%s: %v, want %v", c.query, got, c.want)
			}
		}
		for _, c := range []struct{ query, rule, field string }{
			{"role=nobody", "enum", "role"}, {"state=gone", "enum", "state"}, {"token=x", "query", "token"}, {"limit=501", "range", "limit"},
		} {
			if r := w.Do(t, "GET", "/api/v1/principals?"+c.query, w.Admin, nil); r.Status != 422 || r.Str("error.rule") != c.rule || r.Str("error.field") != c.field {
				t.Errorf("principals?%s: %d %s, want 422 rule %s field %s", c.query, r.Status, r.Raw, c.rule, c.field)
			}
		}

		// Whoever may not manage principals neither lists nor revokes them,
		// and the refused revocation writes nothing: the token still signs in.
		size := w.LogSize(t)
		for name, tok := range map[string]string{"regulator": w.Regulator, "auditor": w.Auditor, "coordinator": w.CoordA} {
			if r := w.Do(t, "GET", "/api/v1/principals", tok, nil); r.Status != 403 || r.Str("error.rule") != "role" {
				t.Errorf("list as %s: %d %s, want 403 role", name, r.Status, r.Raw)
			}
			if r := w.Do(t, "POST", "/api/v1/principals/"+leaver+"/revoke", tok, nil); r.Status != 403 || r.Str("error.rule") != "role" {
				t.Errorf("revoke as %s: %d %s, want 403 role", name, r.Status, r.Raw)
			}
		}
		if n := w.LogSize(t); n != size {
			t.Errorf("refused revocations wrote to the log: %d entries, were %d", n, size)
		}
		w.Must(t, 200, "GET", "/api/v1/me", token, nil)

		for _, c := range []struct {
			id     string
			status int
			rule   string
		}{{"NONE-1", 404, "reference"}, {admin, 409, "own_token"}} {
			if r := w.Do(t, "POST", "/api/v1/principals/"+c.id+"/revoke", w.Admin, nil); r.Status != c.status || r.Str("error.rule") != c.rule || r.Str("error.field") != "id" {
				t.Errorf("revoke %s: %d %s, want %d rule %s field id", c.id, r.Status, r.Raw, c.status, c.rule)
			}
		}
		if n := w.LogSize(t); n != size {
			t.Errorf("refused revocations wrote to the log: %d entries, were %d", n, size)
		}

		r = w.Must(t, 200, "POST", "/api/v1/principals/"+leaver+"/revoke", w.Admin, nil)
		if r.Str("id") != leaver || r.Str("revoked_at") == "" || strings.Contains(string(r.Raw), "token") {
			t.Errorf("revoked: %s, want the principal with revoked_at and no token", r.Raw)
		}
		if r := w.Do(t, "GET", "/api/v1/me", token, nil); r.Status != 401 {
			t.Errorf("the revoked token right after: %d %s, want 401", r.Status, r.Raw)
		}
		if r := w.Do(t, "POST", "/api/v1/principals/"+leaver+"/revoke", w.Admin, nil); r.Status != 409 || r.Str("error.rule") != "already_revoked" {
			t.Errorf("revoked again: %d %s, want 409 already_revoked", r.Status, r.Raw)
		}
		if got := walk(t, w, w.Admin, "/api/v1/principals?state=revoked", "principals", nil); fmt.Sprint(got) != fmt.Sprint([]string{leaver}) {
			t.Errorf("revoked principals: %v, want [%s]", got, leaver)
		}
	})
}
