package web_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

var switchNextRE = regexp.MustCompile(`name="next" value="([^"]*)"`)

// TestEveryRefusedPostComesBack posts to every POST page the UI serves
// (UI.Pages), without its CSRF token, as the administrator: each is refused
// with a page at its POST address, whose language switch must bring the
// browser back with a GET to an address a page serves (the path itself
// where it serves GET, with the query, else the nearest parent that does):
// never a 405, nor the 404 of a path no page serves.
func TestEveryRefusedPostComesBack(t *testing.T) {
	e := apptest.Start(t, storetest.SQLite(t))
	b := newBrowser(t, e.URL)
	b.signIn(e.Admin)
	param := regexp.MustCompile(`\{[^}]+\}`)
	get := map[string]bool{}
	for _, pg := range e.App.UI().Pages() {
		get[pg.Method+" "+pg.Path] = true
	}
	n := 0
	for _, pg := range e.App.UI().Pages() {
		if pg.Method != http.MethodPost || pg.Path == "/signout" {
			continue
		}
		path := param.ReplaceAllString(pg.Path, "NONE-1")
		p := b.do("POST", path+"?limit=1", url.Values{})
		m := switchNextRE.FindStringSubmatch(p.Body)
		if p.Status < 400 || m == nil {
			t.Errorf("POST %s: %d, want a refusal with the language switch\n%.300s", path, p.Status, p.Body)
			continue
		}
		next := html.UnescapeString(m[1])
		// The query is kept where the path itself is served for GET, and
		// only there: a parent's page does not read the form's query.
		// A Legacy section's old path (its POSTs still served there)
		// answers GET with a redirect to its path.
		want := get["GET "+pg.Path] || b.get(path).Status == http.StatusPermanentRedirect
		if want != (next == path+"?limit=1") || !want && strings.Contains(next, "?") {
			t.Errorf("POST %s: the switch comes back to %q (the path serves GET: %v)", path, next, want)
		}
		got := b.get(next)
		if got.Status == http.StatusMethodNotAllowed || strings.Contains(got.Body, `<code id="refusal-rule">page</code>`) {
			t.Errorf("POST %s, then GET %s (the switch's next): %d, no page there\n%.300s", path, next, got.Status, got.Body)
		}
		n++
	}
	if n < 50 {
		t.Errorf("%d POST pages asked: want every one", n)
	}
}
