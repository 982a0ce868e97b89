package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// TestFigureCSV: the CSV route answers a figure of the principal's dashboard
// for the period asked, refuses a bad period naming the parameter, and
// answers 404 for a figure that does not exist or that the principal may not
// read; the home page refuses a bad period on its form and still shows the
// figures, of the default period.
func TestFigureCSV(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	reg := newBrowser(t, w.URL)
	reg.signIn(w.Regulator)
	month := time.Now().UTC().Format("2006-01")

	p := reg.get("/figures/transplant-organs.csv")
	wantStatus(t, "csv", p, http.StatusOK)
	if ct, cd := p.Header.Get("Content-Type"), p.Header.Get("Content-Disposition"); ct != "text/csv; charset=utf-8" ||
		!strings.HasPrefix(cd, `attachment; filename="custos-transplant-organs-`) || !strings.HasSuffix(cd, "-to-"+month+`.csv"`) {
		t.Errorf("csv headers %q, %q", ct, cd)
	}
	if want := "Organ,Procured,Transplanted\nKidney,0,0\nLiver,0,0\n"; !strings.HasPrefix(p.Body, want) {
		t.Errorf("csv %q, want it to start %q", p.Body, want)
	}
	p = reg.get("/figures/transplant-months.csv?until=2025-06&months=24")
	wantStatus(t, "csv of 24 months", p, http.StatusOK)
	if lines := strings.Split(strings.TrimSpace(p.Body), "\n"); len(lines) != 25 || lines[1] != "2023-07,0,0,0" || lines[24] != "2025-06,0,0,0" {
		t.Errorf("24 months: %q", lines)
	}
	if cd := p.Header.Get("Content-Disposition"); cd != `attachment; filename="custos-transplant-months-2023-07-to-2025-06.csv"` {
		t.Errorf("file name %q", cd)
	}
	for path, want := range map[string]int{
		"/figures/transplant-months.csv?months=6":      http.StatusUnprocessableEntity,
		"/figures/transplant-months.csv?until=2025-13": http.StatusUnprocessableEntity,
		"/figures/transplant-months.csv?until=2999-01": http.StatusUnprocessableEntity,
		"/figures/transplant-nothing.csv":              http.StatusNotFound,
		"/figures/transplant-months":                   http.StatusNotFound,
		"/figures/nothing.csv":                         http.StatusNotFound,
		"/figures/alerts-rules.csv?until=2025-01":      http.StatusOK,
		"/figures/hashmatch-times.csv?until=2025-01":   http.StatusOK,
		"/?until=2025-01&months=12":                    http.StatusOK,
		"/?until=January":                              http.StatusUnprocessableEntity,
	} {
		if p := reg.get(path); p.Status != want {
			t.Errorf("%s: %d, want %d", path, p.Status, want)
		}
	}
	p = reg.get("/?until=January")
	mustContain(t, "home with a bad period", p, `id="period"`, "month_format", `aria-invalid="true"`, `id="fig-transplant-months"`, `/figures/transplant-months.csv?months=12&amp;until=`+month)

	// A coordinator has no figures, and no CSV of them.
	co := newBrowser(t, w.URL)
	co.signIn(w.CoordA)
	if p := co.get("/"); strings.Contains(p.Body, `id="figures"`) {
		t.Error("a coordinator's home shows figures")
	}
	wantStatus(t, "a coordinator's csv", co.get("/figures/transplant-months.csv"), http.StatusNotFound)
	wantStatus(t, "a coordinator's alerts csv", co.get("/figures/alerts-rules.csv"), http.StatusNotFound)
}
