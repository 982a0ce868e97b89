package web_test

import (
	"bytes"
	"context"
	"html"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

var downloadRE = regexp.MustCompile(`<a href="([^"]+)" download>(CSV|XLSX)</a>`)

// downloadLinks are the download links of a list page, by label.
func downloadLinks(p *page) map[string]string {
	out := map[string]string{}
	for _, m := range downloadRE.FindAllStringSubmatch(p.Body, -1) {
		out[m[2]] = html.UnescapeString(m[1])
	}
	return out
}

// TestListPagesLinkTheirExports: each list page links its export in CSV and
// XLSX with the page's filters (not its cursor); a coordinator's donors are
// exported for their own centre whatever the link says; who may not open
// personal data gets no link to the donors, and is refused the file; a
// refused filter is shown on the UI's error page, never as a file.
func TestListPagesLinkTheirExports(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	var atA []string
	for _, bg := range []string{"A", "O", "A"} {
		d := apptest.DeceasedDonor(w.CentreA)
		d["blood_group"] = bg
		atA = append(atA, w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, d).Str("id"))
	}
	atB := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordB, apptest.DeceasedDonor(w.CentreB)).Str("id")
	w.Must(t, 201, "POST", "/api/v1/transplant/recipients", w.CoordA, apptest.Recipient(w.CentreA, "kidney"))

	r := newBrowser(t, w.URL)
	r.signIn(w.Regulator)
	p := r.get("/transplant/donors?blood_group=A&limit=1&from=")
	links := downloadLinks(p)
	csvLink := links["CSV"]
	if csvLink != "/transplant/donors/export?blood_group=A&format=csv" || links["XLSX"] != "/transplant/donors/export?blood_group=A&format=xlsx" {
		t.Fatalf("download links %v", links)
	}
	f := r.get(csvLink)
	wantStatus(t, "CSV export", f, http.StatusOK)
	if !strings.HasPrefix(f.Header.Get("Content-Type"), "text/csv") || !strings.Contains(f.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("CSV export headers %v", f.Header)
	}
	mustContain(t, "CSV export", f, "registry,transplant", "filter,blood_group=A", atA[0], atA[2], "rows,2")
	if strings.Contains(f.Body, atA[1]) || strings.Contains(f.Body, atB) {
		t.Errorf("the export of blood group A holds other donors:\n%s", f.Body)
	}
	for _, list := range []string{"recipients", "organs"} {
		if l := downloadLinks(r.get("/transplant/" + list)); l["CSV"] != "/transplant/"+list+"/export?format=csv" {
			t.Errorf("%s: download links %v", list, l)
		}
	}

	c := newBrowser(t, w.URL)
	c.signIn(w.CoordB)
	f = c.get("/transplant/donors/export?format=csv&centre_id=" + w.CentreA)
	wantStatus(t, "coordinator B exports centre A", f, http.StatusOK)
	mustContain(t, "coordinator B exports centre A", f, atB, "rows,1", "filter,centre_id="+w.CentreB)
	if strings.Contains(f.Body, atA[0]) {
		t.Error("coordinator B exported centre A's donors")
	}

	a := newBrowser(t, w.URL)
	a.signIn(w.Auditor)
	if l := downloadLinks(a.get("/transplant/donors")); len(l) != 0 {
		t.Errorf("the auditor is offered the donors' export: %v", l)
	}
	if l := downloadLinks(a.get("/transplant/organs")); len(l) != 2 {
		t.Errorf("the auditor is not offered the organs' export: %v", l)
	}
	wantStatus(t, "the auditor exports donors", a.get("/transplant/donors/export?format=csv"), http.StatusForbidden)
	p = r.get("/transplant/donors/export?format=pdf")
	wantStatus(t, "format pdf", p, http.StatusUnprocessableEntity)
	mustContain(t, "format pdf", p, `<code id="refusal-rule">format</code>`, `<code id="refusal-field">format</code>`)
}

// TestBrowserExportsFilteredDonorsAsXLSX: in Chromium, the regulator filters
// the donors by blood group with the page's form, downloads the list as
// XLSX from the page's link, and the file, opened with excelize, holds
// exactly the donors of the filtered list, with the filter and the log
// checkpoint in its About sheet.
func TestBrowserExportsFilteredDonorsAsXLSX(t *testing.T) {
	path := findChromium()
	if path == "" {
		t.Skip("no Chromium found: set CUSTOS_CHROMIUM to a Chromium or Chrome binary, or install chromium, to run the browser test")
	}
	w := apptest.NewWorld(t, storetest.SQLite(t))
	var want []string
	for _, bg := range []string{"B", "O", "B", "A", "B"} {
		d := apptest.DeceasedDonor(w.CentreA)
		d["blood_group"] = bg
		id := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, d).Str("id")
		if bg == "B" {
			want = append(want, id)
		}
	}
	slices.Reverse(want) // newest first, as the list
	size := w.Must(t, 200, "GET", "/api/v1/log/checkpoint", "", nil).Body["size"].(float64)

	b := newTab(t, path, w.URL)
	b.signIn(w.Regulator)
	b.open("/transplant/donors", 200)
	b.fill(map[string]string{"filter-blood_group": "B"})
	b.click("filter the donors", `#filter button[type="submit"]`, 200)

	dir := t.TempDir()
	progress := chromedp.Events(b.ctx, cdpbrowser.DownloadProgress)
	b.do("download the XLSX",
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			events := true
			_, err := chromedp.Call(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
				Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: &events})
			return err
		}),
		chromedp.Click(chromedp.CSS(`p.downloads a[href*="format=xlsx"]`)),
	)
	var file string
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("download: %v", err)
		}
		if ev.State == cdpbrowser.DownloadProgressStateCanceled {
			t.Fatal("the download was cancelled")
		}
		if ev.State == cdpbrowser.DownloadProgressStateCompleted {
			file = filepath.Join(dir, ev.GUID)
			break
		}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("excelize does not open the download: %v", err)
	}
	defer x.Close()
	rows, err := x.GetRows("donors")
	if err != nil {
		t.Fatalf("no sheet donors: %v (sheets %v)", err, x.GetSheetList())
	}
	var got []string
	for _, r := range rows[1:] {
		got = append(got, r[0])
		if r[4] != "B" {
			t.Errorf("row %v is not of blood group B", r)
		}
	}
	if rows[0][0] != "id" || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("the XLSX lists %v (columns %v), want %v", got, rows[0], want)
	}
	about, err := x.GetRows("About")
	if err != nil {
		t.Fatal(err)
	}
	header := map[string]string{}
	for _, r := range about {
		if len(r) == 2 {
			header[r[0]] = r[1]
		}
	}
	if header["filter"] != "blood_group=B" || header["list"] != "donors" || header["rows"] != "3" {
		t.Errorf("About sheet %v", header)
	}
	// The checkpoint is the log as the download found it: the five donors
	// and the World's setup, nothing later.
	if header["log checkpoint size"] != strconv.Itoa(int(size)) {
		t.Errorf("the export reflects checkpoint %s; the log had %v leaves", header["log checkpoint size"], size)
	}
}
