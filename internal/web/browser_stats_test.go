package web_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/custos-project/custos/internal/stats"
)

// TestBrowserStatistician drives the statistics pages in headless Chromium
// as a statistician would: publish the mapping of the national codes,
// import a year of records through the plain upload form, and see the
// table with its totals and the charts (a trend line, bars by sex and age
// band); then the same table page in Arabic, right to left, its figures
// and charts still there.
func TestBrowserStatistician(t *testing.T) {
	path := findChromium()
	if path == "" {
		t.Skip("no Chromium found: set CUSTOS_CHROMIUM to a Chromium or Chrome binary, or install chromium, to run the browser test")
	}
	w := newStatsWorld(t)
	f := demoFile(t, 2025, 0.3)
	dir := t.TempDir()
	mapping, records := filepath.Join(dir, "xa-penal-code.csv"), filepath.Join(dir, "demoland-2025.csv")
	if err := os.WriteFile(mapping, []byte(stats.DemoMapping()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(records, f.data, 0o644); err != nil {
		t.Fatal(err)
	}

	b := newTab(t, path, w.URL)
	b.signIn(w.Statistician)

	// Publish the mapping.
	b.open("/stats/mappings", 200)
	b.fill(map[string]string{"mapping-id": "xa-penal-code", "mapping-name": "Demoland Penal Code 2019"})
	b.do("choose the mapping file", chromedp.SetUploadFiles(chromedp.ID("mapping-file"), []string{mapping}))
	b.click("publish the mapping", `#mapping button[type="submit"]`, 200)
	if flash := b.text(".flash"); !strings.Contains(flash, "Version 1 published") {
		t.Fatalf("after publishing: %q", flash)
	}

	// Import a year of records.
	b.open("/stats/imports", 200)
	b.do("choose the records file", chromedp.SetUploadFiles(chromedp.ID("import-file"), []string{records}))
	b.click("import", `#import button[type="submit"]`, 200)
	b.do("wait for the import", chromedp.WaitVisible(chromedp.ID("imports")))
	if flash := b.text(".flash"); !strings.Contains(flash, "Imported demoland-2025.csv") {
		t.Fatalf("after importing: %q", flash)
	}
	b.screenshot("stats-imports.png")

	// The table and the charts.
	b.open("/stats/tables", 200)
	num := func(n int) string { return w.App.Languages.English().Number(int64(n)) }
	if got := b.text(`#stats-table tr.total td.total`); got != num(f.offences) {
		t.Errorf("the table's grand total is %q, the file has %d offences", got, f.offences)
	}
	if n := b.count(`#stats-trend-chart polyline.series`); n < 2 {
		t.Errorf("the trend chart draws %d lines, want the total and categories", n)
	}
	if n := b.count(`#stats-sex-age-chart rect`); n < 4 {
		t.Errorf("the sex and age chart draws %d bars", n)
	}
	b.screenshot("stats-tables.png")

	// Arabic: the page right to left, the classification's titles in
	// English (no official Arabic edition), the totals in Arabic digits.
	b.do("choose Arabic", chromedp.SetValue(chromedp.ID("language-switch"), "ar"))
	b.click("change the language", `#languages button[type="submit"]`, 200)
	if got := b.eval(`document.documentElement.lang + ' ' + document.documentElement.dir`); got != "ar rtl" {
		t.Fatalf("the page is marked %q, want ar rtl", got)
	}
	ar := w.App.Languages.Localizer("ar")
	if got := b.text(`#stats-table tr.total td.total`); got != ar.Number(int64(f.offences)) {
		t.Errorf("in Arabic the grand total is %q, want %q", got, ar.Number(int64(f.offences)))
	}
	if h := b.text("#fig-stats-trend-h"); h != ar.T("Trend by year") {
		t.Errorf("the trend's heading in Arabic is %q", h)
	}
	if n := b.count(`#stats-trend-chart polyline.series`); n < 2 {
		t.Errorf("in Arabic the trend chart draws %d lines", n)
	}
	b.screenshot("stats-tables-ar.png")
}
