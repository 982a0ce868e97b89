package assets_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/storetest"
)

// TestPages: the central authority's case list, filtered, and a case page
// with every asset's measures on its timeline, in order; the directory and
// the statistics pages.
func TestPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		c, a := w.caseWithAsset(t, "WEB-1")
		for _, m := range []assets.NewMeasure{measure(assets.StepFrozen, "2024-04-01", "1000"), measure(assets.StepConfiscated, "2024-05-01", "900"), measure(assets.StepReturned, "2024-06-01", "900")} {
			if _, err := w.S.RecordMeasure(ctx, w.Prosecutor, a.ID, m); err != nil {
				t.Fatal(err)
			}
		}
		jar, _ := cookiejar.New(nil)
		browser := &http.Client{Jar: jar, Timeout: 30 * time.Second}
		resp, err := browser.PostForm(w.URL+"/signin", url.Values{"token": {w.CAToken}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		page := func(path string) string {
			t.Helper()
			resp, err := browser.Get(w.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 {
				t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
			}
			return string(b)
		}
		home := page("/")
		for _, want := range []string{`id="assets"`, `href="/assets/cases"`, `href="/assets/directory"`} {
			if !strings.Contains(home, want) {
				t.Errorf("the home page lacks %q", want)
			}
		}
		if l := page("/assets/cases?status=returned&q=WEB"); !strings.Contains(l, `id="case-`+c.ID+`"`) {
			t.Errorf("the list of cases with a returned asset lacks %s", c.ID)
		}
		if l := page("/assets/cases?status=seized"); strings.Contains(l, `id="case-`+c.ID+`"`) {
			t.Errorf("the list of cases with a seized asset holds %s", c.ID)
		}
		body := page("/assets/cases/" + c.ID)
		// An outgoing case's kind, not the direction of a request that
		// shares its code.
		if !strings.Contains(body, "Assets abroad") || strings.Contains(body, "Sent by us") {
			t.Errorf("the case page does not name the case's kind (assets abroad)")
		}
		i := strings.Index(body, `id="asset-`+a.ID+`"`)
		if i < 0 {
			t.Fatalf("the case page lacks the asset:\n%s", body)
		}
		tl := body[i:]
		last := 0
		for _, step := range []string{"step-identified", "step-frozen", "step-confiscated", "step-returned"} {
			j := strings.Index(tl, step)
			if j < last {
				t.Errorf("the timeline lacks %s after the step before, or out of order", step)
			}
			last = j
		}
		if !strings.Contains(tl, "Criminal confiscation") || !strings.Contains(tl, "900.00 EUR") {
			t.Errorf("the timeline lacks the confiscation's type or amount")
		}
		page("/assets/directory")
		// The state typed in the filter's text box in small letters, with
		// spaces, is the state: the registry refuses any other spelling.
		if _, err := w.S.ImportDirectory(ctx, w.Administrator, "directory.csv", strings.NewReader(directoryCSV)); err != nil {
			t.Fatal(err)
		}
		if d := page("/assets/directory?state=+xb+"); !strings.Contains(d, "Otherland Asset Recovery Office") || strings.Contains(d, "Demoland Ministry of Justice") {
			t.Errorf("the directory filtered by state xb does not list XB's entry alone")
		}
		if s := page("/assets/statistics?currency=EUR"); !strings.Contains(s, `id="assets-statistics"`) || !strings.Contains(s, "format=csv") {
			t.Errorf("the statistics page lacks its table or its download")
		}
	})
}
