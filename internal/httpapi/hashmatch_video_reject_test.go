package httpapi_test

import (
	"context"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

// TestRejectVideoSuppressesEveryFrame: a reviewer who rejects a video match
// with suppress suppresses every frame of the video that matched, not only
// the closest pair's, so a later upload of another stretch of the same
// video (which lacks that frame) no longer matches.
func TestRejectVideoSuppressesEveryFrame(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		e := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		bank := e.Bank(t, "Known videos")
		entry := make([]any, 10)
		for i := range entry {
			entry[i] = map[string]any{"pdq": apptest.PDQHex(500 + i), "quality": 90, "seconds": float64(i)}
		}
		e.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", e.Analyst, map[string]any{"adds": []any{
			map[string]any{"entry_id": "benign-intro", "classification": "A1", "video": map[string]any{"frames": entry}}}})
		e.Subscribe(t, bank)

		// The upload: the entry's first frame exactly (the closest pair), the
		// others 5 bits away.
		query := func(from, to int) map[string]any {
			fs := []any{}
			for i := from; i < to; i++ {
				h := apptest.PDQHex(500 + i)
				if i > 0 {
					h = flipBits(t, h, 5)
				}
				fs = append(fs, map[string]any{"pdq": h, "quality": 90, "seconds": float64(i - from)})
			}
			return map[string]any{"frames": fs}
		}
		r := e.Must(t, 200, "POST", "/api/v1/hashmatch/match/video", e.Service, query(0, 10))
		caseID := r.Str("case_id")
		if r.Str("status") != "match" || caseID == "" {
			t.Fatalf("the video did not match: %s", r.Raw)
		}
		e.Must(t, 200, "POST", "/api/v1/hashmatch/cases/"+caseID+"/review", e.Reviewer,
			map[string]any{"decision": "reject", "suppress": true, "note": "a benign intro"})

		// Seconds 5 to 9 of the same video, without the closest pair's frame:
		// every one of its frames was suppressed, so nothing matches and no
		// case is opened.
		r = e.Must(t, 200, "POST", "/api/v1/hashmatch/match/video", e.Service, query(5, 10))
		if r.Str("status") != "suppressed" || r.Str("case_id") != "" || r.Body["usable_frames"] != float64(0) {
			t.Errorf("after the rejection, another stretch of the video answers %s, want suppressed with no usable frame", r.Raw)
		}
		// The suppressions are in the log: it replays to the same tables.
		rep, err := ledger.Verify(context.Background(), e.App.DB, server.NewProjections(), ledger.VerifyOptions{VerifierKey: e.App.Keys.LogKey})
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() {
			t.Fatalf("log verify: %v", rep.Problems)
		}
	})
}
