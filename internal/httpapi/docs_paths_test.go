package httpapi_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// docPath is a request the documentation shows: METHOD /api/v1/... (the
// method empty where the text names the path alone).
var docPath = regexp.MustCompile("(?:\\b(GET|POST|PUT|PATCH|DELETE) )?(/api/v1/(?:\\{[^}]*\\}|[^\\s`\"'<>)\\]?#,;{])*)")

// TestDocPaths reads every API path the README and docs/ name and checks
// that the served OpenAPI document (every route, TestOpenAPIMatchesHandlers)
// has it, with the method the text gives: an integrator copies these, and
// a route renamed or removed must not leave them behind. A path segment
// the text writes as a placeholder ({id}, ID, TX-…, ...) stands for the
// document's parameter.
func TestDocPaths(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	r := w.Must(t, 200, "GET", "/api/v1/openapi.json", "", nil)
	type op struct {
		segs    []string
		methods []string
	}
	var ops []op
	for path, item := range r.Body["paths"].(map[string]any) {
		o := op{segs: strings.Split(path, "/")}
		for m := range item.(map[string]any) {
			o.methods = append(o.methods, strings.ToUpper(m))
		}
		ops = append(ops, o)
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
			for _, m := range docPath.FindAllStringSubmatch(line, -1) {
				method, path := m[1], strings.TrimRight(m[2], ".:")
				if strings.HasSuffix(path, "/") || strings.Contains(path, "*") {
					continue // a prefix (/api/v1/assets/...), not a route
				}
				checked++
				segs := strings.Split(path, "/")
				found, methodOK := false, false
				for _, o := range ops {
					if len(o.segs) != len(segs) {
						continue
					}
					match := true
					for i, s := range segs {
						if s != o.segs[i] && !(strings.HasPrefix(o.segs[i], "{") && s != "") {
							match = false
							break
						}
					}
					if match {
						found = true
						if method == "" || slices.Contains(o.methods, method) {
							methodOK = true
						}
					}
				}
				where := filepath.Base(f) + ":" + strconv.Itoa(n+1) + ": " + strings.TrimSpace(method+" "+path)
				if !found {
					t.Errorf("%s: no route of the API has this path", where)
				} else if !methodOK {
					t.Errorf("%s: the route has no %s", where, method)
				}
			}
		}
	}
	if checked < 100 {
		t.Fatalf("only %d API paths found in README.md and docs/", checked)
	}
}
