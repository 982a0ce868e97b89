package web_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

// TestUploadFileNameControlCharacter: a file whose name holds a control
// character (\x01) makes Go's MIME reader refuse the part's header, and
// with it the whole form. The page said only "the form could not be read";
// it now names the file's field and says to rename the file (rule
// control_character), on the Match images page and a bank's import, without
// repeating the name, and writes nothing: no log entry, no case.
func TestUploadFileNameControlCharacter(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		bank := w.Bank(t, "Known images")
		w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst, map[string]any{"adds": []any{
			map[string]any{"entry_id": "img-1", "pdq": apptest.PDQHex(1), "classification": "A1"}}})
		w.Subscribe(t, bank)
		sv := newBrowser(t, w.URL)
		sv.signIn(w.Service)
		an := newBrowser(t, w.URL)
		an.signIn(w.Analyst)
		for _, c := range []struct {
			who         *browser
			path, field string
			form        url.Values
			content     []byte
		}{
			{sv, "/hashmatch/match", "files", url.Values{}, apptest.BlocksPNG(t, 1)},
			{an, "/hashmatch/banks/" + bank + "/import", "file", url.Values{"format": {"hex"}}, []byte(apptest.PDQHex(2) + "\n")},
		} {
			size := w.LogSize(t)
			p := c.who.postFile(c.path, c.form, c.field, "holiday\x01photo.png", c.content)
			wantStatus(t, c.path, p, http.StatusBadRequest)
			mustContain(t, c.path, p, `id="refusal-rule">control_character<`, `id="refusal-field">`+c.field+`<`,
				"the name of the file chosen for "+c.field+" cannot be read: it holds a control character; rename the file and choose it again")
			mustNotContain(t, c.path, p, "holiday", "the form could not be read")
			if got := w.LogSize(t); got != size {
				t.Errorf("%s: the refused form wrote %d log entries", c.path, got-size)
			}
		}
		cases := w.Must(t, 200, "GET", "/api/v1/hashmatch/cases", w.Reviewer, nil)
		if n := len(cases.Body["cases"].([]any)); n != 0 {
			t.Errorf("%d cases opened by a refused form", n)
		}
		// The same file renamed is read.
		p := sv.postFile("/hashmatch/match", url.Values{}, "files", "holiday photo.png", apptest.BlocksPNG(t, 1))
		wantStatus(t, "renamed", p, http.StatusOK)
		mustContain(t, "renamed", p, "holiday photo.png")
	})
}
