package hashmatch_test

import (
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

// TestCaseTimesInOrder: the times a case and its report and removal carry
// are refused before 1990 (an unset time sent as 0001-01-01, the Unix
// epoch or 1900-01-01: taken as given, it became the report's incident
// time), on every route that takes an upload time; and a removal is not
// dated before the upload (beyond the five minutes an upload time may run
// ahead), which counted it in an earlier month and as removed at once in
// the regulator's figures. Each refusal names its field and changes
// nothing.
func TestCaseTimesInOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		bank := w.Bank(t, "Known images")
		w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst, map[string]any{"adds": []any{
			map[string]any{"entry_id": "img-1", "pdq": blocksHash(t, 1), "classification": "A1"},
		}})
		w.Subscribe(t, bank)
		item := func(at string) map[string]any {
			return map[string]any{"items": []any{map[string]any{"pdq": blocksHash(t, 1), "quality": 90, "uploaded_at": at}}}
		}
		for _, c := range []struct {
			name, at, field string
			do              func(at string) *apptest.Response
		}{
			{"Go's zero time", "0001-01-01T00:00:00Z", "items[0].uploaded_at", func(at string) *apptest.Response {
				return w.Do(t, "POST", "/api/v1/hashmatch/match", w.Service, item(at))
			}},
			{"the Unix epoch", "1970-01-01T00:00:00Z", "items[0].uploaded_at", func(at string) *apptest.Response {
				return w.Do(t, "POST", "/api/v1/hashmatch/match", w.Service, item(at))
			}},
			{"day 0 of a spreadsheet, as a header", "1900-01-01T00:00:00Z", "uploaded_at", func(at string) *apptest.Response {
				return w.Upload(t, "/api/v1/hashmatch/match/image", w.Service, "image/png", apptest.BlocksPNG(t, 1), "Custos-Uploaded-At", at)
			}},
			{"a video's frames", "1989-12-31T23:59:59Z", "uploaded_at", func(at string) *apptest.Response {
				return w.Do(t, "POST", "/api/v1/hashmatch/match/video", w.Service, map[string]any{"uploaded_at": at,
					"frames": []any{map[string]any{"pdq": blocksHash(t, 1), "quality": 90, "seconds": 0}}})
			}},
		} {
			r := c.do(c.at)
			if r.Status != 422 || r.Str("error.rule") != "range" || r.Str("error.field") != c.field {
				t.Errorf("%s: %d %s, want 422 range %s", c.name, r.Status, r.Raw, c.field)
			}
		}
		if r := w.Must(t, 200, "GET", "/api/v1/hashmatch/cases", w.Reviewer, nil); len(r.Body["cases"].([]any)) != 0 {
			t.Fatalf("a refused upload opened a case: %s", r.Raw)
		}

		// An upload of 1990 or later is taken.
		m := w.Must(t, 200, "POST", "/api/v1/hashmatch/match", w.Service, item("2024-06-01T12:00:00Z"))
		caseID := m.Body["results"].([]any)[0].(map[string]any)["case_id"].(string)
		w.Must(t, 200, "POST", "/api/v1/hashmatch/cases/"+caseID+"/review", w.Reviewer, map[string]any{"decision": "confirm"})
		for _, c := range []struct {
			name, route string
			body        map[string]any
			rule, field string
		}{
			{"an incident in 1970", "report", map[string]any{"incident_type": "child_sexual_abuse_material", "incident_at": "1970-01-01T00:00:00Z"}, "range", "incident_at"},
			{"a removal in 1970", "removal", map[string]any{"action": "removed", "removed_at": "1970-01-01T00:00:00Z"}, "range", "removed_at"},
			{"a removal the day before the upload", "removal", map[string]any{"action": "removed", "removed_at": "2024-05-31T12:00:00Z"}, "dates_in_order", "removed_at"},
			{"a removal ten minutes before the upload", "removal", map[string]any{"action": "removed", "removed_at": "2024-06-01T11:50:00Z"}, "dates_in_order", "removed_at"},
		} {
			r := w.Do(t, "POST", "/api/v1/hashmatch/cases/"+caseID+"/"+c.route, w.Reviewer, c.body)
			if r.Status != 422 || r.Str("error.rule") != c.rule || r.Str("error.field") != c.field {
				t.Errorf("%s: %d %s, want 422 %s %s", c.name, r.Status, r.Raw, c.rule, c.field)
			}
		}
		if r := w.Must(t, 200, "GET", "/api/v1/hashmatch/reports", w.Reviewer, nil); len(r.Body["reports"].([]any)) != 0 {
			t.Errorf("a refused report was sent: %s", r.Raw)
		}
		// Within the five minutes an upload time may run ahead (and 201: the
		// refused removals recorded nothing).
		w.Must(t, 201, "POST", "/api/v1/hashmatch/cases/"+caseID+"/removal", w.Reviewer, map[string]any{"action": "removed", "removed_at": "2024-06-01T11:57:00Z"})
		if r := w.Must(t, 201, "POST", "/api/v1/hashmatch/cases/"+caseID+"/report", w.Reviewer, map[string]any{"incident_type": "child_sexual_abuse_material"}); r.Str("incident_at") != "2024-06-01T12:00:00.000000Z" {
			t.Errorf("the report's incident time: %s", r.Raw)
		}
		verifyLog(t, w)
	})
}
