package hashmatch_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

// keptRows counts the rows of a provider's retroactive-matching window.
func keptRows(t *testing.T, w *apptest.HashmatchWorld, provider string) int {
	t.Helper()
	var n int
	if err := w.App.DB.Read().QueryRow(context.Background(), "SELECT COUNT(*) FROM hm_retro_uploads WHERE provider_id = ?", provider).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// retroCases are the provider's cases opened retroactively, by best entry.
func retroCases(t *testing.T, w *apptest.HashmatchWorld) map[string]hashmatch.QueueCase {
	t.Helper()
	var cases struct{ Cases []hashmatch.QueueCase }
	jsonUnmarshal(t, string(w.Must(t, 200, "GET", "/api/v1/hashmatch/cases?limit=100", w.Reviewer, nil).Raw), &cases)
	out := map[string]hashmatch.QueueCase{}
	for _, c := range cases.Cases {
		if c.Source == "retro" {
			if _, ok := out[c.BestEntryID]; ok {
				t.Fatalf("two retro cases for entry %s: %+v", c.BestEntryID, cases.Cases)
			}
			out[c.BestEntryID] = c
		}
	}
	return out
}

// flipBits flips n bits of a PDQ hash in hex, spread over the hash.
func flipBits(t *testing.T, hx string, n int) string {
	t.Helper()
	b, err := hex.DecodeString(hx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		b[(i*7)%len(b)] ^= 1 << (i % 8)
	}
	return hex.EncodeToString(b)
}

// blocksFrames are synthetic vPDQ frames, one a second: BlocksPNG's hashes
// for the seeds, at quality 100.
func blocksFrames(t *testing.T, seeds ...uint64) []hashmatch.VideoFrame {
	t.Helper()
	out := make([]hashmatch.VideoFrame, len(seeds))
	for i, s := range seeds {
		out[i] = hashmatch.VideoFrame{PDQ: blocksHash(t, s), Quality: 100, Seconds: float64(i)}
	}
	return out
}

func seeds(from, n uint64) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		out[i] = from + uint64(i)
	}
	return out
}

