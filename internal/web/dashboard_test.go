package web_test

import (
	"encoding/csv"
	"mime"
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
		!strings.HasPrefix(attachment(cd), "transplant-organs-log") || !strings.HasSuffix(cd, ".csv") {
		t.Errorf("csv headers %q, %q", ct, cd)
	}
	// The file is an export: its header names the figure by its id, the
	// period and the checkpoint, then the table, its columns and categories
	// as codes.
	head, table := figureFile(t, p.Body)
	if head["registry"] != "transplant" || head["list"] != "transplant-organs" || head["filter"] != "months=12&until="+month || head["log checkpoint size"] == "" {
		t.Errorf("csv header %q", head)
	}
	if want := "organ,procured,transplanted\nkidney,0,0\nliver,0,0\n"; !strings.HasPrefix(table, want) {
		t.Errorf("csv %q, want it to start %q", table, want)
	}
	p = reg.get("/figures/transplant-months.csv?until=2025-06&months=24")
	wantStatus(t, "csv of 24 months", p, http.StatusOK)
	head, table = figureFile(t, p.Body)
	if lines := strings.Split(strings.TrimSpace(table), "\n"); len(lines) != 25 || lines[1] != "2023-07,0,0,0" || lines[24] != "2025-06,0,0,0" {
		t.Errorf("24 months: %q", lines)
	}
	if head["filter"] != "months=24&until=2025-06" {
		t.Errorf("24 months: filter %q", head["filter"])
	}
	// As XLSX too.
	if p := reg.get("/figures/transplant-months.xlsx?until=2025-06&months=24"); p.Status != http.StatusOK || !strings.HasPrefix(p.Body, "PK") {
		t.Errorf("xlsx: %d %.20q", p.Status, p.Body)
	}
	for path, want := range map[string]int{
		"/figures/transplant-months.csv?months=6":      http.StatusUnprocessableEntity,
		"/figures/transplant-months.csv?until=2025-13": http.StatusUnprocessableEntity,
		"/figures/transplant-months.csv?until=2999-01": http.StatusUnprocessableEntity,
		"/figures/transplant-nothing.csv":              http.StatusNotFound,
		"/figures/transplant-months":                   http.StatusNotFound,
		"/figures/transplant-months.pdf":               http.StatusNotFound,
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

// TestFigureBeforePeriod asks a figure's file with a period that is wrong:
// a principal whose dashboard does not hold the figure (a coordinator) gets
// 404 figure whatever the period, learning nothing from the period's rules;
// one whose dashboard holds it (the regulator) gets the period's refusal.
func TestFigureBeforePeriod(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		co, reg := newBrowser(t, w.URL), newBrowser(t, w.URL)
		co.signIn(w.CoordA)
		reg.signIn(w.Regulator)
		for _, c := range []struct{ path, rule string }{
			{"/figures/transplant-months.csv?months=6", "enum"},
			{"/figures/transplant-months.csv?until=2025-13", "month_format"},
			{"/figures/alerts-rules.xlsx?until=2999-01", "range"},
			// Given twice, a period was read as its first value and the file
			// logged and headed with it, whatever the second said.
			{"/figures/transplant-months.csv?months=12&until=2025-06&months=24", "query"},
			{"/figures/transplant-months.csv?until=2025-06&until=2025-01", "query"},
		} {
			p := co.get(c.path)
			wantStatus(t, c.path+" by a coordinator", p, http.StatusNotFound)
			mustContain(t, c.path+" by a coordinator", p, `id="refusal-rule">figure<`)
			p = reg.get(c.path)
			wantStatus(t, c.path+" by the regulator", p, http.StatusUnprocessableEntity)
			mustContain(t, c.path+" by the regulator", p, `id="refusal-rule">`+c.rule+`<`)
		}
	})
}

// figureFile reads a figure's CSV: the export's header, name to value, and
// the table that follows it, without the closing "rows,N" line.
func figureFile(t *testing.T, body string) (map[string]string, string) {
	t.Helper()
	header, table, ok := strings.Cut(body, "\n\n")
	if !ok {
		t.Fatalf("no header block in %q", body)
	}
	recs, err := csv.NewReader(strings.NewReader(header)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	head := map[string]string{}
	for _, r := range recs {
		if len(r) == 2 {
			head[r[0]] = r[1]
		}
	}
	if i := strings.LastIndex(strings.TrimSuffix(table, "\n"), "\n"); i < 0 || !strings.HasPrefix(table[i+1:], "rows,") {
		t.Fatalf("no rows line at the end of %q", table)
	} else {
		table = table[:i+1]
	}
	return head, table
}

// attachment is the file name of a Content-Disposition attachment; "" when
// it is not one.
func attachment(cd string) string {
	typ, params, err := mime.ParseMediaType(cd)
	if err != nil || typ != "attachment" {
		return ""
	}
	return params["filename"]
}

// TestFiguresCountOrgansFromAbroad has centre A transplant an organ
// received from abroad and checks that the home page's figures count it: a
// kidney transplanted, and a transplantation of centre A this month.
func TestFiguresCountOrgansFromAbroad(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		apptest.ImportedOrgans(t, w, dsn)
		reg := newBrowser(t, w.URL)
		reg.signIn(w.Regulator)
		month := time.Now().UTC().Format("2006-01")
		for _, c := range []struct{ figure, want string }{
			{"transplant-organs", "kidney,0,1\n"},
			{"transplant-centres", w.CentreA + ",0,1\n"},
			{"transplant-months", month + ",0,0,1\n"},
		} {
			p := reg.get("/figures/" + c.figure + ".csv")
			wantStatus(t, c.figure, p, http.StatusOK)
			if _, table := figureFile(t, p.Body); !strings.Contains(table, c.want) {
				t.Errorf("%s: %q, want a line %q (the organ from abroad)", c.figure, table, c.want)
			}
		}
	})
}
