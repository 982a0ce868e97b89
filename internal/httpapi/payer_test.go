package httpapi_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// TestPayerSeesNothingElse asks the payer check as a payer over HTTP, and
// calls every other route the server documents with the payer's token:
// each refuses them (the registry's routes with 403), but for the public routes (which answer anyone
// the same) and the payer's own identity and preferences.
func TestPayerSeesNothingElse(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		ins := w.Must(t, 201, "POST", "/api/v1/authorities", w.Admin, map[string]any{"name": "Demoland Health Insurance Fund", "kind": "payer"}).Str("id")
		payer := w.Must(t, 201, "POST", "/api/v1/principals", w.Admin, map[string]any{"name": "Claims officer", "role": "payer", "authority_id": ins}).Str("token")
		if r := w.Do(t, "POST", "/api/v1/principals", w.Admin, map[string]any{"name": "Claims officer", "role": "payer", "authority_id": w.CentreA}); r.Str("error.rule") != "payer_authority" {
			t.Errorf("a payer of a centre: %s", r.Raw)
		}
		r := w.Do(t, "POST", "/api/v1/transplant/payer-check", payer, map[string]any{"transplant_id": "TX-0000000000"})
		if r.Status != 404 || r.Str("error.field") != "transplant_id" {
			t.Errorf("a question about nothing: %d %s", r.Status, r.Raw)
		}
		// Not an id at all (a name typed in): refused, and not logged.
		r = w.Do(t, "POST", "/api/v1/transplant/payer-check", payer, map[string]any{"transplant_id": "Jane Roe"})
		if r.Status != 422 || r.Str("error.rule") != "id_format" || r.Str("error.field") != "transplant_id" {
			t.Errorf("a question about a name: %d %s", r.Status, r.Raw)
		}
		if r := w.Do(t, "GET", "/api/v1/transplant/payer-checks", w.Regulator, nil); r.Status != 200 || !strings.Contains(string(r.Raw), `"reason": "not_found"`) && !strings.Contains(string(r.Raw), `"reason":"not_found"`) {
			t.Errorf("the regulator reads the questions: %d %s", r.Status, r.Raw)
		}
		doc := w.Must(t, 200, "GET", "/api/v1/openapi.json", "", nil)
		param := regexp.MustCompile(`\{[^}]+\}`)
		n := 0
		for path, item := range doc.Body["paths"].(map[string]any) {
			for method := range item.(map[string]any) {
				method = strings.ToUpper(method)
				p := param.ReplaceAllString(path, "x")
				if p == "/api/v1/transplant/payer-check" || p == "/api/v1/me" || p == "/api/v1/me/preferences" {
					continue
				}
				var body any
				if method != "GET" {
					body = map[string]any{}
				}
				anon := w.Do(t, method, p, "", body)
				if anon.Status != 401 {
					continue // public, or refusing the input before the caller
				}
				got := w.Do(t, method, p, payer, body)
				n++
				// The registry's routes refuse the role; a few core routes
				// check their input before the caller, and refuse that.
				if got.Status != 403 && (strings.HasPrefix(p, "/api/v1/transplant/") || got.Status < 400) {
					t.Errorf("%s %s answers a payer %d: %s", method, p, got.Status, got.Raw)
				}
			}
		}
		if n < 50 {
			t.Errorf("only %d routes tried", n)
		}
	})
}
