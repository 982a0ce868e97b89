package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
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
