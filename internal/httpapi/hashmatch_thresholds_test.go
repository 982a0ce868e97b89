package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

// TestVideoThresholdsPerBank: two banks hold the same video entry with
// different vPDQ percentages (query_match_threshold_pct,
// index_match_threshold_pct, python-threatexchange's names); one video
// query matches the bank whose percentages it reaches and not the other,
// through custos's API and the HMA-compatible lookup. Out-of-range values
// are refused naming the field, only the owner sets them, and the setting
// is a log entry that verifies.
func TestVideoThresholdsPerBank(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		e := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		strict, loose := e.Bank(t, "Strict videos"), e.Bank(t, "Loose videos")
		// A new bank has the reference's defaults, 80 and 0.
		b := e.Must(t, 200, "GET", "/api/v1/hashmatch/banks/"+strict, e.Analyst, nil).Body["bank"].(map[string]any)
		if b["query_match_threshold_pct"] != 80.0 || b["index_match_threshold_pct"] != 0.0 {
			t.Fatalf("a new bank's percentages: %v %v, want 80 0", b["query_match_threshold_pct"], b["index_match_threshold_pct"])
		}
		frames := make([]any, 10)
		for i := range frames {
			frames[i] = map[string]any{"pdq": apptest.PDQHex(100 + i), "quality": 90, "seconds": float64(i)}
		}
		for _, bank := range []string{strict, loose} {
			e.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", e.Analyst, map[string]any{"adds": []any{
				map[string]any{"entry_id": "vid-1", "classification": "B1", "video": map[string]any{"frames": frames}}}})
			e.Subscribe(t, bank)
		}
		set := e.Must(t, 200, "POST", "/api/v1/hashmatch/banks/"+loose+"/video_thresholds", e.Analyst, map[string]any{"query_match_threshold_pct": 70})
		if set.Body["query_match_threshold_pct"] != 70.0 || set.Body["index_match_threshold_pct"] != 0.0 {
			t.Fatalf("set: %s", set.Raw)
		}

		// 8 frames, 6 of them vid-1's: 75% of the query, 60% of the entry.
		var query []any
		var hma []string
		for i := range 8 {
			h := apptest.PDQHex(100 + i)
			if i >= 6 {
				h = apptest.PDQHex(300 + i)
			}
			query = append(query, map[string]any{"pdq": h, "quality": 90, "seconds": float64(i)})
			hma = append(hma, fmt.Sprintf("%s,90,%.1f", h, float64(i)))
		}
		sig, _ := json.Marshal(hma)
		banksOf := func(r *apptest.Response) []string {
			var out []string
			for _, m := range r.Body["matches"].([]any) {
				out = append(out, m.(map[string]any)["bank_id"].(string))
			}
			return out
		}
		m := e.Must(t, 200, "POST", "/api/v1/hashmatch/match/video", e.Service, map[string]any{"frames": query, "content_ref": "v/1"})
		if got := banksOf(m); m.Str("status") != "match" || len(got) != 1 || got[0] != loose {
			t.Errorf("75%% of the query: matched banks %v (%s), want only %s (70%%), not %s (80%%)", got, m.Str("status"), loose, strict)
		}
		_, got := hmaGet(t, e, "/m/lookup", e.Service, url.Values{"signal": {string(sig)}, "signal_type": {"vpdq"}})
		if g, ok := got.(map[string]any); !ok || len(g) != 1 || g[loose] == nil {
			t.Errorf("HMA vpdq lookup: %s, want only %s", asJSON(got), loose)
		}

		// The entry's side: 60% of vid-1's frames is short of 65.
		e.Must(t, 200, "POST", "/api/v1/hashmatch/banks/"+loose+"/video_thresholds", e.Analyst, map[string]any{"index_match_threshold_pct": 65})
		if m := e.Must(t, 200, "POST", "/api/v1/hashmatch/match/video", e.Service, map[string]any{"frames": query}); m.Str("status") != "no_match" {
			t.Errorf("60%% of the entry against 65: %s", m.Raw)
		}
		// ... and reaches 55 (the query side kept its 70).
		e.Must(t, 200, "POST", "/api/v1/hashmatch/banks/"+loose+"/video_thresholds", e.Analyst, map[string]any{"index_match_threshold_pct": 55.5})
		if m := e.Must(t, 200, "POST", "/api/v1/hashmatch/match/video", e.Service, map[string]any{"frames": query}); len(banksOf(m)) != 1 {
			t.Errorf("60%% of the entry against 55.5: %s", m.Raw)
		}

		// Refusals: out of range, nothing given, not the owner.
		size := logLen(t, e)
		for _, c := range []struct {
			token, field, rule string
			body               map[string]any
			status             int
		}{
			{e.Analyst, "query_match_threshold_pct", "range", map[string]any{"query_match_threshold_pct": 100.5}, 422},
			{e.Analyst, "index_match_threshold_pct", "range", map[string]any{"query_match_threshold_pct": 50, "index_match_threshold_pct": -1}, 422},
			{e.Analyst, "query_match_threshold_pct", "required", map[string]any{}, 422},
			{e.OtherAnalyst, "bank_id", "own_bank", map[string]any{"query_match_threshold_pct": 10}, 403},
		} {
			r := e.Do(t, "POST", "/api/v1/hashmatch/banks/"+loose+"/video_thresholds", c.token, c.body)
			if r.Status != c.status || r.Str("error.field") != c.field || r.Str("error.rule") != c.rule {
				t.Errorf("%v: %d %s, want %d naming %s (%s)", c.body, r.Status, r.Raw, c.status, c.field, c.rule)
			}
		}
		if r := e.Do(t, "POST", "/api/v1/hashmatch/banks/"+loose+"/video_thresholds", e.Service, map[string]any{"query_match_threshold_pct": 10}); r.Status != 403 {
			t.Errorf("a service set a bank's percentages: %d %s", r.Status, r.Raw)
		}
		// The other authority's attempt is alerted (one log entry, the
		// alert); the invalid values write nothing.
		if n := logLen(t, e); n != size+1 {
			t.Errorf("refusals wrote %d log entries, want 1 (the alert)", n-size)
		}
		b = e.Must(t, 200, "GET", "/api/v1/hashmatch/banks/"+loose, e.Analyst, nil).Body["bank"].(map[string]any)
		if b["query_match_threshold_pct"] != 70.0 || b["index_match_threshold_pct"] != 55.5 {
			t.Errorf("after the refusals: %v %v, want 70 55.5", b["query_match_threshold_pct"], b["index_match_threshold_pct"])
		}

		// The settings are log entries, and the log verifies (projections
		// rebuilt from it agree with the tables).
		var n int
		if err := e.App.DB.Read().QueryRow(context.Background(), "SELECT COUNT(*) FROM log_leaves WHERE data LIKE ?",
			"%"+hashmatch.TypeVideoThresholdsSet+"%").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 3 {
			t.Errorf("%d %s entries in the log, want 3", n, hashmatch.TypeVideoThresholdsSet)
		}
		res, err := ledger.Verify(context.Background(), e.App.DB, server.NewProjections(), ledger.VerifyOptions{VerifierKey: e.App.Keys.LogKey})
		if err != nil {
			t.Fatal(err)
		}
		if !res.OK() {
			t.Fatalf("log verify: %v", res.Problems)
		}
	})
}
