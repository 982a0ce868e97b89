package hashmatch_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/jpeg"
	_ "image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/image/draw"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/hashmatch/pdq"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/reftest"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

// refDir returns the PDQ reference images, read in place from
// ../shared/reference/pdq/data; the test is skipped when they are absent.
func refDir(t *testing.T) string {
	t.Helper()
	return reftest.Path(t, "pdq", "data")
}

func decodeFile(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

func resized(img image.Image, percent int) image.Image {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx()*percent/100, b.Dy()*percent/100))
	draw.BiLinear.Scale(out, out.Bounds(), img, b, draw.Src, nil)
	return out
}

// cropped cuts permille/1000 of the width and height off each side.
func cropped(img image.Image, permille int) image.Image {
	b := img.Bounds()
	cx, cy := max(b.Dx()*permille/1000, 1), max(b.Dy()*permille/1000, 1)
	out := image.NewRGBA(image.Rect(0, 0, b.Dx()-2*cx, b.Dy()-2*cy))
	draw.Draw(out, out.Bounds(), img, image.Pt(b.Min.X+cx, b.Min.Y+cy), draw.Src)
	return out
}

func rotated90(img image.Image) image.Image {
	b := img.Bounds()
	src := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(src, src.Bounds(), img, b.Min, draw.Src)
	out := image.NewRGBA(image.Rect(0, 0, b.Dy(), b.Dx()))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			copy(out.Pix[out.PixOffset(b.Dy()-1-y, x):][:4], src.Pix[src.PixOffset(x, y):][:4])
		}
	}
	return out
}

