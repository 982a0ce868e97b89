package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestStatsRowsNotFurtherSpecified: records coded at a coarser ICCS level
// than the table's (a count given for section 02 alone, beside records
// coded to a division of it) make a row of their own, which counts those
// records only, not the section's total: the page, its chart and its
// downloads write it "not further specified", in the reader's language,
// so that no one reads 55 as the section's 58. Before, the row had the
// section's title alone. A table at the section's own level writes the
// section's title as it is: there the row is its total.
func TestStatsRowsNotFurtherSpecified(t *testing.T) {
	w := newStatsWorld(t)
	file := "iccs,stage,unit,date,count\n" +
		"02,police,offence,2025,55\n" +
		"020111,police,offence,2025,30\n" +
		"0101,police,offence,2025,12\n"
	if im := w.Upload(t, "/api/v1/stats/imports?source=partial.csv", w.Statistician, "text/csv", []byte(file)); im.Status != 201 {
		t.Fatalf("import: %d %s", im.Status, im.Raw)
	}
	st := newBrowser(t, w.URL)
	st.signIn(w.Statistician)
	const section = "02 Acts causing harm or intending to cause harm to the person"
	const nfs = section + ", not further specified"

	p := st.get("/stats/tables?level=2&stage=police&unit=offence")
	wantStatus(t, "level 2", p, http.StatusOK)
	mustContain(t, "level 2", p, nfs, "0201 Assaults and threats")
	p = st.get("/stats/tables/export?format=csv&view=table&level=2&stage=police&unit=offence")
	wantStatus(t, "level 2, CSV", p, http.StatusOK)
	mustContain(t, "level 2, CSV", p, "\""+nfs+"\",55", "0201 Assaults and threats,30")
	p = st.get("/stats/tables/export?format=csv&view=trend&level=4&stage=police&unit=offence")
	mustContain(t, "level 4, trend", p, "\""+nfs+"\",55", "020111 Serious assault,30")
	mustNotContain(t, "level 4, trend", p, "0101 Intentional homicide, not further specified")

	p = st.get("/stats/tables/export?format=csv&view=table&level=1&stage=police&unit=offence")
	mustContain(t, "level 1, CSV", p, "\n"+section+",85")
	mustNotContain(t, "level 1, CSV", p, "not further specified")

	st.post("/language", url.Values{"language": {"fr"}, "next": {"/stats/tables"}})
	p = st.get("/stats/tables?level=2&stage=police&unit=offence")
	if !strings.Contains(p.Body, "sans autre précision") {
		t.Errorf("the French page does not say the row is not further specified:\n%s", p.Body)
	}
}
