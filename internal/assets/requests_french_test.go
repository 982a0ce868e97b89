package assets_test

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/storetest"
)

// TestRequestPagesInFrench: a French central authority reads a request's
// deadline on the list and on its page in the French layout (31/10/2026),
// as every other date of the pages, not as stored (2026-10-31).
func TestRequestPagesInFrench(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w, caseID, central, _ := requestWorld(t, dsn)
		rq := complete(caseID, central)
		id := w.Must(t, 201, "POST", "/api/v1/assets/requests", w.CAToken, rq).Str("id")
		w.Must(t, 200, "POST", "/api/v1/me/preferences", w.CAToken, map[string]any{"language": "fr"})
		browser := w.signin(t, w.CAToken)
		page := func(path string) string {
			t.Helper()
			resp, err := browser.Get(w.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 {
				t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
			}
			return string(b)
		}
		d, _ := time.Parse(time.DateOnly, rq.Deadline)
		french := d.Format("02/01/2006")
		for _, path := range []string{"/assets/requests", "/assets/requests/" + id} {
			b := page(path)
			if !strings.Contains(b, `<html lang="fr"`) || !strings.Contains(b, french) || strings.Contains(b, rq.Deadline) {
				t.Errorf("%s: the deadline should read %s, not %s", path, french, rq.Deadline)
			}
		}
	})
}
