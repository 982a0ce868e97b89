package hashmatch_test

import (
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

// TestReportIncidentNotFuture: a report's incident time, like a removal's
// time, cannot be in the future: the report is refused naming the rule
// and the field, and nothing is sent or logged; a past incident time is
// reported as given.
func TestReportIncidentNotFuture(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		bank := w.Bank(t, "Known")
		w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst, hashmatch.NewVersion{Adds: []hashmatch.DocEntry{
			{EntryID: "img-1", PDQ: apptest.PDQHex(1), Classification: "A1"}}})
		w.Subscribe(t, bank)
		m := w.Must(t, 200, "POST", "/api/v1/hashmatch/match", w.Service, map[string]any{"items": []any{map[string]any{"pdq": apptest.PDQHex(1), "quality": 90}}})
		caseID := m.Body["results"].([]any)[0].(map[string]any)["case_id"].(string)
		w.Must(t, 200, "POST", "/api/v1/hashmatch/cases/"+caseID+"/review", w.Reviewer, map[string]any{"decision": "confirm"})
		size := func() any { return w.Must(t, 200, "GET", "/api/v1/log/checkpoint", "", nil).Body["size"] }

		before := size()
		future := time.Now().UTC().Add(48 * time.Hour).Format(time.RFC3339)
		r := w.Do(t, "POST", "/api/v1/hashmatch/cases/"+caseID+"/report", w.Reviewer, map[string]any{"incident_type": "child_sexual_abuse_material", "incident_at": future})
		if r.Status != 422 || r.Str("error.rule") != "not_future" || r.Str("error.field") != "incident_at" {
			t.Errorf("an incident time in the future: %d %s", r.Status, r.Raw)
		}
		if after := size(); after != before {
			t.Errorf("the refused report changed the log: %v, was %v", after, before)
		}
		if n := len(w.Must(t, 200, "GET", "/api/v1/hashmatch/reports", w.Analyst, nil).Body["reports"].([]any)); n != 0 {
			t.Errorf("the authority received %d reports", n)
		}
		rep := w.Must(t, 201, "POST", "/api/v1/hashmatch/cases/"+caseID+"/report", w.Reviewer, map[string]any{"incident_type": "child_sexual_abuse_material", "incident_at": "2025-01-02T03:04:05Z"})
		if rep.Str("incident_at") != "2025-01-02T03:04:05.000000Z" {
			t.Errorf("report %s", rep.Raw)
		}
	})
}
