package web_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/docstest"
	"github.com/custos-project/custos/internal/storetest"
)

// docWebPath is a web page the documentation names in inline code:
// `/transplant/sae`, `GET /transplant/trace?q=DN-...`.
var docWebPath = regexp.MustCompile("`(?:(GET|POST) )?(/(?:\\{[^}]*\\}|[^\\s`?#{])*)[^`]*`")

// TestDocWebPaths reads every web page path the README and docs/ name and
// checks that the UI serves a page there (UI.Pages, every page of every
// section, with the method where the text gives one): a user follows
// these, and a page moved must not leave them behind. Paths whose first
// segment no page has (/api/v1, /metrics, files such as /var/lib) are
// other things; a segment the text writes as a placeholder ({id}, SA-…,
// <bank>) stands for the page's.
func TestDocWebPaths(t *testing.T) {
	e := apptest.Start(t, storetest.SQLite(t))
	pages := e.App.UI().Pages()
	first := map[string]bool{}
	for _, pg := range pages {
		if segs := strings.Split(pg.Path, "/"); len(segs) > 1 && segs[1] != "" {
			first[segs[1]] = true
		}
	}
	checked := 0
	for _, d := range docstest.Docs(t) {
		for n, line := range d.Lines {
			for _, m := range docWebPath.FindAllStringSubmatch(line, -1) {
				method, path := m[1], strings.TrimRight(m[2], ".:,")
				if strings.HasSuffix(path, "/") {
					continue // a prefix (/transplant/), not a page
				}
				if segs := strings.Split(path, "/"); len(segs) < 2 || !first[segs[1]] {
					continue
				}
				checked++
				found, methodOK := false, false
				for _, pg := range pages {
					if docstest.PathMatches(pg.Path, path) {
						found = true
						methodOK = methodOK || method == "" || method == pg.Method
					}
				}
				where := fmt.Sprintf("%s:%d: %s", d.Name, n+1, strings.TrimSpace(method+" "+path))
				if !found {
					t.Errorf("%s: no page of the web UI has this path", where)
				} else if !methodOK {
					t.Errorf("%s: the page is not served for %s", where, method)
				}
			}
		}
	}
	if checked < 40 {
		t.Fatalf("only %d web paths found in README.md and docs/", checked)
	}
}
