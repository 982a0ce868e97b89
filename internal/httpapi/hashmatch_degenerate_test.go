package httpapi_test

import (
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

// TestPublishDegenerateHash: a version that adds the hash of a blank image
// (all bits clear, or all set), which would match every flat image, is
// refused through the API, naming the rule and the entry's field, and
// nothing is published; the same version with a real image's hash is.
func TestPublishDegenerateHash(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		e := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		bank := e.Must(t, 201, "POST", "/api/v1/hashmatch/banks", e.Analyst, map[string]any{"name": "Degenerate"}).Str("id")
		size := logLen(t, e)
		for _, h := range []string{strings.Repeat("0", 64), strings.Repeat("f", 64), "01" + strings.Repeat("0", 62)} {
			r := e.Do(t, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", e.Analyst, map[string]any{"adds": []any{
				map[string]any{"entry_id": "ok-1", "classification": "A1", "pdq": apptest.PDQHex(1)},
				map[string]any{"entry_id": "blank", "classification": "A1", "pdq": h}}})
			if r.Status != 422 || r.Str("error.rule") != "pdq_degenerate" || r.Str("error.field") != "adds[1].pdq" {
				t.Errorf("a version adding %s: %d %s, want 422 pdq_degenerate at adds[1].pdq", h, r.Status, r.Raw)
			}
		}
		if logLen(t, e) != size {
			t.Error("a refused version changed the log")
		}
		e.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", e.Analyst, map[string]any{"adds": []any{
			map[string]any{"entry_id": "ok-1", "classification": "A1", "pdq": apptest.PDQHex(1)}}})
	})
}
