package assets_test

import (
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/storetest"
)

// TestCaseReferenceLookAlikes: through the API, a national case number is
// one case in its state however it is written: in other letters' case, with
// other punctuation, a Unicode hyphen or full-width letters, a second case
// under it is refused (case_reference, 409) naming the case that has it,
// with no leaf and no row; another number, or the same in another state,
// opens a case.
func TestCaseReferenceLookAlikes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		open := func(token, ref string) (int, string, string) {
			t.Helper()
			r := w.Do(t, "POST", "/api/v1/assets/cases", token, map[string]any{"reference": ref, "title": "Harbour contracts", "kind": "domestic",
				"offences": []string{"0703"}, "opened_on": "2026-01-05"})
			return r.Status, r.Str("error.rule"), r.Str("error.message")
		}
		if status, _, msg := open(w.ProsecToken, "ARO-2026-7"); status != 201 {
			t.Fatalf("the first case: %d %s", status, msg)
		}
		size := w.LogSize(t)
		for _, ref := range []string{"ARO-2026-7", "aro-2026-7", "ARO\u20102026\u20107", "ARO/2026/7", "ARO 2026 7", "\uff21\uff32\uff2f-2026-7", " Aro-2026-7 "} {
			status, rule, msg := open(w.ProsecToken, ref)
			if status != 409 || rule != "case_reference" || !strings.Contains(msg, "ARO-2026-7") {
				t.Errorf("a second case %q: %d %s %s, want 409 case_reference naming ARO-2026-7", ref, status, rule, msg)
			}
		}
		if got := w.LogSize(t); got != size {
			t.Errorf("the refusals wrote %d leaves", got-size)
		}
		var n int
		if err := w.App.DB.Read().QueryRow(t.Context(), "SELECT COUNT(*) FROM assets_cases").Scan(&n); err != nil || n != 1 {
			t.Errorf("%d cases after the refusals (%v), want 1", n, err)
		}
		for _, ref := range []string{"ARO-2026-70", "ARO-20267", "ARO-2026-7-A"} {
			if status, _, msg := open(w.ProsecToken, ref); status != 201 {
				t.Errorf("another number %q: %d %s", ref, status, msg)
			}
		}
		cab := w.Must(t, 201, "POST", "/api/v1/principals", w.Admin, map[string]any{"name": "B2", "role": "central_authority_officer", "authority_id": w.CAB.AuthorityID}).Str("token")
		if status, _, msg := open(cab, "aro-2026-7"); status != 201 {
			t.Errorf("the number in another state: %d %s", status, msg)
		}
		w.Verify(t)
	})
}