func writeJPEG(t *testing.T, path string, img image.Image, quality int) {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestEndToEnd: an authority publishes a bank from reference images; a
// service subscribes, pulls the signed snapshot, scans a folder of modified
// copies offline and finds them; an upload matches through the API and opens
// a case; a reviewer confirms it, reports it and records the removal; the
// authority receives and acknowledges the report; the log verifies.
func TestEndToEnd(t *testing.T) {
	ref := refDir(t)
	rt := filepath.Join(ref, "reg-test-input")
	known := map[string]string{ // entry id -> image
		"bridge": filepath.Join(rt, "dih", "bridge-1-original.jpg"),
		"pen":    filepath.Join(rt, "pen-and-coaster.png"),
		"c":      filepath.Join(ref, "misc-images", "c.png"),
		"q2821":  filepath.Join(rt, "labelme-subset", "q2821.jpg"),
	}
	// A folder of modified copies, plus an unrelated and a flat image.
	scan := filepath.Join(t.TempDir(), "uploads")
	os.Mkdir(scan, 0o755)
	want := map[string]string{} // file -> entry id
	for id, path := range known {
		img := decodeFile(t, path)
		for name, m := range map[string]image.Image{
			"resized": resized(img, 60), "recompressed": img, "rotated": rotated90(img), "cropped": cropped(img, 10),
		} {
			f := filepath.Join(scan, id+"-"+name+".jpg")
			writeJPEG(t, f, m, 70)
			want[f] = id
		}
	}
	writeJPEG(t, filepath.Join(scan, "unrelated.jpg"), resized(decodeFile(t, filepath.Join(rt, "labelme-subset", "q0122.jpg")), 90), 80)
	writeJPEG(t, filepath.Join(scan, "flat.jpg"), image.NewGray(image.Rect(0, 0, 200, 200)), 90)
	os.WriteFile(filepath.Join(scan, "notes.txt"), []byte("not an image"), 0o644)
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})

		// The authority hashes its reference images and publishes a bank.
		bank := w.Bank(t, "Known images (synthetic test set)")
		var adds []map[string]any
		for id, path := range known {
			r, err := pdq.HashFile(path)
			if err != nil {
				t.Fatal(err)
			}
			adds = append(adds, map[string]any{"entry_id": id, "pdq": r.Hash.String(), "md5": r.MD5, "sha256": r.SHA256, "classification": "A1"})
		}
		v := w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst, map[string]any{"adds": adds})
		if v.Body["version"].(float64) != 1 || v.Str("previous_sha256") != "" {
			t.Fatalf("version: %s", v.Raw)
		}

		// The service subscribes and pulls the signed snapshot.
		w.Subscribe(t, bank)
		key := w.Must(t, 200, "GET", "/api/v1/hashmatch/key", "", nil).Str("verifier_key")
		if key != w.App.Keys.LogKey {
			t.Fatalf("served key %q is not the log key", key)
		}
		pull := w.Must(t, 200, "POST", "/api/v1/hashmatch/banks/"+bank+"/pull", w.Service, map[string]any{"since": 0})
		docs := pull.Body["documents"].([]any)
		if pull.Str("kind") != "snapshot" || len(docs) != 1 {
			t.Fatalf("pull: %s", pull.Raw)
		}
		tmp := t.TempDir()
		bankFile := filepath.Join(tmp, "bank.note")
		if err := os.WriteFile(bankFile, []byte(docs[0].(map[string]any)["note"].(string)), 0o600); err != nil {
			t.Fatal(err)
		}

		d, lb, err := hashmatch.LoadBankFile(bankFile, key)
		if err != nil {
			t.Fatal(err)
		}
		if d.Bank != bank || len(d.Adds) != len(known) || !d.Snapshot {
			t.Fatalf("snapshot %s: %d entries", d.Bank, len(d.Adds))
		}
		res, err := hashmatch.Scan(ctx, scan, []*hashmatch.LocalBank{lb}, hashmatch.ScanOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			base := filepath.Base(r.Path)
			switch {
			case want[r.Path] != "":
				if r.Status != hashmatch.StatusMatch || r.Matches[0].EntryID != want[r.Path] {
					t.Errorf("%s: %s %+v, want a match with %s", base, r.Status, r.Matches, want[r.Path])
				} else if r.Matches[0].Distance > 31 || r.Matches[0].BankID != bank {
					t.Errorf("%s: match %+v", base, r.Matches[0])
				}
			case base == "unrelated.jpg" && r.Status != hashmatch.StatusNoMatch,
				base == "flat.jpg" && r.Status != hashmatch.StatusLowQuality,
				base == "notes.txt" && r.Status != "error":
				t.Errorf("%s: %s %+v", base, r.Status, r.Matches)
			}
		}

		// A wrong key refuses the bank file.
		other := strings.Replace(key, "custos", "other", 1)
		if _, _, err := hashmatch.LoadBankFile(bankFile, other); err == nil {
			t.Error("the bank file verified with a wrong key")
		}

		// The same rotated copy uploaded to the API matches and opens a case.
		up, err := os.ReadFile(filepath.Join(scan, "bridge-rotated.jpg"))
		if err != nil {
			t.Fatal(err)
		}
		m := matchImage(t, w, up, "user-42@example.org")
		if m.Str("status") != "match" || m.Str("case_id") == "" {
			t.Fatalf("upload: %s", m.Raw)
		}
		caseID := m.Str("case_id")
		c := w.Must(t, 200, "GET", "/api/v1/hashmatch/cases/"+caseID, w.Reviewer, nil)
		if c.Str("best_entry_id") != "bridge" || c.Str("status") != "open" || c.Str("source") != "upload" {
			t.Fatalf("case: %s", c.Raw)
		}
		if ps := c.Str("user_pseudonym"); !strings.HasPrefix(ps, "PS-") || strings.Contains(string(c.Raw), "user-42") {
			t.Errorf("user id not pseudonymized: %s", c.Raw)
		}

		// A reviewer confirms, reports and records the removal.
		w.Must(t, 409, "POST", "/api/v1/hashmatch/cases/"+caseID+"/report", w.Reviewer, map[string]any{"incident_type": "child_sexual_abuse_material"})
		w.Must(t, 200, "POST", "/api/v1/hashmatch/cases/"+caseID+"/review", w.Reviewer, map[string]any{"decision": "confirm", "note": "matches known image"})
		rep := w.Must(t, 201, "POST", "/api/v1/hashmatch/cases/"+caseID+"/report", w.Reviewer, map[string]any{
			"incident_type": "child_sexual_abuse_material", "incident_at": "2025-03-01T10:00:00Z"})
		if rep.Str("authority_id") != w.Authority || rep.Str("classification") != "A1" || rep.Str("sha256") == "" || rep.Str("pdq") == "" {
			t.Fatalf("report: %s", rep.Raw)
		}
		rm := w.Must(t, 201, "POST", "/api/v1/hashmatch/cases/"+caseID+"/removal", w.Reviewer, map[string]any{"action": "removed"})
		if rm.Str("removed_at") == "" {
			t.Fatalf("removal: %s", rm.Raw)
		}

		// The authority sees the report addressed to it and acknowledges it.
		rs := w.Must(t, 200, "GET", "/api/v1/hashmatch/reports", w.Analyst, nil)
		if n := len(rs.Body["reports"].([]any)); n != 1 || rs.Body["reports"].([]any)[0].(map[string]any)["status"] != "sent" {
			t.Fatalf("authority sees %d reports, want 1 with status sent: %s", n, rs.Raw)
		}
		ack := w.Must(t, 200, "POST", "/api/v1/hashmatch/reports/"+rep.Str("id")+"/acknowledge", w.Analyst, map[string]any{"reference": "CT-2025-0001"})
		if ack.Str("acknowledged_at") == "" || ack.Str("authority_reference") != "CT-2025-0001" || ack.Str("status") != "acknowledged" {
			t.Fatalf("ack: %s", ack.Raw)
		}

		// Everything is in the log, and the tables are its projection.
		rep2, err := ledger.Verify(ctx, w.App.DB, server.NewProjections(), ledger.VerifyOptions{VerifierKey: key})
		if err != nil {
			t.Fatal(err)
		}
		if !rep2.OK() {
			t.Fatalf("log verify: %v", rep2.Problems)
		}
		var types []string
		rows, err := w.App.DB.Read().Query(ctx, "SELECT data FROM log_leaves ORDER BY idx")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var data string
			rows.Scan(&data)
			var e struct{ Type string }
			jsonUnmarshal(t, data, &e)
			if strings.HasPrefix(e.Type, "hashmatch.") {
				types = append(types, strings.TrimPrefix(e.Type, "hashmatch."))
			}
		}
		if got := strings.Join(types, " "); got != "bank_created version_published subscribed pulled case_opened case_reviewed report_sent removal_recorded report_acknowledged" {
			t.Errorf("log entries: %s", got)
		}
	})
}

