package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

// TestHMAUnservedRoutes: an address under /hma that custos does not serve
// (HMA's curation routes, /c/…, a mistyped path) or a method a route does
// not take is refused in HMA's shape, JSON with the rule (route, method),
// as /api/ refuses them in custos's: before, the first got the web UI's
// HTML page, the second a bare "Method Not Allowed", which an HMA client
// cannot read.
func TestHMAUnservedRoutes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		e := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		for _, c := range []struct {
			method, path string
			status       int
			rule, allow  string
		}{
			{"GET", "/c/banks", 404, "route", ""},
			{"POST", "/c/banks", 404, "route", ""},
			{"GET", "/m/lookup/", 404, "route", ""},
			{"GET", "/", 404, "route", ""},
			{"PUT", "/m/lookup", 405, "method", "GET, POST"},
			{"GET", "/m/compare", 405, "method", "POST"},
			{"DELETE", "/h/hash", 405, "method", "GET, POST"},
		} {
			for _, token := range []string{e.Service, ""} {
				req, err := http.NewRequest(c.method, e.URL+"/hma"+c.path, nil)
				if err != nil {
					t.Fatal(err)
				}
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var got map[string]any
				if json.Unmarshal(raw, &got) != nil || resp.StatusCode != c.status || got["rule"] != c.rule || got["message"] == nil || got["error"] != nil || resp.Header.Get("Allow") != c.allow {
					t.Errorf("%s /hma%s (token %t): %d Allow %q %.200s, want %d rule %s in HMA's shape, Allow %q", c.method, c.path, token != "", resp.StatusCode, resp.Header.Get("Allow"), raw, c.status, c.rule, c.allow)
					continue
				}
				checkAnswer(t, e.Env, c.method, "/hma"+c.path, &apptest.Response{Status: resp.StatusCode, Header: resp.Header, Raw: raw})
			}
		}
	})
}
