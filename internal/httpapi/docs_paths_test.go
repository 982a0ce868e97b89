package httpapi_test

import (
	"regexp"
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
	var served []docstest.Served
	for path, item := range r.Body["paths"].(map[string]any) {
		for m := range item.(map[string]any) {
			served = append(served, docstest.Served{Method: strings.ToUpper(m), Pattern: path})
		}
	}
	// A path with * is a family (/api/v1/assets/*), not a route.
	checked := docstest.CheckPaths(t, docPath, served, "route of the API", func(path string) bool { return strings.Contains(path, "*") })
	if checked < 100 {
		t.Fatalf("only %d API paths found in README.md and docs/", checked)
	}
}