// TestEndToEndVideo: an authority publishes a bank holding a known video's
// vPDQ hash, computed from a generated video; a service pulls it and finds a
// trimmed, scaled-down, re-encoded copy offline, through the frames API and
// as an uploaded file, each answer giving vPDQ's percentages; an unrelated
// video matches nothing and leaves no trace; the upload's case carries the
// percentages, a reviewer confirms and reports it, and the log verifies.
func TestEndToEndVideo(t *testing.T) {
	known, copyPath, other := apptest.Videos(t, t.TempDir())
	ctx := context.Background()
	knownFrames, copyFrames, otherFrames := hashVideo(t, known), hashVideo(t, copyPath), hashVideo(t, other)
	copyBytes, err := os.ReadFile(copyPath)
	if err != nil {
		t.Fatal(err)
	}
	otherBytes, err := os.ReadFile(other)
	if err != nil {
		t.Fatal(err)
	}
	// The copy is 12 of the known video's 20 seconds: every frame of the
	// copy is in the known video, 12 of its 20 frames are in the copy.
	wantPct := func(t *testing.T, m map[string]any) {
		t.Helper()
		q, _ := m["query_match_pct"].(float64)
		tg, _ := m["target_match_pct"].(float64)
		if m["entry_id"] != "vid-1" || q < 90 || tg < 50 || tg > 70 || m["distance"].(float64) > 31 {
			t.Errorf("video match %v: want vid-1 with about 100%% of the query and 60%% of the entry", m)
		}
	}
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		bank := w.Bank(t, "Known videos (synthetic)")
		w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst, map[string]any{"adds": []any{
			map[string]any{"entry_id": "vid-1", "classification": "A1", "video": map[string]any{"frames": hashmatch.VideoFrames(knownFrames)}}}})

		// The service pulls the signed snapshot: the entry comes with its frames.
		w.Subscribe(t, bank)
		d, lb := pullSnapshot(t, w, bank)
		if len(d.Adds) != 1 || d.Adds[0].Video == nil || len(d.Adds[0].Video.Frames) != len(knownFrames) || d.Adds[0].PDQ != "" {
			t.Fatalf("snapshot entries %+v", d.Adds)
		}

		// Offline, the copy matches and the unrelated video does not.
		ms, status, err := hashmatch.MatchVideoLocal([]*hashmatch.LocalBank{lb}, copyFrames, "", 0)
		if err != nil || status != hashmatch.StatusMatch || ms[0].EntryID != "vid-1" || *ms[0].QueryMatchPct < 90 {
			t.Fatalf("offline match of the copy: %s %+v %v", status, ms, err)
		}
		if _, status, _ := hashmatch.MatchVideoLocal([]*hashmatch.LocalBank{lb}, otherFrames, "", 0); status != hashmatch.StatusNoMatch {
			t.Errorf("offline match of an unrelated video: %s", status)
		}

		// Through the API: the frames the service computed, then the file.
		m := w.Must(t, 200, "POST", "/api/v1/hashmatch/match/video", w.Service, map[string]any{
			"frames": hashmatch.VideoFrames(copyFrames), "content_ref": "video/7", "user_id": "user-9"})
		if m.Str("status") != "match" || m.Str("case_id") == "" {
			t.Fatalf("frames: %s", m.Raw)
		}
		wantPct(t, m.Body["matches"].([]any)[0].(map[string]any))
		size := w.Must(t, 200, "GET", "/api/v1/log/checkpoint", "", nil).Body["size"]
		if r := upload(t, w, "/api/v1/hashmatch/match/video-file", "video/mp4", otherBytes, "user-9"); r.Str("status") != "no_match" {
			t.Errorf("unrelated video: %s", r.Raw)
		}
		if s := w.Must(t, 200, "GET", "/api/v1/log/checkpoint", "", nil).Body["size"]; s != size {
			t.Errorf("a video that matched nothing was logged: log size %v, was %v", s, size)
		}
		up := upload(t, w, "/api/v1/hashmatch/match/video-file", "video/mp4", copyBytes, "user-9")
		if up.Str("status") != "match" || up.Str("case_id") == "" || up.Body["frames"].(float64) != float64(len(copyFrames)) {
			t.Fatalf("upload: %s", up.Raw)
		}
		wantPct(t, up.Body["matches"].([]any)[0].(map[string]any))

		// The case records the percentages; review and report as for images.
		caseID := up.Str("case_id")
		c := w.Must(t, 200, "GET", "/api/v1/hashmatch/cases/"+caseID, w.Reviewer, nil)
		sum := sha256.Sum256(copyBytes)
		if c.Str("source") != "video_upload" || c.Str("best_entry_id") != "vid-1" || c.Str("sha256") != hex.EncodeToString(sum[:]) || len(c.Str("pdq")) != 64 {
			t.Fatalf("case: %s", c.Raw)
		}
		wantPct(t, c.Body["matches"].([]any)[0].(map[string]any))
		w.Must(t, 200, "POST", "/api/v1/hashmatch/cases/"+caseID+"/review", w.Reviewer, map[string]any{"decision": "confirm", "note": "the known video, trimmed"})
		rep := w.Must(t, 201, "POST", "/api/v1/hashmatch/cases/"+caseID+"/report", w.Reviewer, map[string]any{"incident_type": "child_sexual_abuse_material"})
		if rep.Str("classification") != "A1" || rep.Str("authority_id") != w.Authority {
			t.Errorf("report: %s", rep.Raw)
		}

		res, err := ledger.Verify(ctx, w.App.DB, server.NewProjections(), ledger.VerifyOptions{VerifierKey: w.App.Keys.LogKey})
		if err != nil {
			t.Fatal(err)
		}
		if !res.OK() {
			t.Fatalf("log verify: %v", res.Problems)
		}
	})
}