// TestRetroactiveMatchingVideos: a provider that opted in keeps its video
// uploads that matched nothing (their distinct frames of sufficient
// quality, the file's digests, the user pseudonym), and a low-quality
// video only when its MD5 is known; a bank's later version opens retro
// cases as the live path would match the videos: by MD5, by vPDQ with the
// bank's own percentages (a stricter bank's identical entry opens none),
// and by an image entry seen in a frame; an update that only reclassifies
// opens no second case, nor does an MD5 a suppression bank holds too; past the retention the window is empty and a
// later publication opens nothing.
func TestRetroactiveMatchingVideos(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		clock := &testClock{now: time.Now().UTC().Truncate(time.Second)}
		w := apptest.NewHashmatchWorldWith(t, dsn, func(cfg *server.Config) { cfg.Now = clock.Now })
		bank := w.Bank(t, "Known videos")
		strict := w.Bank(t, "Strict videos")
		versions := func(b string) string { return "/api/v1/hashmatch/banks/" + b + "/versions" }
		w.Must(t, 201, "POST", versions(bank), w.Analyst, map[string]any{"adds": []map[string]any{{"entry_id": "first", "pdq": blocksHash(t, 10)}}})
		w.Must(t, 201, "POST", versions(strict), w.Analyst, map[string]any{"adds": []map[string]any{{"entry_id": "first", "pdq": blocksHash(t, 11)}}})
		// The strict bank wants every frame of its entry matched.
		w.Must(t, 200, "POST", "/api/v1/hashmatch/banks/"+strict+"/video_thresholds", w.Analyst, map[string]any{"index_match_threshold_pct": 100})
		w.Subscribe(t, bank)
		w.Subscribe(t, strict)
		video := func(frames []hashmatch.VideoFrame, sum, user, ref string) *apptest.Response {
			t.Helper()
			return w.Must(t, 200, "POST", "/api/v1/hashmatch/match/video", w.Service,
				map[string]any{"frames": frames, "md5": sum, "user_id": user, "content_ref": ref})
		}
		a, c3 := md5.Sum([]byte("video A")), md5.Sum([]byte("video C"))
		sumA, sumC := hex.EncodeToString(a[:]), hex.EncodeToString(c3[:])

		// Not opted in: nothing is kept.
		if r := video(blocksFrames(t, seeds(40, 10)...), sumA, "user-1", "video/1"); r.Str("status") != "no_match" {
			t.Fatalf("video: %s", r.Raw)
		}
		if n := keptRows(t, w, w.Provider); n != 0 {
			t.Fatalf("%d uploads kept without opting in", n)
		}
		w.Must(t, 200, "POST", "/api/v1/hashmatch/retro", w.Service, map[string]any{"retention_days": 7})

		// Video A: ten frames, one repeated and one of low quality (the
		// window keeps the ten distinct frames of sufficient quality).
		framesA := blocksFrames(t, seeds(40, 10)...)
		framesA = append(framesA, hashmatch.VideoFrame{PDQ: framesA[2].PDQ, Quality: 100, Seconds: 10},
			hashmatch.VideoFrame{PDQ: blocksHash(t, 99), Quality: 20, Seconds: 11})
		video(framesA, sumA, "user-1", "video/1")
		// Video B: ten frames, no MD5.
		framesB := blocksFrames(t, seeds(50, 10)...)
		video(framesB, "", "user-2", "video/2")
		// Video C: no frame of sufficient quality, but its MD5 is known.
		low := []hashmatch.VideoFrame{{PDQ: blocksHash(t, 60), Quality: 10}}
		if r := video(low, sumC, "user-3", "video/3"); r.Str("status") != "low_quality" {
			t.Fatalf("video C: %s", r.Raw)
		}
		// Video D: nothing it could ever match by: not kept.
		video(low, "", "user-4", "video/4")
		// A video that matches opens a case at once and is not kept.
		if r := video(blocksFrames(t, 10), "", "user-5", "video/5"); r.Str("status") != "match" {
			t.Fatalf("video of a known image: %s", r.Raw)
		}
		if n := keptRows(t, w, w.Provider); n != 3 {
			t.Fatalf("kept %d videos, want 3 (A, B, C)", n)
		}
		var kept, pseudonym, pdqCol, variants string
		if err := w.App.DB.Read().QueryRow(context.Background(), "SELECT video, user_pseudonym, pdq, variants FROM hm_retro_uploads WHERE content_ref = 'video/1'").
			Scan(&kept, &pseudonym, &pdqCol, &variants); err != nil {
			t.Fatal(err)
		}
		var v hashmatch.VideoHash
		if err := json.Unmarshal([]byte(kept), &v); err != nil || len(v.Frames) != 10 || v.Frames[9].PDQ != framesA[9].PDQ || pdqCol != "" || variants != "" {
			t.Fatalf("window keeps %s (pdq %q, variants %q): %v", kept, pdqCol, variants, err)
		}
		if pseudonym == "" || pseudonym == "user-1" {
			t.Fatalf("the window keeps user id %q", pseudonym)
		}

		// Day 2: the bank publishes A's MD5 (a video known by its MD5 only)
		// and C's: two retro cases, without a frame.
		clock.Advance(2 * 24 * time.Hour)
		w.Must(t, 201, "POST", versions(bank), w.Analyst, map[string]any{"adds": []map[string]any{
			{"entry_id": "a-md5", "md5": sumA, "video": map[string]any{}, "classification": "A1"},
			{"entry_id": "c-md5", "md5": sumC, "video": map[string]any{}}}})
		cs := retroCases(t, w)
		if len(cs) != 2 || cs["a-md5"].ContentRef != "video/1" || cs["a-md5"].UserPseudonym != pseudonym || cs["a-md5"].PDQ != "" ||
			cs["a-md5"].MD5 != sumA || cs["c-md5"].ContentRef != "video/3" {
			t.Fatalf("retro cases after the MD5s: %+v", cs)
		}

		// The strict bank publishes a near-identical vPDQ of B (eight of its
		// frames, 6 bits off, and four others): 80% of B's frames match,
		// 67% of the entry's, short of the bank's 100%: no case.
		near := blocksFrames(t, append(seeds(50, 8), seeds(70, 4)...)...)
		for i := range 8 {
			near[i].PDQ = flipBits(t, near[i].PDQ, 6)
		}
		entry := map[string]any{"entry_id": "b-vpdq", "video": map[string]any{"frames": near}, "classification": "B1"}
		w.Must(t, 201, "POST", versions(strict), w.Analyst, map[string]any{"adds": []any{entry}})
		if cs := retroCases(t, w); len(cs) != 2 {
			t.Fatalf("the strict bank's entry opened a case: %+v", cs)
		}
		// The same entry in the bank with the default percentages (80, 0)
		// matches: a case with vPDQ's percentages and B's closest frame.
		w.Must(t, 201, "POST", versions(bank), w.Analyst, map[string]any{"adds": []any{entry}})
		cs = retroCases(t, w)
		b, ok := cs["b-vpdq"]
		if !ok || b.ContentRef != "video/2" || b.BestBankID != bank || b.BestDistance != 6 || b.PDQ == "" {
			t.Fatalf("retro cases after the vPDQ: %+v", cs)
		}
		c := w.Must(t, 200, "GET", "/api/v1/hashmatch/cases/"+b.ID, w.Reviewer, nil)
		m := c.Body["matches"].([]any)[0].(map[string]any)
		if m["query_match_pct"] != 80.0 || m["target_match_pct"].(float64) < 66 || m["target_match_pct"].(float64) > 67 {
			t.Fatalf("vPDQ case %s", c.Raw)
		}
		// The case keeps B's eight matched frames, as a live match would, for
		// a rejection to suppress them all.
		var matched string
		if err := w.App.DB.Read().QueryRow(context.Background(), "SELECT matched_frames FROM hm_cases WHERE id = ?", b.ID).Scan(&matched); err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, f := range framesB[:8] {
			want = append(want, f.PDQ)
		}
		if matched != strings.Join(want, " ") {
			t.Fatalf("matched frames %q, want %q", matched, want)
		}
		// An update that only reclassifies the entry opens no second case;
		// an image entry equal to one of A's frames is a match in A.
		entry["classification"] = "A1"
		w.Must(t, 201, "POST", versions(bank), w.Analyst, map[string]any{"updates": []any{entry},
			"adds": []map[string]any{{"entry_id": "a-frame", "pdq": framesA[4].PDQ}}})
		cs = retroCases(t, w)
		if len(cs) != 4 || cs["a-frame"].ContentRef != "video/1" || cs["a-frame"].PDQ != framesA[4].PDQ || cs["a-frame"].BestDistance != 0 {
			t.Fatalf("retro cases after the update: %+v", cs)
		}

		// A suppression bank the service subscribes to holds video E's MD5
		// (a known benign file): the known bank's entry of that MD5 opens
		// no case, as it would match nothing at upload.
		e := md5.Sum([]byte("video E"))
		sumE := hex.EncodeToString(e[:])
		video(blocksFrames(t, seeds(80, 5)...), sumE, "user-6", "video/6")
		benign := w.Must(t, 201, "POST", "/api/v1/hashmatch/banks", w.Analyst, map[string]any{"name": "Benign videos", "kind": "suppression"}).Str("id")
		w.Must(t, 201, "POST", versions(benign), w.Analyst, map[string]any{"adds": []map[string]any{{"entry_id": "e-benign", "md5": sumE, "video": map[string]any{}}}})
		w.Subscribe(t, benign)
		w.Must(t, 201, "POST", versions(bank), w.Analyst, map[string]any{"adds": []map[string]any{{"entry_id": "e-md5", "md5": sumE, "video": map[string]any{}}}})
		if cs := retroCases(t, w); len(cs) != 4 {
			t.Fatalf("a suppressed video matched: %+v", cs)
		}

		// Day 10: past the 7 days, the window is empty and a later
		// publication opens nothing.
		clock.Advance(8 * 24 * time.Hour)
		w.Must(t, 201, "POST", versions(bank), w.Analyst, map[string]any{"adds": []map[string]any{
			{"entry_id": "b-frame", "pdq": framesB[3].PDQ}}})
		if cs := retroCases(t, w); len(cs) != 4 {
			t.Fatalf("an expired video matched: %+v", cs)
		}
		if n := keptRows(t, w, w.Provider); n != 0 {
			t.Fatalf("%d videos kept past the retention", n)
		}
		if r := w.Must(t, 200, "GET", "/api/v1/hashmatch/retro", w.Service, nil); r.Body["kept"].(float64) != 0 {
			t.Fatalf("setting: %s", r.Raw)
		}
		verifyLog(t, w)
	})
}

