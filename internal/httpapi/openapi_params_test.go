package httpapi_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// TestOpenAPIRequiredParams checks that the document marks a route's query
// parameters required when the API refuses a request without them (the log's
// consistency proof: from and to), and that each parameter it marks
// required is one the API refuses a request without, naming it (422, rule
// required), so that the document claims nothing the API does not do.
func TestOpenAPIRequiredParams(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	doc := w.Must(t, 200, "GET", "/api/v1/openapi.json", "", nil).Body
	required := map[string][]string{} // "GET path" -> its required query parameters, in order
	for path, item := range doc["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			params, _ := op.(map[string]any)["parameters"].([]any)
			for _, p := range params {
				p := p.(map[string]any)
				if p["in"] == "query" && p["required"] == true {
					k := strings.ToUpper(method) + " " + path
					required[k] = append(required[k], p["name"].(string))
				}
			}
		}
	}
	if got := required["GET /api/v1/log/consistency"]; !slices.Equal(got, []string{"from", "to"}) {
		t.Errorf("the consistency proof's required parameters: %q, want from and to", got)
	}
	param := regexp.MustCompile(`\{[^}]+\}`)
	for op, names := range required {
		method, path, _ := strings.Cut(op, " ")
		path = param.ReplaceAllString(path, "x")
		// Each missing in turn, the others given: the refusal names it.
		for i, name := range names {
			q := ""
			for j, other := range names {
				if j != i {
					q += "&" + other + "=1"
				}
			}
			r := w.Do(t, method, path+"?"+strings.TrimPrefix(q, "&"), w.Auditor, nil)
			if r.Status != 422 || r.Str("error.rule") != "required" || r.Str("error.field") != name {
				t.Errorf("%s without %s: %d %s, want 422 rule required field %s", op, name, r.Status, r.Raw, name)
			}
		}
	}
}
