package hashmatch_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/hashmatch/vpdq"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

// pullSnapshot pulls a bank's signed snapshot as the service, writes it to a
// file and loads it as custos hashmatch scan does.
func pullSnapshot(t *testing.T, w *apptest.HashmatchWorld, bank string) (*hashmatch.Doc, *hashmatch.LocalBank) {
	t.Helper()
	pull := w.Must(t, 200, "POST", "/api/v1/hashmatch/banks/"+bank+"/pull", w.Service, map[string]any{"since": 0})
	file := filepath.Join(t.TempDir(), "bank.note")
	if err := os.WriteFile(file, []byte(pull.Body["documents"].([]any)[0].(map[string]any)["note"].(string)), 0o600); err != nil {
		t.Fatal(err)
	}
	d, lb, err := hashmatch.LoadBankFile(file, w.App.Keys.LogKey)
	if err != nil {
		t.Fatal(err)
	}
	return d, lb
}

// hashVideo hashes a video as custos does, one frame a second.
func hashVideo(t *testing.T, path string) []vpdq.Frame {
	t.Helper()
	fs, err := vpdq.HashVideo(context.Background(), path, vpdq.Options{SecondsPerHash: hashmatch.VideoSecondsPerHash})
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// copyFile copies src to dst.
func copyFile(t *testing.T, src, dst string) []byte {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestVideoMD5Entries: NCMEC shares a video known only by its MD5; the bank
// holds it, a service's upload of that very file matches it (and opens a
// case), so do the frames API given the file's MD5, HMA's lookup of the
// video_md5 signal and an offline scan of a pulled snapshot; another file
// does not match; NCMEC's deletion withdraws it; the log verifies.
func TestVideoMD5Entries(t *testing.T) {
	_, copyPath, other := apptest.Videos(t, t.TempDir())
	ctx := context.Background()
	copyFrames := hashVideo(t, copyPath)
	scanDir := t.TempDir()
	known := copyFile(t, other, filepath.Join(scanDir, "clip.mp4"))
	copyBytes := copyFile(t, copyPath, filepath.Join(scanDir, "unrelated.mp4"))
	s := md5.Sum(known)
	sum := hex.EncodeToString(s[:])
	page := func(body string) []byte {
		return []byte(`<queryResult xmlns="https://hashsharing.ncmec.org/hashsharing/v2"><videos count="1" maxTimestamp="2019-11-24T15:10:00Z">` +
			body + `</videos></queryResult>`)
	}
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		bank := newBank(t, w, "NCMEC videos")
		st := importList(t, w, bank, hashmatch.FormatNCMEC, page(`<video><member id="101">TX</member><timestamp>2019-11-24T15:10:00Z</timestamp>
			<id>vm-1</id><classification>A1</classification><fingerprints><md5>`+strings.ToUpper(sum)+`</md5>
			<sha1>b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1</sha1></fingerprints></video>`))
		if st.Adds != 1 || st.Skipped != 0 {
			t.Fatalf("import: %+v", st)
		}
		if e := entries(t, w, bank); len(e) != 1 || e[0].MD5 != sum || e[0].Video == nil || len(e[0].Video.Frames) != 0 {
			t.Fatalf("bank holds %+v", e)
		}
		w.Subscribe(t, bank)

		// The upload of that file matches it exactly; no frame matched, so
		// the case has no frame hash and a rejection cannot suppress one.
		up := upload(t, w, "/api/v1/hashmatch/match/video-file", "video/mp4", known, "user-9")
		if up.Str("status") != "match" || up.Str("case_id") == "" {
			t.Fatalf("upload: %s", up.Raw)
		}
		m := up.Body["matches"].([]any)[0].(map[string]any)
		if m["entry_id"] != "vm-1" || m["distance"].(float64) != 0 || m["query_match_pct"] != nil {
			t.Errorf("match %v", m)
		}
		caseID := up.Str("case_id")
		if c := w.Must(t, 200, "GET", "/api/v1/hashmatch/cases/"+caseID, w.Reviewer, nil); c.Str("md5") != sum || c.Str("pdq") != "" || c.Str("best_entry_id") != "vm-1" {
			t.Errorf("case %s", c.Raw)
		}
		if r := w.Do(t, "POST", "/api/v1/hashmatch/cases/"+caseID+"/review", w.Reviewer,
			map[string]any{"decision": "reject", "note": "x", "suppress": true}); r.Status != 422 || r.Str("error.rule") != "suppress_md5" {
			t.Errorf("suppress an MD5 match: %d %s", r.Status, r.Raw)
		}
		// Another file does not match; frames hashed by the service do,
		// with the file's MD5.
		if r := upload(t, w, "/api/v1/hashmatch/match/video-file", "video/mp4", copyBytes, "user-9"); r.Str("status") != "no_match" {
			t.Errorf("another file: %s", r.Raw)
		}
		fr := w.Must(t, 200, "POST", "/api/v1/hashmatch/match/video", w.Service, map[string]any{"frames": hashmatch.VideoFrames(copyFrames), "md5": sum})
		if fr.Str("status") != "match" || fr.Body["matches"].([]any)[0].(map[string]any)["entry_id"] != "vm-1" {
			t.Errorf("frames with the MD5: %s", fr.Raw)
		}
		// HMA's lookup of the video_md5 signal.
		id := strconv.FormatInt(hashmatch.HMAContentID(bank, "vm-1"), 10)
		if r := w.Do(t, "GET", "/hma/m/lookup?signal_type=video_md5&signal="+sum, w.Service, nil); r.Status != 200 || !strings.Contains(string(r.Raw), id) {
			t.Errorf("HMA lookup: %d %s, want %s", r.Status, r.Raw, id)
		}
		// Offline: the snapshot holds the entry, and a scan finds the file.
		d, lb := pullSnapshot(t, w, bank)
		if len(d.Adds) != 1 || d.Adds[0].MD5 != sum || d.Adds[0].Video == nil || len(d.Adds[0].Video.Frames) != 0 {
			t.Fatalf("snapshot %+v", d.Adds)
		}
		res, err := hashmatch.Scan(ctx, scanDir, []*hashmatch.LocalBank{lb}, hashmatch.ScanOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			want := map[string]string{"clip.mp4": hashmatch.StatusMatch, "unrelated.mp4": hashmatch.StatusNoMatch}[filepath.Base(r.Path)]
			if r.Status != want || (want == hashmatch.StatusMatch && r.Matches[0].EntryID != "vm-1") {
				t.Errorf("scan %s: %s %+v, want %s", r.Path, r.Status, r.Matches, want)
			}
		}
		// NCMEC withdraws it: the next upload matches nothing.
		st = importList(t, w, bank, hashmatch.FormatNCMEC, page(`<deletedVideo><member id="101">TX</member><id>vm-1</id><timestamp>2019-11-25T15:10:00Z</timestamp></deletedVideo>`))
		if st.Deletes != 1 {
			t.Errorf("deletion: %+v", st)
		}
		if r := upload(t, w, "/api/v1/hashmatch/match/video-file", "video/mp4", known, "user-9"); r.Str("status") != "no_match" {
			t.Errorf("after the deletion: %s", r.Raw)
		}
		res2, err := ledger.Verify(ctx, w.App.DB, server.NewProjections(), ledger.VerifyOptions{VerifierKey: w.App.Keys.LogKey})
		if err != nil || !res2.OK() {
			t.Fatalf("log verify: %v %v", err, res2)
		}
	})
}

