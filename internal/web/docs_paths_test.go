package web_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
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
	type page struct {
		method string
		segs   []string
	}
	var pages []page
	first := map[string]bool{}
	for _, pg := range e.App.UI().Pages() {
		segs := strings.Split(strings.TrimSuffix(pg.Path, "/"), "/")
		pages = append(pages, page{pg.Method, segs})
		if len(segs) > 1 && segs[1] != "" {
			first[segs[1]] = true
		}
	}
	files, err := filepath.Glob("../../docs/*.md")
	if err != nil || len(files) == 0 {
		t.Fatalf("no docs/*.md (%v)", err)
	}
	files = append(files, "../../README.md")
	checked := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for n, line := range strings.Split(string(b), "\n") {
			for _, m := range docWebPath.FindAllStringSubmatch(line, -1) {
				method, path := m[1], strings.TrimRight(m[2], ".:,")
				if strings.HasSuffix(path, "/") {
					continue // a prefix (/transplant/), not a page
				}
				segs := strings.Split(strings.TrimSuffix(path, "/"), "/")
				if len(segs) < 2 || !first[segs[1]] {
					continue
				}
				checked++
				found, methodOK := false, false
				for _, pg := range pages {
					if len(pg.segs) != len(segs) {
						continue
					}
					match := true
					for i, s := range segs {
						if s != pg.segs[i] && !(strings.HasPrefix(pg.segs[i], "{") && s != "") {
							match = false
							break
						}
					}
					if match {
						found = true
						methodOK = methodOK || method == "" || method == pg.method
					}
				}
				where := fmt.Sprintf("%s:%d: %s", filepath.Base(f), n+1, strings.TrimSpace(method+" "+path))
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
