package httpapi_test

import (
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

// TestUploadHeadersRenamed: the upload headers are named Custos-* (RFC 6648
// dropped the X- prefix). A request that still sends one under its old
// X-Custos-* name, even beside the new one, is refused (400, rule
// header_renamed, the old name its field, the new name in the message)
// rather than read without it, on a single upload (image, video) and on a
// batch's part, and nothing is written; under the new names the case
// carries what they say.
func TestUploadHeadersRenamed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		e := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		img := apptest.BlocksPNG(t, 1)
		bank := e.Bank(t, "Known")
		e.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", e.Analyst, map[string]any{"adds": []any{
			map[string]any{"entry_id": "img-1", "pdq": pdqOf(t, img), "classification": "A1"}}})
		e.Subscribe(t, bank)
		size := logLen(t, e)
		for _, c := range []struct{ old, now, value string }{
			{"X-Custos-Content-Ref", "Custos-Content-Ref", "up/1"},
			{"x-custos-user-id", "Custos-User-Id", "user-1"},
			{"X-Custos-Uploaded-At", "Custos-Uploaded-At", "2025-03-01T10:00:00Z"},
		} {
			field := "X-" + c.now
			want := "the header " + field + " is now named " + c.now + ": send it under that name"
			refused := func(what string, r *apptest.Response) {
				t.Helper()
				if r.Status != 400 || r.Str("error.rule") != "header_renamed" || r.Str("error.field") != field || r.Str("error.message") != want {
					t.Errorf("%s with %s: %d %s, want 400 header_renamed at %s: %q", what, c.old, r.Status, r.Raw, field, want)
				}
			}
			refused("an image", e.Upload(t, "/api/v1/hashmatch/match/image", e.Service, "image/png", img, c.old, c.value))
			refused("an image with the new name too", e.Upload(t, "/api/v1/hashmatch/match/image", e.Service, "image/png", img, c.now, c.value, c.old, c.value))
			refused("a video", e.Upload(t, "/api/v1/hashmatch/match/video-file", e.Service, "video/mp4", []byte("not a video"), c.old, c.value))
			body, ct := batch(t, file(img), file(img, c.old, c.value))
			refused("a batch's second part", e.Upload(t, "/api/v1/hashmatch/match/images", e.Service, ct, body))
		}
		if got := logLen(t, e); got != size {
			t.Errorf("refused uploads grew the log by %d entries", got-size)
		}
		r := e.Upload(t, "/api/v1/hashmatch/match/image", e.Service, "image/png", img,
			"Custos-Content-Ref", "up/1", "Custos-User-Id", "user-1", "Custos-Uploaded-At", "2025-03-01T10:00:00Z")
		if r.Status != 200 || r.Str("case_id") == "" {
			t.Fatalf("an upload under the new names: %d %s", r.Status, r.Raw)
		}
		c := e.Must(t, 200, "GET", "/api/v1/hashmatch/cases/"+r.Str("case_id"), e.Reviewer, nil)
		if c.Str("content_ref") != "up/1" || c.Str("user_pseudonym") == "" || c.Str("uploaded_at") != "2025-03-01T10:00:00.000000Z" {
			t.Errorf("the case of an upload under the new names: %s", c.Raw)
		}
	})
}