// TestScanUsesBankVideoThresholds: an offline scan decides a video match
// with the bank's own vPDQ percentages, which its snapshot carries. The
// copy holds every one of its frames in the known video but 12 of the
// known video's 20: it matches at the defaults (80 and 0), not when the
// bank asks for 70% of its entry's frames, and again at 50%.
func TestScanUsesBankVideoThresholds(t *testing.T) {
	known, copyPath, _ := apptest.Videos(t, t.TempDir())
	ctx := context.Background()
	knownFrames := hashVideo(t, known)
	dir := t.TempDir()
	copyFile(t, copyPath, filepath.Join(dir, "copy.mp4"))
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		bank := newBank(t, w, "Known videos")
		w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst, map[string]any{"adds": []any{
			map[string]any{"entry_id": "vid-1", "classification": "A1", "video": map[string]any{"frames": hashmatch.VideoFrames(knownFrames)}}}})
		w.Subscribe(t, bank)
		for _, c := range []struct {
			indexPct *float64
			want     string
		}{{nil, hashmatch.StatusMatch}, {ptr(70.0), hashmatch.StatusNoMatch}, {ptr(50.0), hashmatch.StatusMatch}} {
			if c.indexPct != nil {
				w.Must(t, 200, "POST", "/api/v1/hashmatch/banks/"+bank+"/video_thresholds", w.Analyst, map[string]any{"index_match_threshold_pct": *c.indexPct})
			}
			d, lb := pullSnapshot(t, w, bank)
			if q, ix := d.VideoPcts(); q != 80 || (c.indexPct == nil && ix != 0) || (c.indexPct != nil && ix != *c.indexPct) {
				t.Errorf("snapshot percentages %v %v, want 80 and %v", q, ix, c.indexPct)
			}
			res, err := hashmatch.Scan(ctx, dir, []*hashmatch.LocalBank{lb}, hashmatch.ScanOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != 1 || res[0].Status != c.want {
				t.Errorf("index_match_threshold_pct %v: scan %+v, want %s", c.indexPct, res, c.want)
			}
		}
	})
}

func ptr[T any](v T) *T { return &v }
