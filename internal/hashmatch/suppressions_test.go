package hashmatch_test

import (
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

// TestSuppressionsList: a service reads its own suppression list (the hashes
// its reviewers' rejections with suppress added), newest first, a page at
// a time; another service reads none of it, an analyst is refused, and a
// reopened case's suppression is gone from it.
func TestSuppressionsList(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		bank := w.Bank(t, "Known images")
		w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst, map[string]any{"adds": []map[string]any{
			{"entry_id": "a", "pdq": apptest.PDQHex(1)}, {"entry_id": "b", "pdq": apptest.PDQHex(2)}}})
		w.Subscribe(t, bank)
		w.SubscribeOther(t, bank)
		reject := func(service, reviewer string, n int) string {
			t.Helper()
			r := w.Must(t, 200, "POST", "/api/v1/hashmatch/match", service, map[string]any{"items": []any{map[string]any{"pdq": apptest.PDQHex(n), "quality": 90}}})
			id := r.Body["results"].([]any)[0].(map[string]any)["case_id"].(string)
			w.Must(t, 200, "POST", "/api/v1/hashmatch/cases/"+id+"/review", reviewer, map[string]any{"decision": "reject", "suppress": true})
			return id
		}
		c1, c2 := reject(w.Service, w.Reviewer, 1), reject(w.Service, w.Reviewer, 2)
		reject(w.OtherService, w.OtherReviewer, 1)
		list := func(token, query string) ([]hashmatch.Suppression, string) {
			t.Helper()
			var out struct {
				Suppressions []hashmatch.Suppression
				Next         string
			}
			jsonUnmarshal(t, string(w.Must(t, 200, "GET", "/api/v1/hashmatch/suppressions"+query, token, nil).Raw), &out)
			return out.Suppressions, out.Next
		}
		for _, token := range []string{w.Service, w.Reviewer} {
			got, next := list(token, "")
			if len(got) != 2 || got[0].CaseID != c2 || got[0].PDQ != apptest.PDQHex(2) || got[1].CaseID != c1 || got[1].PDQ != apptest.PDQHex(1) || next != "" {
				t.Fatalf("the service's suppressions: %+v, next %q", got, next)
			}
		}
		first, next := list(w.Service, "?limit=1")
		if len(first) != 1 || first[0].CaseID != c2 || next == "" {
			t.Fatalf("first page: %+v, next %q", first, next)
		}
		if second, _ := list(w.Service, next[strings.Index(next, "?"):]); len(second) != 1 || second[0].CaseID != c1 {
			t.Errorf("second page: %+v", second)
		}
		if got, _ := list(w.OtherReviewer, ""); len(got) != 1 || got[0].PDQ != apptest.PDQHex(1) {
			t.Errorf("the other service's suppressions: %+v", got)
		}
		if r := w.Do(t, "GET", "/api/v1/hashmatch/suppressions", w.Analyst, nil); r.Status != 403 {
			t.Errorf("an analyst read suppressions: %d %s", r.Status, r.Raw)
		}
		if r := w.Do(t, "GET", "/api/v1/hashmatch/suppressions?provider_id="+w.OtherProvider, w.Service, nil); r.Status != 422 || r.Str("error.rule") != "query" {
			t.Errorf("another provider asked for: %d %s", r.Status, r.Raw)
		}
		w.Must(t, 200, "POST", "/api/v1/hashmatch/cases/"+c1+"/reopen", w.Reviewer, map[string]any{"reason": "rejected in error"})
		if got, _ := list(w.Service, ""); len(got) != 1 || got[0].CaseID != c2 {
			t.Errorf("suppressions after reopening %s: %+v", c1, got)
		}
	})
}
