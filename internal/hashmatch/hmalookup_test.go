package hashmatch_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"mime/multipart"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

// TestHMALookupOpensCases: an HMA lookup is how a platform acts on an
// upload, so a match goes where custos's own match sends it (detect,
// report, remove): a case for review, which a reviewer confirms and
// reports, and which counts towards the entry's quarantine; a lookup that
// matches nothing, and a raw lookup (a diagnostic), leave no trace. The
// answer of a lookup that opened a case names it in the header
// Custos-Case-Id, its body exactly HMA's; no other answer has the header.
func TestHMALookupOpensCases(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{QuarantineLimit: 2})
		bank := newBank(t, w, "Known")
		known := apptest.PDQHex(1)
		w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst, hashmatch.NewVersion{Adds: []hashmatch.DocEntry{
			{EntryID: "img-1", PDQ: known, Classification: "A1"}, {EntryID: "img-2", PDQ: blocksHash(t, 40), Classification: "A1"}}})
		w.Subscribe(t, bank)
		size := func() any { return w.Must(t, 200, "GET", "/api/v1/log/checkpoint", "", nil).Body["size"] }
		// lookup answers the body and the header Custos-Case-Id.
		lookup := func(route, h string) (string, string) {
			t.Helper()
			r := w.Must(t, 200, "GET", "/hma"+route+"?"+url.Values{"signal_type": {"pdq"}, "signal": {h}}.Encode(), w.Service, nil)
			return string(r.Raw), r.Header.Get("Custos-Case-Id")
		}
		cases := func() []any {
			cs, _ := w.Must(t, 200, "GET", "/api/v1/hashmatch/cases", w.Service, nil).Body["cases"].([]any)
			return cs
		}

		before := size()
		if got, id := lookup("/m/lookup", apptest.PDQHex(2)); strings.TrimSpace(got) != "{}" || id != "" {
			t.Errorf("unlisted hash: %s, case %q", got, id)
		}
		if got, id := lookup("/m/raw_lookup", known); !strings.Contains(got, strconv.FormatInt(hashmatch.HMAContentID(bank, "img-1"), 10)) || id != "" {
			t.Errorf("raw lookup: %s, case %q", got, id)
		}
		if size() != before || len(cases()) != 0 {
			t.Fatalf("a lookup without a match or a raw lookup left a trace: log %v, was %v; %d cases", size(), before, len(cases()))
		}

		// A match opens a case carrying the signal, which goes on to a
		// report; the answer names it and its body is HMA's.
		got, header := lookup("/m/lookup", known)
		if want := `{"` + bank + `":[{"bank_content_id":` + strconv.FormatInt(hashmatch.HMAContentID(bank, "img-1"), 10) + `,"distance":"0"}]}`; strings.TrimSpace(got) != want {
			t.Fatalf("lookup: %s, want %s", got, want)
		}
		cs := cases()
		if len(cs) != 1 {
			t.Fatalf("cases after a match: %d", len(cs))
		}
		c := cs[0].(map[string]any)
		if c["source"] != "hash" || c["pdq"] != known || c["best_entry_id"] != "img-1" || c["status"] != "open" {
			t.Errorf("case %v", c)
		}
		id := c["id"].(string)
		if header != id {
			t.Errorf("Custos-Case-Id %q, want the case opened, %s", header, id)
		}
		w.Must(t, 200, "POST", "/api/v1/hashmatch/cases/"+id+"/review", w.Reviewer, map[string]any{"decision": "confirm", "note": "known image"})
		if rep := w.Must(t, 201, "POST", "/api/v1/hashmatch/cases/"+id+"/report", w.Reviewer, map[string]any{"incident_type": "child_sexual_abuse_material"}); rep.Str("pdq") != known || rep.Str("authority_id") != w.Authority {
			t.Errorf("report %s", rep.Raw)
		}

		// A file looked up (POST, multipart/form-data with the file in the
		// field photo) opens its own case, named in its answer.
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		f, err := mw.CreateFormFile("photo", "upload.png")
		if err != nil {
			t.Fatal(err)
		}
		f.Write(apptest.BlocksPNG(t, 40))
		mw.Close()
		r := w.Upload(t, "/hma/m/lookup", w.Service, mw.FormDataContentType(), buf.Bytes())
		got, header = string(r.Raw), r.Header.Get("Custos-Case-Id")
		if r.Status != 200 {
			t.Fatalf("file lookup: %d %s", r.Status, r.Raw)
		}
		if !strings.HasPrefix(got, `{"pdq":{"`+bank+`":[{"bank_content_id":`+strconv.FormatInt(hashmatch.HMAContentID(bank, "img-2"), 10)) {
			t.Errorf("file lookup: %s", got)
		}
		if cs := cases(); len(cs) != 2 || header == "" || header == id || cs[0].(map[string]any)["id"] != header || cs[0].(map[string]any)["source"] != "upload" {
			t.Errorf("file lookup named case %q; cases %v", header, cs)
		}

		// Another service's lookup within the window reaches the quarantine
		// limit (2) with the first's (one service's matches count up to
		// half of it): the entry stops matching, lookups included.
		w.SubscribeOther(t, bank)
		if r := w.Must(t, 200, "GET", "/hma/m/lookup?"+url.Values{"signal_type": {"pdq"}, "signal": {known}}.Encode(), w.OtherService, nil); r.Header.Get("Custos-Case-Id") == "" {
			t.Fatalf("the other service's lookup opened no case: %s", r.Raw)
		}
		if got, id := lookup("/m/lookup", known); strings.TrimSpace(got) != "{}" || id != "" {
			t.Errorf("lookup of a quarantined entry: %s, case %q", got, id)
		}
		if q := w.Must(t, 200, "GET", "/api/v1/hashmatch/banks/"+bank+"/entries?status=quarantined", w.Analyst, nil); !strings.Contains(string(q.Raw), "img-1") {
			t.Errorf("entry not quarantined: %s", q.Raw)
		}
	})
}

