package httpapi_test

import (
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/httpapi"
	"github.com/custos-project/custos/internal/storetest"
)

// TestOpenAPIUploadHeadersOnlyOnMatches: the upload headers (the content
// reference, the uploader's id, the upload time) are hashmatch's, for the
// content it matches; the document lists them on those routes only, not on
// the other routes whose body is a raw file (statistics imports and
// mappings, beneficial ownership and directory imports). Idempotency-Key,
// a command's, is not an upload header.
func TestOpenAPIUploadHeadersOnlyOnMatches(t *testing.T) {
	e := apptest.Start(t, storetest.SQLite(t))
	paths := e.Must(t, 200, "GET", "/api/v1/openapi.json", "", nil).Body["paths"].(map[string]any)
	headers := func(path string) []string {
		t.Helper()
		item, ok := paths[path].(map[string]any)
		if !ok {
			t.Fatalf("no route %s in the document", path)
		}
		var out []string
		params, _ := item["post"].(map[string]any)["parameters"].([]any)
		for _, p := range params {
			if p := p.(map[string]any); p["in"] == "header" && p["name"] != httpapi.IdempotencyHeader {
				out = append(out, p["name"].(string))
			}
		}
		return out
	}
	for _, path := range []string{"/api/v1/hashmatch/match/image", "/api/v1/hashmatch/match/video-file"} {
		if h := headers(path); len(h) != 3 || !strings.Contains(strings.Join(h, " "), "Custos-User-Id") {
			t.Errorf("%s lists the headers %v, want the three upload headers", path, h)
		}
	}
	for _, path := range []string{"/api/v1/stats/imports", "/api/v1/stats/mappings/{id}/file", "/api/v1/stats/mappings/{id}/check",
		"/api/v1/assets/bods/imports", "/api/v1/assets/directory/import"} {
		if h := headers(path); len(h) != 0 {
			t.Errorf("%s, a raw file body, lists the upload headers %v", path, h)
		}
	}
	for path, item := range paths {
		post, ok := item.(map[string]any)["post"].(map[string]any)
		if !ok || strings.HasPrefix(path, "/api/v1/hashmatch/match/") {
			continue
		}
		params, _ := post["parameters"].([]any)
		for _, p := range params {
			if p := p.(map[string]any); p["in"] == "header" && p["name"] != httpapi.IdempotencyHeader {
				t.Errorf("%s lists the header %v", path, p["name"])
			}
		}
	}
}
