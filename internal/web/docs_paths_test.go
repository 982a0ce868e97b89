package web_test

import (
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
	var served []docstest.Served
	first := map[string]bool{} // the first segments of the pages' paths
	for _, pg := range e.App.UI().Pages() {
		served = append(served, docstest.Served{Method: pg.Method, Pattern: pg.Path})
		if segs := strings.Split(pg.Path, "/"); len(segs) > 1 && segs[1] != "" {
			first[segs[1]] = true
		}
	}
	checked := docstest.CheckPaths(t, docWebPath, served, "page of the web UI", func(path string) bool {
		segs := strings.Split(path, "/")
		return len(segs) < 2 || !first[segs[1]]
	})
	if checked < 40 {
		t.Fatalf("only %d web paths found in README.md and docs/", checked)
	}
}
