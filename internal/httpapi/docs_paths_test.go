package httpapi_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/docstest"
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
	ops := map[string][]string{} // path -> its methods
	for path, item := range r.Body["paths"].(map[string]any) {
		for m := range item.(map[string]any) {
			ops[path] = append(ops[path], strings.ToUpper(m))
		}
	}
	checked := 0
	for _, d := range docstest.Docs(t) {
		for n, line := range d.Lines {
			for _, m := range docPath.FindAllStringSubmatch(line, -1) {
				method, path := m[1], strings.TrimRight(m[2], ".:")
				if strings.HasSuffix(path, "/") || strings.Contains(path, "*") {
					continue // a prefix (/api/v1/assets/...), not a route
				}
				checked++
				found, methodOK := false, false
				for pattern, methods := range ops {
					if docstest.PathMatches(pattern, path) {
						found = true
						methodOK = methodOK || method == "" || slices.Contains(methods, method)
					}
				}
				where := fmt.Sprintf("%s:%d: %s", d.Name, n+1, strings.TrimSpace(method+" "+path))
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
