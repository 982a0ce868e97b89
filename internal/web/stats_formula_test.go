package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// TestStatsTableExportDefusesFormulas: a region is the national file's own
// text, so a table with the regions as its columns has data in its column
// names. A region written as a spreadsheet formula (=, +, -, @) reaches the
// downloaded CSV with a leading quote, in the column names as in the rows,
// and never as a formula that opening the published table would run.
func TestStatsTableExportDefusesFormulas(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		e := apptest.Start(t, dsn)
		office := e.Must(t, 201, "POST", "/api/v1/authorities", e.Admin, map[string]any{"name": "Statistics Office", "kind": "statistics_office"}).Str("id")
		token := e.Must(t, 201, "POST", "/api/v1/principals", e.Admin, map[string]any{"name": "Statistician", "role": "statistician", "authority_id": office}).Str("token")
		regions := []string{`=HYPERLINK("http://attacker.example","x")`, "+1+1", "-2+3", "@SUM(1)", "Capital District"}
		file := "iccs,stage,unit,date,region,count\n"
		for _, r := range regions {
			file += `0101,police,offence,2024-03-01,"` + strings.ReplaceAll(r, `"`, `""`) + "\",7\n"
		}
		if r := e.Upload(t, "/api/v1/stats/imports", token, "text/csv", []byte(file)); r.Status != http.StatusCreated {
			t.Fatalf("import: %d %s", r.Status, r.Raw)
		}

		st := newBrowser(t, e.URL)
		st.signIn(token)
		for _, q := range []string{"rows=iccs&cols=region", "rows=region&cols=period"} {
			p := st.get("/stats/tables/export?format=csv&view=table&level=1&period=year&stage=police&unit=offence&" + q)
			wantStatus(t, q, p, http.StatusOK)
			seen := map[string]bool{}
			for _, rec := range csvRecords(t, p.Body) {
				for _, c := range rec {
					if c != "" && strings.ContainsRune("=+-@", rune(c[0])) {
						t.Errorf("%s: the cell %q would be read as a formula", q, c)
					}
					seen[c] = true
				}
			}
			for _, r := range regions {
				want := r
				if r != "Capital District" {
					want = "'" + r
				}
				if !seen[want] {
					t.Errorf("%s: no cell %q in\n%s", q, want, p.Body)
				}
			}
		}
	})
}