// TestRetroactiveMatchingVideoFiles, end to end through the HTTP API with
// real video files: a service opts in and uploads a video that matches
// nothing; a bank it subscribes to publishes that file's MD5 and a case
// opens; it uploads another video, a re-encoded, cropped excerpt of one the
// bank then publishes by its vPDQ, and a case opens; after the retention
// the window is empty and a later publication (of the excerpt's own MD5)
// opens nothing.
func TestRetroactiveMatchingVideoFiles(t *testing.T) {
	known, copyPath, other := apptest.Videos(t, t.TempDir())
	knownFrames := hashmatch.VideoFrames(hashVideo(t, known))
	read := func(path string) ([]byte, string) {
		t.Helper()
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		s := md5.Sum(b)
		return b, hex.EncodeToString(s[:])
	}
	otherBytes, otherSum := read(other)
	copyBytes, copySum := read(copyPath)
	storetest.Each(t, func(t *testing.T, dsn string) {
		clock := &testClock{now: time.Now().UTC().Truncate(time.Second)}
		w := apptest.NewHashmatchWorldWith(t, dsn, func(cfg *server.Config) { cfg.Now = clock.Now })
		bank := w.Bank(t, "Known videos")
		versions := "/api/v1/hashmatch/banks/" + bank + "/versions"
		w.Must(t, 201, "POST", versions, w.Analyst, map[string]any{"adds": []map[string]any{{"entry_id": "image", "pdq": blocksHash(t, 10)}}})
		w.Subscribe(t, bank)
		w.Must(t, 200, "POST", "/api/v1/hashmatch/retro", w.Service, map[string]any{"retention_days": 3})
		send := func(body []byte, ref string) {
			t.Helper()
			r := w.Upload(t, "/api/v1/hashmatch/match/video-file", w.Service, "video/mp4", body, "Custos-User-Id", "user-1", "Custos-Content-Ref", ref)
			if r.Status != 200 || r.Str("status") != "no_match" {
				t.Fatalf("upload %s: %d %s", ref, r.Status, r.Raw)
			}
		}

		send(otherBytes, "video/other")
		w.Must(t, 201, "POST", versions, w.Analyst, map[string]any{"adds": []map[string]any{
			{"entry_id": "by-md5", "md5": otherSum, "video": map[string]any{}}}})
		cs := retroCases(t, w)
		if c := cs["by-md5"]; len(cs) != 1 || c.ContentRef != "video/other" || c.MD5 != otherSum || c.SHA256 == "" {
			t.Fatalf("retro cases after the MD5: %+v", cs)
		}

		clock.Advance(24 * time.Hour)
		send(copyBytes, "video/copy")
		w.Must(t, 201, "POST", versions, w.Analyst, map[string]any{"adds": []any{
			map[string]any{"entry_id": "by-vpdq", "video": map[string]any{"frames": knownFrames}}}})
		cs = retroCases(t, w)
		c, ok := cs["by-vpdq"]
		if !ok || len(cs) != 2 || c.ContentRef != "video/copy" || c.MD5 != copySum || c.PDQ == "" {
			t.Fatalf("retro cases after the vPDQ: %+v", cs)
		}
		full := w.Must(t, 200, "GET", "/api/v1/hashmatch/cases/"+c.ID, w.Reviewer, nil)
		if m := full.Body["matches"].([]any)[0].(map[string]any); m["query_match_pct"].(float64) < 80 {
			t.Fatalf("vPDQ case %s", full.Raw)
		}

		// Day 5: both uploads are past the 3 days.
		clock.Advance(4 * 24 * time.Hour)
		w.Must(t, 201, "POST", versions, w.Analyst, map[string]any{"adds": []map[string]any{
			{"entry_id": "copy-md5", "md5": copySum, "video": map[string]any{}}}})
		if cs := retroCases(t, w); len(cs) != 2 {
			t.Fatalf("an expired upload matched: %+v", cs)
		}
		if r := w.Must(t, 200, "GET", "/api/v1/hashmatch/retro", w.Service, nil); r.Body["kept"].(float64) != 0 || keptRows(t, w, w.Provider) != 0 {
			t.Fatalf("window after the retention: %s", r.Raw)
		}
		verifyLog(t, w)
	})
}
