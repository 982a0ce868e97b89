package hashmatch_test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"mime/multipart"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

// TestHMAFileLookupRecordsDigests: a case opened by an HMA lookup of an
// uploaded file (POST /hma/m/lookup) records the file's MD5 and SHA-256,
// and a photo's PDQ quality, as custos's own upload route records them for
// the same file; a video looked up by its MD5 alone (types=video_md5)
// records its SHA-256 too.
func TestHMAFileLookupRecordsDigests(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		bank := newBank(t, w, "Known")
		png := apptest.BlocksPNG(t, 40)
		video := []byte("the bytes of a video known by its MD5")
		vmd5 := md5.Sum(video)
		w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst, hashmatch.NewVersion{Adds: []hashmatch.DocEntry{
			{EntryID: "img-1", PDQ: blocksHash(t, 40), Classification: "A1"},
			{EntryID: "vid-1", MD5: hex.EncodeToString(vmd5[:]), Classification: "A1", Video: &hashmatch.VideoHash{}}}})
		w.Subscribe(t, bank)
		caseOf := func(id string) *apptest.Response {
			t.Helper()
			if id == "" {
				t.Fatal("no case opened")
			}
			return w.Must(t, 200, "GET", "/api/v1/hashmatch/cases/"+id, w.Service, nil)
		}
		hmaLookup := func(query, field string, file []byte) *apptest.Response {
			t.Helper()
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			f, err := mw.CreateFormFile(field, "upload.bin")
			if err != nil {
				t.Fatal(err)
			}
			f.Write(file)
			mw.Close()
			r := w.Upload(t, "/hma/m/lookup"+query, w.Service, mw.FormDataContentType(), buf.Bytes())
			if r.Status != 200 {
				t.Fatalf("file lookup: %d %s", r.Status, r.Raw)
			}
			return caseOf(r.Header.Get("Custos-Case-Id"))
		}

		pmd5, psha := md5.Sum(png), sha256.Sum256(png)
		hma := hmaLookup("", "photo", png)
		own := caseOf(matchImage(t, w, png, "user-1").Str("case_id"))
		for _, f := range []string{"md5", "sha256", "pdq", "quality", "source"} {
			if hma.Body[f] != own.Body[f] {
				t.Errorf("photo case's %s: HMA lookup %v, custos's upload route %v", f, hma.Body[f], own.Body[f])
			}
		}
		if hma.Str("md5") != hex.EncodeToString(pmd5[:]) || hma.Str("sha256") != hex.EncodeToString(psha[:]) || hma.Body["quality"] == float64(0) {
			t.Errorf("photo case: %s", hma.Raw)
		}

		vsha := sha256.Sum256(video)
		c := hmaLookup("?types=video_md5", "video", video)
		if c.Str("source") != "video_upload" || c.Str("md5") != hex.EncodeToString(vmd5[:]) || c.Str("sha256") != hex.EncodeToString(vsha[:]) || c.Str("best_entry_id") != "vid-1" {
			t.Errorf("video case: %s", c.Raw)
		}
	})
}
