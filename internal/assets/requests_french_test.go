package assets_test

import (
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/storetest"
)

// TestRequestPagesInFrench: a French central authority reads a request's
// deadline on the list and on its page in the French layout (31/10/2026),
// as every other date of the pages, not as stored (2026-10-31); its status
// agrees with "demande" ("Demande envoyée", "Demande exécutée", not the
// core's "Envoyé"), and the use it records is named one way, the form's
// title and its button alike.
func TestRequestPagesInFrench(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w, caseID, central, _ := requestWorld(t, dsn)
		rq := complete(caseID, central)
		id := w.Must(t, 201, "POST", "/api/v1/assets/requests", w.CAToken, rq).Str("id")
		w.Must(t, 200, "POST", "/api/v1/assets/requests/"+id+"/send", w.CAToken, nil)
		w.Must(t, 200, "POST", "/api/v1/me/preferences", w.CAToken, map[string]any{"language": "fr"})
		browser := w.signin(t, w.CAToken)
		page := func(path string) string {
			t.Helper()
			resp, err := browser.Get(w.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			if b := readAll(t, resp); resp.StatusCode == 200 {
				return b
			}
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
			return ""
		}
		d, _ := time.Parse(time.DateOnly, rq.Deadline)
		french := d.Format("02/01/2006")
		for _, path := range []string{"/assets/requests", "/assets/requests/" + id} {
			b := page(path)
			if !strings.Contains(b, `<html lang="fr"`) || !strings.Contains(b, french) || strings.Contains(b, rq.Deadline) {
				t.Errorf("%s: the deadline should read %s, not %s", path, french, rq.Deadline)
			}
			if !strings.Contains(b, "Demande envoyée") || strings.Contains(b, "Envoyé<") || strings.Contains(b, "Envoyé ") {
				t.Errorf("%s: the status of a sent request should read \"Demande envoyée\":\n%s", path, b)
			}
		}
		for _, step := range []string{"acknowledged", "under_execution", "executed"} {
			w.Must(t, 200, "POST", "/api/v1/assets/requests/"+id+"/status", w.CABToken, map[string]any{"status": step})
		}
		b := page("/assets/requests/" + id)
		if !strings.Contains(b, `id="request-status">Demande exécutée`) || !strings.Contains(b, `id="use"`) {
			t.Fatalf("an executed request's page lacks its status or the form of a use:\n%s", b)
		}
		if strings.Count(b, "Enregistrer un usage") != 2 || strings.Contains(b, "Enregistrer l’utilisation") {
			t.Errorf("a use is named two ways on the request's page: %q, %q", "Enregistrer un usage", "Enregistrer l’utilisation")
		}
	})
}
