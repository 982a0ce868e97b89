package web_test

import (
	"bytes"
	"net/http"
	"net/url"
	"testing"
	"unicode/utf8"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

// TestHashmatchMatchPageFileNames: the Match images page shows each file's
// name as the browser sent it, escaped, and a name that is not UTF-8 (a
// hostile client's, or an old system's Latin-1 name) with U+FFFD in place of
// its bad bytes: the page stays valid UTF-8, its row still says the name is
// refused (rule utf8, field files[N].content_ref), and nothing is stored
// for it. Before, the name's raw bytes were written into the page.
func TestHashmatchMatchPageFileNames(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		a := apptest.BlocksPNG(t, 1)
		h, err := hashmatch.HashImage(bytes.NewReader(a), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		bank := w.Bank(t, "Known images")
		w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst, map[string]any{"adds": []any{
			map[string]any{"entry_id": "img-a", "pdq": h.PDQ.String(), "classification": "A1"}}})
		w.Subscribe(t, bank)

		sv := newBrowser(t, w.URL)
		sv.signIn(w.Service)
		p := sv.postFiles("/hashmatch/match", url.Values{}, "files",
			upFile{"caf\xe9\xff.png", a}, upFile{"<b>x&amp;.png", a})
		wantStatus(t, "batch", p, http.StatusOK)
		if !utf8.ValidString(p.Body) {
			t.Error("the page is not valid UTF-8: it echoes the file's name as sent")
		}
		mustContain(t, "batch", p, "2 files hashed and matched: 1 matched.",
			`id="result-0" class="status-error"`, "caf\uFFFD.png", "rule <code>utf8</code>", "files[0].content_ref",
			`id="result-1" class="status-match"`, "&lt;b&gt;x&amp;amp;.png")
		mustNotContain(t, "batch", p, "<b>x")
		cases := w.Must(t, 200, "GET", "/api/v1/hashmatch/cases?status=open", w.Reviewer, nil)
		if n := len(cases.Body["cases"].([]any)); n != 1 {
			t.Errorf("%d cases, want the one of the file whose name is UTF-8", n)
		}
	})
}
