package web_test

import (
	"bytes"
	"fmt"
	"io"
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
// part_header, check.PartHeader, as the API's image batch), on the Match
// images page and a bank's import, without repeating the name, and writes
// nothing: no log entry, no case. A part header malformed otherwise (a line
// without a colon, which no browser writes) is refused the same way, its
// line not repeated.
func TestUploadFileNameControlCharacter(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		bank := w.SubscribedBank(t, "Known images")
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
			for _, p := range []*page{
				c.who.postFile(c.path, c.form, c.field, "holiday\x01photo.png", c.content),
				c.who.postRawPart(c.path, "Content-Disposition: form-data; name=\""+c.field+"\"; filename=\"holiday.png\"\r\nholiday photo of Jane Roe\r\n", c.content),
			} {
				wantStatus(t, c.path, p, http.StatusBadRequest)
				mustContain(t, c.path, p, `id="refusal-rule">part_header<`, `id="refusal-field">`+c.field+`<`,
					"the upload cannot be read: a part&#39;s header line is malformed (a file name with a control character does this); rename the file chosen for "+c.field+" and send it again")
				mustNotContain(t, c.path, p, "holiday", "Jane Roe", "the form could not be read")
			}
			if got := w.LogSize(t); got != size {
				t.Errorf("%s: the refused forms wrote %d log entries", c.path, got-size)
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

// postRawPart submits a multipart form of the session's CSRF token and one
// part with header as its header lines, written as they are (a malformed
// one, which mime/multipart's writer would not write).
func (b *browser) postRawPart(path, header string, content []byte) *page {
	b.t.Helper()
	const boundary = "custos-raw-part"
	var body bytes.Buffer
	fmt.Fprintf(&body, "--%s\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n%s\r\n", boundary, b.csrf())
	fmt.Fprintf(&body, "--%s\r\n%s\r\n", boundary, header)
	body.Write(content)
	fmt.Fprintf(&body, "\r\n--%s--\r\n", boundary)
	req, err := http.NewRequest("POST", b.base+path, &body)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
	req.AddCookie(b.cookie)
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	p := &page{Status: resp.StatusCode, Header: resp.Header, Body: string(raw)}
	checkPage(b.t, "POST "+path, p.Body)
	return p
}
