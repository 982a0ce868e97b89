package web_test

import (
	"encoding/csv"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// TestStatsTablePageRefusals: the table page refuses a level written with a
// sign, on its level input; a table too large to publish is refused naming
// the page's rows, an input it has (not the query's by, which it has not);
// and a period that cuts through a year says how many units dated by that
// year alone it counts in no cell.
func TestStatsTablePageRefusals(t *testing.T) {
	w := newStatsWorld(t)
	var b strings.Builder
	b.WriteString("iccs,stage,unit,date,region,count\n")
	for i := range 3000 {
		fmt.Fprintf(&b, "0101,police,offence,2024-%02d-01,R%04d,1\n", 1+i%12, i)
	}
	b.WriteString("0502,police,offence,2024,R0000,7\n")
	if im := w.Upload(t, "/api/v1/stats/imports?source=many.csv", w.Statistician, "text/csv", []byte(b.String())); im.Status != 201 {
		t.Fatalf("import: %d %s", im.Status, im.Raw)
	}
	st := newBrowser(t, w.URL)
	st.signIn(w.Statistician)

	p := st.get("/stats/tables?level=%2B1")
	wantStatus(t, "level +1", p, http.StatusUnprocessableEntity)
	mustContain(t, "level +1", p, `id="table-level-error"`)

	// 3001 regions by 13 months: over 25,000 cells.
	p = st.get("/stats/tables?rows=region&cols=period&period=month")
	wantStatus(t, "too many cells", p, http.StatusUnprocessableEntity)
	mustContain(t, "too many cells", p, `id="refusal-rule">too_many_cells<`, `id="refusal-field">rows<`, `id="table-rows-error"`)
	mustNotContain(t, "too many cells", p, `id="refusal-field">by<`)

	p = st.get("/stats/tables?from=2024-01&to=2024-06")
	wantStatus(t, "half a year", p, http.StatusOK)
	mustContain(t, "half a year", p, `id="not-placed"`, "7 units dated by their year (or month) alone are counted in no cell")
	p = st.get("/stats/tables?from=2024-01&to=2024-12")
	mustNotContain(t, "the whole year", p, `id="not-placed"`)
}

// TestStatsDownloadsNotPlaced: the CSV and XLSX downloads of a table page
// whose from or to cuts through a year say, in their header block (the
// sheet "About" of an XLSX file), how many units dated by that year alone
// are in no cell, as the page does under the table: the number, "<5" when
// fewer than the disclosure threshold, 0 when the period cuts through
// none; a download with neither from nor to has no such line. The SDMX-CSV
// link of the page carries it in its column NOT_PLACED.
func TestStatsDownloadsNotPlaced(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		e := apptest.Start(t, dsn)
		office := e.Must(t, 201, "POST", "/api/v1/authorities", e.Admin, map[string]any{"name": "Statistics Office", "kind": "statistics_office"}).Str("id")
		token := e.Must(t, 201, "POST", "/api/v1/principals", e.Admin, map[string]any{"name": "Statistician", "role": "statistician", "authority_id": office}).Str("token")
		file := "iccs,stage,unit,date,count,victim_sex\n" +
			"0101,police,offence,2024-02-03,6,female\n" +
			"0502,police,offence,2024,7,male\n" + // the year alone: 7 units
			"0502,police,victim,2024,3,female\n" // the victims' view: 3 units
		if im := e.Upload(t, "/api/v1/stats/imports?source=years.csv", token, "text/csv", []byte(file)); im.Status != 201 {
			t.Fatalf("import: %d %s", im.Status, im.Raw)
		}
		st := newBrowser(t, e.URL)
		st.signIn(token)
		const note = "units not placed in the period (dated by a year or month alone that from or to cuts through; in no cell)"
		header := func(p *page) map[string]string {
			t.Helper()
			// the header's lines have two fields, the table's more
			r := csv.NewReader(strings.NewReader(p.Body))
			r.FieldsPerRecord = -1
			rows, err := r.ReadAll()
			if err != nil {
				t.Fatalf("CSV: %v\n%s", err, p.Body)
			}
			out := map[string]string{}
			for _, r := range rows {
				if len(r) == 0 || r[0] == "" {
					break
				}
				out[r[0]] = r[1]
			}
			return out
		}
		for _, c := range []struct {
			query, want string
		}{
			{"from=2024-01&to=2024-06&view=table", "7"},
			{"from=2024-01&to=2024-06&view=trend", "7"},
			{"from=2024-01&to=2024-06&view=sex-age", "<5"}, // victims: 3
			{"from=2024-01&to=2024-12&view=table", "0"},
			{"view=table", ""},
		} {
			p := st.get("/stats/tables/export?format=csv&" + c.query)
			wantStatus(t, c.query, p, http.StatusOK)
			got, ok := header(p)[note]
			if c.want == "" && ok || c.want != "" && got != c.want {
				t.Errorf("%s: the CSV's header says %q (%v), want %q:\n%s", c.query, got, ok, c.want, p.Body)
			}
		}
		p := st.get("/stats/tables/export?format=xlsx&from=2024-01&to=2024-06&view=table")
		wantStatus(t, "xlsx", p, http.StatusOK)
		x, err := excelize.OpenReader(strings.NewReader(p.Body))
		if err != nil {
			t.Fatalf("excelize does not open the download: %v", err)
		}
		defer x.Close()
		about, err := x.GetRows("About")
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range about {
			found = found || len(r) == 2 && r[0] == note && r[1] == "7"
		}
		if !found {
			t.Errorf("the XLSX's About sheet lacks the units not placed: %q", about)
		}

		// The page's SDMX-CSV link: the column NOT_PLACED.
		p = st.get("/stats/tables?from=2024-01&to=2024-06")
		m := regexp.MustCompile(`href="(/stats/sdmx\?[^"]+)"`).FindStringSubmatch(p.Body)
		if m == nil {
			t.Fatalf("no SDMX-CSV link on the page")
		}
		p = st.get(html.UnescapeString(m[1]))
		wantStatus(t, "sdmx", p, http.StatusOK)
		lines := strings.Split(strings.TrimSpace(p.Body), "\n")
		if !strings.HasSuffix(lines[0], ",OBS_VALUE,CONF_STATUS,NOT_PLACED") || !strings.HasSuffix(strings.TrimSpace(lines[1]), ",7") {
			t.Errorf("the page's SDMX-CSV file:\n%s", p.Body)
		}
	})
}
