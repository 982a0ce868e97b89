package httpapi_test

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

// frames lists n synthetic video frames, one a second from t0: the hashes
// apptest.PDQHex(first), PDQHex(first+1), ... each with bits bits flipped.
func frames(first, n, bits, quality, t0 int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = map[string]any{"pdq": flip(apptest.PDQHex(first+i), bits), "quality": quality, "seconds": float64(t0 + i)}
	}
	return out
}

func errField(r *apptest.Response) string { return r.Str("error.rule") + " " + r.Str("error.field") }

// TestHashmatchVideoAPI: video entries are published, refused with the field
// at fault, pulled, and matched through the frames API by vPDQ's rule, with
// requests and answers as the OpenAPI document says; suppression applies
// frame by frame, and the log verifies.
func TestHashmatchVideoAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		e := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		validate := openAPIValidator(t, e.Env)
		bank := e.Must(t, 201, "POST", "/api/v1/hashmatch/banks", e.Analyst, map[string]any{"name": "Known videos"}).Str("id")

		// A bank of one image and one video of ten frames.
		version := map[string]any{"adds": []any{
			map[string]any{"entry_id": "img-1", "pdq": apptest.PDQHex(1), "classification": "A1"},
			map[string]any{"entry_id": "vid-1", "classification": "B1", "video": map[string]any{"frames": frames(100, 10, 0, 90, 0)}}}}
		validate("POST", "/api/v1/hashmatch/banks/{id}/versions", "request", version)
		v := e.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", e.Analyst, version)
		validate("POST", "/api/v1/hashmatch/banks/{id}/versions", "response", v.Body)

		// Bad video entries are refused with the field at fault; nothing is logged.
		size := logLen(t, e)
		badHash, backwards := frames(200, 3, 0, 90, 0), frames(200, 3, 0, 90, 0)
		badHash[2].(map[string]any)["pdq"] = "xyz"
		backwards[1].(map[string]any)["seconds"] = 7.5
		for want, entry := range map[string]map[string]any{
			"pdq_hex adds[0].video.frames[2].pdq":         {"entry_id": "vid-2", "video": map[string]any{"frames": badHash}},
			"frame_order adds[0].video.frames[2].seconds": {"entry_id": "vid-2", "video": map[string]any{"frames": backwards}},
			"video_frames adds[0].video.frames":           {"entry_id": "vid-2", "video": map[string]any{"frames": []any{}}},
			"video_quality adds[0].video.frames":          {"entry_id": "vid-2", "video": map[string]any{"frames": frames(200, 3, 0, 20, 0)}},
			"pdq_or_video adds[0].video":                  {"entry_id": "vid-2", "pdq": apptest.PDQHex(9), "video": map[string]any{"frames": frames(200, 3, 0, 90, 0)}},
		} {
			r := e.Must(t, 422, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", e.Analyst, map[string]any{"adds": []any{entry}})
			if errField(r) != want {
				t.Errorf("refusal %s, want %s", r.Raw, want)
			}
		}
		if logLen(t, e) != size {
			t.Error("refused versions were logged")
		}

		// The signed snapshot carries the video's frames.
		e.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/subscriptions", e.Service, nil)
		snap := string(e.Must(t, 200, "POST", "/api/v1/hashmatch/banks/"+bank+"/pull", e.Service, map[string]any{"since": 0}).Raw)
		if !strings.Contains(snap, `{\"entry_id\":\"vid-1\",\"classification\":\"B1\",\"video\":{\"frames\":[{\"pdq\":\"`+apptest.PDQHex(100)+`\",\"quality\":90,\"seconds\":0}`) {
			t.Errorf("the snapshot lacks the video entry's frames: %s", snap)
		}

		// Six frames near frames 2..7 of the video and two unrelated ones:
		// 75% of the query matches, short of 80%, and nothing is stored.
		match := func(status int, body map[string]any) *apptest.Response {
			t.Helper()
			validate("POST", "/api/v1/hashmatch/match/video", "request", body)
			r := e.Must(t, status, "POST", "/api/v1/hashmatch/match/video", e.Service, body)
			if status == 200 {
				validate("POST", "/api/v1/hashmatch/match/video", "response", r.Body)
			}
			return r
		}
		size = logLen(t, e)
		r := match(200, map[string]any{"frames": append(frames(102, 6, 3, 80, 0), frames(500, 2, 0, 80, 6)...)})
		if r.Str("status") != "no_match" || r.Body["usable_frames"] != float64(8) || logLen(t, e) != size {
			t.Fatalf("75%% of the query: %s", r.Raw)
		}
		// With one unrelated frame, 6 of 7 match: a match, and a case.
		r = match(200, map[string]any{"frames": append(frames(102, 6, 3, 80, 0), frames(500, 1, 0, 80, 6)...), "content_ref": "v/1", "user_id": "bob"})
		if r.Str("status") != "match" || r.Str("case_id") == "" {
			t.Fatalf("6 of 7 frames: %s", r.Raw)
		}
		m := r.Body["matches"].([]any)[0].(map[string]any)
		if m["entry_id"] != "vid-1" || m["distance"] != float64(3) || math.Abs(m["query_match_pct"].(float64)-600.0/7) > 1e-9 ||
			m["target_match_pct"] != float64(60) || m["at_seconds"] != float64(0) || m["classification"] != "B1" {
			t.Errorf("video match %v", m)
		}
		c := e.Must(t, 200, "GET", "/api/v1/hashmatch/cases/"+r.Str("case_id"), e.Reviewer, nil)
		validate("GET", "/api/v1/hashmatch/cases/{id}", "response", c.Body)
		cm := c.Body["matches"].([]any)[0].(map[string]any)
		if c.Str("source") != "video" || c.Str("pdq") != flip(apptest.PDQHex(102), 3) || cm["target_match_pct"] != float64(60) || cm["query_match_pct"] != m["query_match_pct"] {
			t.Errorf("case %s", c.Raw)
		}

		// A known image appearing in a video is found, at its time.
		r = match(200, map[string]any{"frames": append(frames(600, 3, 0, 90, 0), map[string]any{"pdq": flip(apptest.PDQHex(1), 2), "quality": 70, "seconds": 3.5})})
		m = r.Body["matches"].([]any)[0].(map[string]any)
		if r.Str("status") != "match" || m["entry_id"] != "img-1" || m["at_seconds"] != 3.5 || m["query_match_pct"] != nil {
			t.Errorf("image in a video: %s", r.Raw)
		}

		// Low quality frames are not matched; bad frames are refused.
		if r := match(200, map[string]any{"frames": frames(102, 6, 0, 30, 0)}); r.Str("status") != "low_quality" {
			t.Errorf("low quality: %s", r.Raw)
		}
		bad := frames(102, 2, 0, 90, 0)
		bad[1].(map[string]any)["quality"] = 101
		for want, body := range map[string]map[string]any{
			"range frames[1].quality": {"frames": bad},
			"video_frames frames":     {"frames": []any{}},
			"hex_digest sha256":       {"frames": frames(102, 1, 0, 90, 0), "sha256": "abc"},
		} {
			if r := e.Must(t, 422, "POST", "/api/v1/hashmatch/match/video", e.Service, body); errField(r) != want {
				t.Errorf("refusal %s, want %s", r.Raw, want)
			}
		}
		// Malformed frames name their place: a key no frame has (before,
		// field "time" alone), a time out of a float's range (before,
		// "must be a whole number", of seconds that may be 3.5).
		hex := apptest.PDQHex(102)
		for want, body := range map[string]string{
			"unknown_field frames[1].time": `{"frames":[{"pdq":"` + hex + `","quality":90,"seconds":0},{"pdq":"` + hex + `","quality":90,"time":1}]}`,
			"json_type frames[1].seconds":  `{"frames":[{"pdq":"` + hex + `","quality":90,"seconds":0.5},{"pdq":"` + hex + `","quality":90,"seconds":1e309}]}`,
		} {
			r := e.Must(t, 400, "POST", "/api/v1/hashmatch/match/video", e.Service, body)
			if msg := r.Str("error.message"); errField(r) != want || strings.Contains(msg, "whole") || !strings.Contains(msg, strings.Fields(want)[1]) {
				t.Errorf("refusal %s, want %s", r.Raw, want)
			}
		}
		e.Must(t, 403, "POST", "/api/v1/hashmatch/match/video", e.Reviewer, map[string]any{"frames": frames(102, 1, 0, 90, 0)})

		// A suppression bank listing those frames (say, a common intro)
		// drops them from the query: what matched is now suppressed.
		sb := e.Must(t, 201, "POST", "/api/v1/hashmatch/banks", e.OtherAnalyst, map[string]any{"name": "Intros", "kind": "suppression", "threshold": 10}).Str("id")
		e.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+sb+"/versions", e.OtherAnalyst, map[string]any{"adds": []any{
			map[string]any{"entry_id": "intro", "video": map[string]any{"frames": frames(102, 6, 0, 90, 0)}}}})
		e.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+sb+"/subscriptions", e.Service, nil)
		if r := match(200, map[string]any{"frames": frames(102, 6, 3, 80, 0)}); r.Str("status") != "suppressed" || r.Body["usable_frames"] != float64(0) {
			t.Errorf("suppressed frames: %s", r.Raw)
		}

		rep, err := ledger.Verify(context.Background(), e.App.DB, server.NewProjections(), ledger.VerifyOptions{VerifierKey: e.App.Keys.LogKey})
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() {
			t.Fatalf("log verify: %v", rep.Problems)
		}
		// A video's frames or a match's percentages changed behind custos's
		// back are caught.
		for _, tamper := range []string{
			`UPDATE hm_entries SET video = replace(video, '"quality":90', '"quality":91') WHERE entry_id = 'vid-1'`,
			`UPDATE hm_case_matches SET query_match_pct = 100 WHERE query_match_pct IS NOT NULL`,
		} {
			if _, err := e.App.DB.Read().Exec(context.Background(), tamper); err != nil {
				t.Fatal(err)
			}
		}
		rep, err = ledger.Verify(context.Background(), e.App.DB, server.NewProjections(), ledger.VerifyOptions{VerifierKey: e.App.Keys.LogKey})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(rep.Problems, "\n"); !strings.Contains(got, "hm_entries") || !strings.Contains(got, "column video") ||
			!strings.Contains(got, "hm_case_matches") || !strings.Contains(got, "column query_match_pct") {
			t.Errorf("tampering not reported: %s", got)
		}
	})
}

// TestHashmatchVideoFileRefusals: a server without ffmpeg says so (503,
// rule ffmpeg) and a JSON body or a principal that may not match is refused.
func TestHashmatchVideoFileRefusals(t *testing.T) {
	e := apptest.NewHashmatchWorld(t, storetest.SQLite(t), hashmatch.Config{})
	if r := e.Upload(t, "/api/v1/hashmatch/match/video-file", e.Service, "application/json", []byte(`{}`)); r.Status != 415 || r.Str("error.rule") != "content_type" {
		t.Errorf("JSON body: %s", r.Raw)
	}
	if r := e.Upload(t, "/api/v1/hashmatch/match/video-file", e.Analyst, "video/mp4", []byte("x")); r.Status != 403 {
		t.Errorf("analyst: %d %s", r.Status, r.Raw)
	}
	t.Setenv("PATH", t.TempDir()) // no ffmpeg on it
	r := e.Upload(t, "/api/v1/hashmatch/match/video-file", e.Service, "video/mp4", []byte("not really a video"))
	if r.Status != 503 || r.Str("error.code") != "unavailable" || r.Str("error.rule") != "ffmpeg" {
		t.Errorf("without ffmpeg: %d %s", r.Status, r.Raw)
	}
}
