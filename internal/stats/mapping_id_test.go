package stats_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/stats/statstest"
	"github.com/custos-project/custos/internal/storetest"
)

// TestMappingIDCase: through the API, a mapping id that differs from a
// published mapping's only in case is that mapping's. Another office is
// refused (authority, alerted), as for the mapping's own id, so that it
// cannot publish XA-PENAL-CODE beside xa-penal-code for an import naming
// the id in other letters to be coded with its rows; the owning office is
// told to publish under its mapping's id. Nothing is written, no leaf; the
// owner's next version under the id itself is published.
func TestMappingIDCase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		m := w.mapping(t) // demoland-penal-code
		ministry := w.Must(t, 201, "POST", "/api/v1/authorities", w.Admin, map[string]any{"name": "Ministry statistics unit", "kind": "statistics_office"}).Str("id")
		other := w.Must(t, 201, "POST", "/api/v1/principals", w.Admin, map[string]any{"name": "Ministry statistician", "role": "statistician", "authority_id": ministry}).Str("token")
		publish := func(token, id string, rows string) (int, map[string]any) {
			t.Helper()
			r := w.Upload(t, "/api/v1/stats/mappings/"+id+"/file?name=Recoded", token, "text/csv", []byte(rows))
			e, _ := r.Body["error"].(map[string]any)
			return r.Status, e
		}
		rows := statstest.Mapping
		lines := strings.SplitAfter(rows, "\n")
		changed := strings.Join(lines[:len(lines)-2], "")
		size := w.LogSize(t)
		for _, c := range []struct {
			name, token, id string
			status          int
			rule            string
			alert           bool
		}{
			{"another office, in capitals", other, strings.ToUpper(m.ID), http.StatusForbidden, "authority", true},
			{"another office, one letter", other, "Demoland-penal-code", http.StatusForbidden, "authority", true},
			{"the owner, in capitals", w.Token, strings.ToUpper(m.ID), http.StatusConflict, "mapping_id", false},
		} {
			status, e := publish(c.token, c.id, changed)
			if status != c.status || e["rule"] != c.rule || e["field"] != "id" || (e["alert"] == true) != c.alert {
				t.Errorf("%s: %d %v, want %d %s at id (alert %v)", c.name, status, e, c.status, c.rule, c.alert)
			}
			if msg, _ := e["message"].(string); !strings.Contains(msg, m.ID) {
				t.Errorf("%s: %q does not name the mapping %s", c.name, msg, m.ID)
			}
		}
		var n int
		if err := w.App.DB.Read().QueryRow(t.Context(), "SELECT COUNT(*) FROM stats_mappings WHERE lower(mapping_id) = lower(?)", m.ID).Scan(&n); err != nil || n != 1 {
			t.Fatalf("%d versions after the refusals (%v), want 1", n, err)
		}
		// The refusals wrote no leaf but the other office's alert.
		var alerts int
		if err := w.App.DB.Read().QueryRow(t.Context(), "SELECT COUNT(*) FROM alerts WHERE rule = 'authority'").Scan(&alerts); err != nil || alerts != 1 {
			t.Errorf("%d authority alerts (%v), want 1 (the second attempt repeats it)", alerts, err)
		}
		if got := w.LogSize(t); got != size+1 {
			t.Errorf("the refusals wrote %d leaves, want 1: the alert's", got-size)
		}
		if status, e := publish(other, "ministry-code", changed); status != http.StatusCreated {
			t.Errorf("another office's own id: %d %v", status, e)
		}
		if status, e := publish(w.Token, m.ID, changed); status != http.StatusCreated {
			t.Errorf("the owner's next version: %d %v", status, e)
		}
		w.Verify(t)
	})
}