// TestHMAFileLookupSuppressedByMD5: a video file whose MD5 a subscribed
// suppression bank lists is a known false positive as a whole, as custos's
// own upload route decides: POST /hma/m/lookup of that file answers no
// match for any signal and opens no case, even though its frames match a
// known video entry; the same file under another name is matched as
// before once the suppression entry is gone.
func TestHMAFileLookupSuppressedByMD5(t *testing.T) {
	knownPath, _, _ := apptest.Videos(t, t.TempDir())
	frames := hashVideo(t, knownPath)
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		bank := newBank(t, w, "Known videos")
		w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst, hashmatch.NewVersion{Adds: []hashmatch.DocEntry{
			{EntryID: "vid-1", Classification: "A1", Video: &hashmatch.VideoHash{Frames: hashmatch.VideoFrames(frames)}}}})
		w.Subscribe(t, bank)
		file := copyFile(t, knownPath, filepath.Join(t.TempDir(), "known.mp4"))
		sum := md5.Sum(file)
		supp := w.Must(t, 201, "POST", "/api/v1/hashmatch/banks", w.Analyst, map[string]any{"name": "Benign videos", "kind": hashmatch.KindSuppression}).Str("id")
		w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+supp+"/versions", w.Analyst, map[string]any{"adds": []map[string]any{
			{"entry_id": "benign-1", "md5": hex.EncodeToString(sum[:]), "video": map[string]any{}}}})
		w.Subscribe(t, supp)
		cases := func() int {
			cs, _ := w.Must(t, 200, "GET", "/api/v1/hashmatch/cases?status=open", w.Service, nil).Body["cases"].([]any)
			return len(cs)
		}
		lookupFile := func() (string, string) {
			t.Helper()
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			f, err := mw.CreateFormFile("video", "upload.mp4")
			if err != nil {
				t.Fatal(err)
			}
			f.Write(file)
			mw.Close()
			r := w.Upload(t, "/hma/m/lookup", w.Service, mw.FormDataContentType(), buf.Bytes())
			if r.Status != 200 {
				t.Fatalf("file lookup: %d %s", r.Status, r.Raw)
			}
			return strings.TrimSpace(string(r.Raw)), r.Header.Get("Custos-Case-Id")
		}

		if r := upload(t, w, "/api/v1/hashmatch/match/video-file", "video/mp4", file, "user-1"); r.Str("status") != hashmatch.StatusSuppressed {
			t.Fatalf("custos's own route: %s, want suppressed", r.Raw)
		}
		if got, id := lookupFile(); got != `{"video_md5":{},"vpdq":{}}` || id != "" || cases() != 0 {
			t.Errorf("HMA lookup of a file suppressed by its MD5: %s, case %q, %d open cases", got, id, cases())
		}

		// Without the suppression entry the same file matches by its frames.
		w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+supp+"/versions", w.Analyst, map[string]any{"adds": []any{}, "deletes": []string{"benign-1"}})
		if got, id := lookupFile(); !strings.Contains(got, strconv.FormatInt(hashmatch.HMAContentID(bank, "vid-1"), 10)) || id == "" || cases() != 1 {
			t.Errorf("HMA lookup once the suppression entry is deleted: %s, case %q, %d open cases", got, id, cases())
		}
	})
}
