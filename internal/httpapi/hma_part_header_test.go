package httpapi_test

import (
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

// TestHMAUploadPartHeader: an HMA upload whose part header Go's reader
// refuses (a file name with a control character, a header line without a
// colon) is refused as custos's own upload routes refuse it
// (check.PartHeader): 400, rule part_header, field files, the message of the
// API's image batch, in HMA's shape, neither the file name nor the header
// line repeated, and nothing stored. Before, it was a generic multipart
// refusal (rule hma, no field).
func TestHMAUploadPartHeader(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		e := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		img := apptest.BlocksPNG(t, 7)
		ctrl := append(append([]byte("--xyz\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"Jane Roe\x01.png\"\r\nContent-Type: image/png\r\n\r\n"),
			img...), "\r\n--xyz--\r\n"...)
		noColon := append(append([]byte("--xyz\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.png\"\r\nphoto of Jane Roe\r\n\r\n"),
			img...), "\r\n--xyz--\r\n"...)
		// A form field first: the refusal comes at the second part.
		second := append([]byte("--xyz\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n"), ctrl...)
		before := logLen(t, e)
		const want = "the upload cannot be read: a part's header line is malformed (a file name with a control character does this); rename the file chosen for files and send it again"
		for name, body := range map[string][]byte{"control character": ctrl, "no colon": noColon, "second part": second} {
			for _, path := range []string{"/h/hash", "/m/lookup"} {
				status, got := hmaSend(t, e, "POST", path, e.Service, "multipart/form-data; boundary=xyz", body)
				m, _ := got.(map[string]any)
				if status != 400 || m["rule"] != "part_header" || m["field"] != "files" || m["message"] != want {
					t.Errorf("%s %s: %d %s, want 400 part_header files %q", name, path, status, asJSON(got), want)
				}
				if strings.Contains(asJSON(got), "Jane Roe") || strings.Contains(asJSON(got), "Content-Disposition") {
					t.Errorf("%s %s: the refusal repeats the header: %s", name, path, asJSON(got))
				}
			}
		}
		if n := logLen(t, e); n != before {
			t.Errorf("refused uploads logged %d entries", n-before)
		}
	})
}
