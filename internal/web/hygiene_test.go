package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// TestNotFoundPage checks that an unknown page gets the UI's own 404 page,
// in the layout with a link home, signed in or not; that a known path asked
// with another method is still 405; and that an unknown API path keeps its
// JSON error body.
func TestNotFoundPage(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	anon := newBrowser(t, w.URL)
	b := newBrowser(t, w.URL)
	b.signIn(w.CoordA)
	for _, c := range []struct {
		who  string
		b    *browser
		home string
	}{{"anonymous", anon, "Sign in"}, {"coordinator", b, "Back to the start page"}} {
		p := c.b.get("/no/such/page")
		wantStatus(t, c.who+" unknown page", p, http.StatusNotFound)
		mustContain(t, c.who+" unknown page", p, "<title>", "Page not found", "there is no page at /no/such/page", `<a href="/">`+c.home+`</a>`, `id="refusal-rule">page<`)
		if strings.Contains(p.Body, "404 page not found") {
			t.Errorf("%s: Go's plain 404", c.who)
		}
		if ct := p.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("%s: content type %s", c.who, ct)
		}
	}
	p := b.get("/transplant/no-such-page")
	wantStatus(t, "unknown page of a section", p, http.StatusNotFound)
	mustContain(t, "unknown page of a section", p, "Page not found")

	p = anon.get("/signin")
	wantStatus(t, "GET of a POST page", p, http.StatusMethodNotAllowed)
	if allow := p.Header.Get("Allow"); allow != "POST" {
		t.Errorf("GET /signin: Allow %q", allow)
	}

	r := w.Do(t, "GET", "/api/v1/no-such-route", w.Regulator, nil)
	if r.Status != 404 || r.Str("error.code") != "not_found" || r.Str("error.rule") != "route" {
		t.Errorf("unknown API path: %d %s", r.Status, r.Raw)
	}
}

// TestFormsRefuseInvalidUTF8 posts a form value that is not UTF-8: it is
// refused, field named, and nothing is recorded.
func TestFormsRefuseInvalidUTF8(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	b := newBrowser(t, w.URL)
	b.signIn(w.CoordA)
	size := func() float64 {
		return w.Must(t, 200, "GET", "/api/v1/log/checkpoint", "", nil).Body["size"].(float64)
	}
	before := size()
	p := b.post("/transplant/recipients", url.Values{"name": {"Jos\xe9"}, "organ": {"kidney"}, "blood_group": {"A"}})
	wantStatus(t, "invalid UTF-8", p, http.StatusBadRequest)
	mustContain(t, "invalid UTF-8", p, `id="refusal-rule">utf8<`, `id="refusal-field">name<`)
	if after := size(); after != before {
		t.Errorf("the log grew from %v to %v", before, after)
	}
}

// TestHeaderNamesRegistry checks the registry named beside custos in the
// header: a transplant coordinator's is the transplant registry, while the
// sign-in page and an administrator's pages, of a deployment serving every
// registry, name none rather than the first.
func TestHeaderNamesRegistry(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	title := transplant.Module.Title
	anon := newBrowser(t, w.URL)
	p := anon.get("/")
	mustContain(t, "signed out", p, `<span class="mark">custos</span>`)
	if strings.Contains(p.Body, `class="registry"`) || strings.Contains(p.Body, title) {
		t.Errorf("signed out: the header names a registry:\n%s", p.Body)
	}
	coord := newBrowser(t, w.URL)
	coord.signIn(w.CoordA)
	mustContain(t, "coordinator", coord.get("/"), `<span class="registry">`+title+`</span>`)
	admin := newBrowser(t, w.URL)
	admin.signIn(w.Admin)
	if p := admin.get("/"); strings.Contains(p.Body, `class="registry"`) {
		t.Errorf("administrator: the header names a registry:\n%s", p.Body)
	}
}
