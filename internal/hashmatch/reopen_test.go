package hashmatch_test

import (
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

// TestReopenRejectedCase: a reviewer's rejection with suppress hides the
// bank's entry from the service (every later upload of the image answers
// suppressed, no case); a rejection made in error is undone by reopening
// the case with a reason: the case is open for review again, then
// confirmed and reported, and the suppressions the rejection added (an
// image's hash, a video's matched frames) are lifted, so that the image
// and the video match again. Only the provider's reviewer reopens, only a
// rejected case, with a reason, and not while the case's dispute waits for
// the list's owner. Before, a rejection could be neither seen nor undone.
func TestReopenRejectedCase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		bank := w.Bank(t, "Known images")
		frames := make([]any, 6)
		for i := range frames {
			frames[i] = map[string]any{"pdq": apptest.PDQHex(700 + i), "quality": 90, "seconds": float64(i)}
		}
		w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst, map[string]any{"adds": []any{
			map[string]any{"entry_id": "img-1", "pdq": blocksHash(t, 1), "classification": "A1"},
			map[string]any{"entry_id": "img-2", "pdq": blocksHash(t, 2), "classification": "A1"},
			map[string]any{"entry_id": "vid-1", "classification": "A1", "video": map[string]any{"frames": frames}},
		}})
		w.Subscribe(t, bank)
		review := func(c string, body map[string]any) {
			w.Must(t, 200, "POST", "/api/v1/hashmatch/cases/"+c+"/review", w.Reviewer, body)
		}
		reopen := func(token, c string, body any) *apptest.Response {
			return w.Do(t, "POST", "/api/v1/hashmatch/cases/"+c+"/reopen", token, body)
		}
		video := func() *apptest.Response {
			fs := []any{}
			for i := range 6 {
				fs = append(fs, map[string]any{"pdq": flipBits(t, apptest.PDQHex(700+i), 3), "quality": 90, "seconds": float64(i)})
			}
			return w.Must(t, 200, "POST", "/api/v1/hashmatch/match/video", w.Service, map[string]any{"frames": fs})
		}

		// The known image, rejected in error with suppress: it is hidden.
		c1 := uploadAs(t, w, w.Service, 1, "user-1", "photo/1").Str("case_id")
		review(c1, map[string]any{"decision": "reject", "note": "misclick", "suppress": true})
		if r := uploadAs(t, w, w.Service, 1, "user-2", "photo/2"); r.Str("status") != "suppressed" {
			t.Fatalf("after the rejection with suppress the image answers %s, want suppressed", r.Raw)
		}
		// So is the known video, every matched frame suppressed.
		v1 := video().Str("case_id")
		review(v1, map[string]any{"decision": "reject", "note": "misclick", "suppress": true})
		if r := video(); r.Str("status") != "suppressed" {
			t.Fatalf("after the rejection with suppress the video answers %s, want suppressed", r.Raw)
		}

		// Refusals, each changing nothing.
		open := uploadAs(t, w, w.Service, 2, "user-3", "photo/3").Str("case_id")
		for _, c := range []struct {
			name, token, caseID string
			body                any
			status              int
			rule, field         string
		}{
			{"no reason", w.Reviewer, c1, map[string]any{}, 422, "required", "reason"},
			{"a blank reason", w.Reviewer, c1, map[string]any{"reason": "  "}, 422, "required", "reason"},
			{"the service principal", w.Service, c1, map[string]any{"reason": "x"}, 403, "role", ""},
			{"another provider's reviewer", w.OtherReviewer, c1, map[string]any{"reason": "x"}, 404, "reference", "case_id"},
			{"an open case", w.Reviewer, open, map[string]any{"reason": "x"}, 409, "not_rejected", "case_id"},
		} {
			r := reopen(c.token, c.caseID, c.body)
			if r.Status != c.status || r.Str("error.rule") != c.rule || r.Str("error.field") != c.field {
				t.Errorf("%s: %d %s, want %d %s %s", c.name, r.Status, r.Raw, c.status, c.rule, c.field)
			}
		}
		if r := uploadAs(t, w, w.Service, 1, "user-4", "photo/4"); r.Str("status") != "suppressed" {
			t.Fatalf("a refused reopening lifted the suppression: %s", r.Raw)
		}

		// A rejection disputed with the owner waits for the owner's decision.
		review(open, map[string]any{"decision": "reject", "note": "a landscape"})
		w.Must(t, 201, "POST", "/api/v1/hashmatch/cases/"+open+"/dispute", w.Reviewer, map[string]any{"note": "a landscape"})
		if r := reopen(w.Reviewer, open, map[string]any{"reason": "x"}); r.Status != 409 || r.Str("error.rule") != "dispute_open" {
			t.Errorf("reopening a case whose dispute is open: %d %s, want 409 dispute_open", r.Status, r.Raw)
		}
		w.Must(t, 200, "POST", "/api/v1/hashmatch/banks/"+bank+"/entries/img-2/disputes/review", w.Analyst,
			map[string]any{"decision": "keep", "reason": "the entry is right"})
		if r := reopen(w.Reviewer, open, map[string]any{"reason": "the owner kept the entry"}); r.Status != 200 || r.Str("status") != "open" {
			t.Errorf("reopening once the owner kept the entry: %d %s", r.Status, r.Raw)
		}

		// Reopened: open again, its review gone from the case (the log
		// keeps it), the image and the video match again.
		r := reopen(w.Reviewer, c1, map[string]any{"reason": "the rejection was a misclick: this is the listed image"})
		if r.Status != 200 || r.Str("status") != "open" || r.Str("reviewed_by") != "" || r.Str("review_note") != "" {
			t.Fatalf("reopen: %d %s", r.Status, r.Raw)
		}
		if r := reopen(w.Reviewer, c1, map[string]any{"reason": "again"}); r.Status != 409 || r.Str("error.rule") != "not_rejected" {
			t.Errorf("a second reopening: %d %s, want 409 not_rejected", r.Status, r.Raw)
		}
		if r := uploadAs(t, w, w.Service, 1, "user-5", "photo/5"); r.Str("status") != "match" || r.Str("case_id") == "" {
			t.Errorf("after the reopening the image answers %s, want a match and a case", r.Raw)
		}
		w.Must(t, 200, "POST", "/api/v1/hashmatch/cases/"+v1+"/reopen", w.Reviewer, map[string]any{"reason": "the listed video"})
		if r := video(); r.Str("status") != "match" {
			t.Errorf("after the reopening the video answers %s, want a match", r.Raw)
		}
		// The case reopened is reviewed and reported as any other.
		review(c1, map[string]any{"decision": "confirm", "note": "the listed image"})
		if r := w.Must(t, 201, "POST", "/api/v1/hashmatch/cases/"+c1+"/report", w.Reviewer, map[string]any{"incident_type": "child_sexual_abuse_material"}); r.Str("content_ref") != "photo/1" {
			t.Errorf("report of the reopened case: %s", r.Raw)
		}
		verifyLog(t, w)
	})
}
