package web_test

import (
	"bytes"
	"encoding/csv"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/stats"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/web"
)

// statsWorld is a registry with a statistics office and its statistician.
type statsWorld struct {
	*apptest.Env
	Statistician string // token
}

func newStatsWorld(t *testing.T) *statsWorld {
	t.Helper()
	e := apptest.Start(t, storetest.SQLite(t))
	office := e.Must(t, 201, "POST", "/api/v1/authorities", e.Admin, map[string]any{"name": "Demoland National Statistics Office", "kind": "statistics_office"}).Str("id")
	token := e.Must(t, 201, "POST", "/api/v1/principals", e.Admin, map[string]any{"name": "Statistician", "role": "statistician", "authority_id": office}).Str("token")
	return &statsWorld{Env: e, Statistician: token}
}

// statsFile is a year of Demoland's records (stats.DemoRecords) and the
// counts of its police-recorded offences: by ICCS section, and in all.
type statsFile struct {
	data      []byte
	sections  map[string]int
	offences  int
	offenders map[string]int // persons suspected by sex
}

func demoFile(t *testing.T, year int, scale float64) *statsFile {
	t.Helper()
	data := stats.DemoRecords(3, year, time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(year+1, 1, 1, 0, 0, 0, 0, time.UTC), scale)
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	rows, err := stats.ParseMapping(strings.NewReader(stats.DemoMapping()))
	if err != nil {
		t.Fatal(err)
	}
	iccs := map[string]string{}
	for _, r := range rows {
		iccs[r.NationalCode] = r.ICCS
	}
	f := &statsFile{data: data, sections: map[string]int{}, offenders: map[string]int{}}
	for _, r := range recs[1:] {
		switch {
		case r[1] == "police" && r[2] == "offence":
			f.sections[iccs[r[0]][:2]]++
			f.offences++
		case r[1] == "police" && r[2] == "person":
			f.offenders[r[12]]++
		}
	}
	return f
}

// cellRE finds a row of a table page: its label and its cells.
func tableRow(t *testing.T, body, tableID, label string) []string {
	t.Helper()
	i := strings.Index(body, `id="`+tableID+`"`)
	if i < 0 {
		t.Fatalf("no table %s", tableID)
	}
	table := body[i:]
	table = table[:strings.Index(table, "</table>")]
	re := regexp.MustCompile(`<tr(?: class="total")?><th scope="row">` + regexp.QuoteMeta(label) + `</th>(.*?)</tr>`)
	m := re.FindStringSubmatch(table)
	if m == nil {
		t.Fatalf("table %s has no row %q:\n%s", tableID, label, table)
	}
	var cells []string
	for _, c := range regexp.MustCompile(`<td class="num[^"]*">([^<]*)</td>`).FindAllStringSubmatch(m[1], -1) {
		cells = append(cells, c[1])
	}
	return cells
}

// TestStatsPages: a statistician publishes a mapping (a bad file refused
// first), checks a file's codes against it, imports a year of records (a
// bad file refused, naming line and field), and reads the table with its
// totals, the trend and the breakdown by sex and age, and downloads them;
// the classification browser shows each level, in Spanish with the
// official titles.
func TestStatsPages(t *testing.T) {
	w := newStatsWorld(t)
	st := newBrowser(t, w.URL)
	st.signIn(w.Statistician)
	p := st.get("/")
	mustContain(t, "statistician home", p, `id="stats"`, `href="/stats/tables"`, `href="/stats/imports"`, `href="/stats/mappings"`, `href="/stats/iccs"`)

	// The classification: the sections, then a division's path and groups.
	p = st.get("/stats/iccs")
	wantStatus(t, "iccs", p, http.StatusOK)
	mustContain(t, "iccs", p, "11 sections, 63 divisions, 148 groups and 98 classes", `id="iccs-01"`, `id="iccs-11"`, "Acts leading to death or intending to cause death")
	p = st.get("/stats/iccs?code=0204")
	mustContain(t, "iccs 0204", p, `<a href="/stats/iccs?code=02"><span dir="ltr">02</span> Acts causing harm`, `id="iccs-02043"`, "TIP for organ removal", "Level 2 of 4.")
	wantStatus(t, "iccs 99", st.get("/stats/iccs?code=99"), http.StatusNotFound)

	// A mapping: a file with a code outside the ICCS is refused, naming the
	// line; the demo's is published.
	bad := "national_code,national_label,iccs\nPC-1,Murder,0101\nPC-2,Nothing,9999\n"
	p = st.postFile("/stats/mappings", url.Values{"id": {"xa-penal-code"}, "name": {"Demoland Penal Code"}}, "file", "bad.csv", []byte(bad))
	wantStatus(t, "bad mapping", p, http.StatusUnprocessableEntity)
	mustContain(t, "bad mapping", p, `id="mapping-file-error"`, "9999", `value="xa-penal-code"`)
	p = st.postFile("/stats/mappings", url.Values{"id": {"xa-penal-code"}, "name": {"Demoland Penal Code"}}, "file", "map.csv", []byte(stats.DemoMapping()))
	wantStatus(t, "mapping", p, http.StatusSeeOther)
	published := p.Header.Get("Location")
	if !strings.HasPrefix(published, "/stats/mappings/xa-penal-code?notice=") {
		t.Fatalf("after publishing: %s", published)
	}
	p = st.get(published)
	mustContain(t, "mapping", p, "Version 1 published.", "PC-133", "Trafficking in persons for the removal of organs", `<a href="/stats/iccs?code=02043" dir="ltr">02043</a> TIP for organ removal`)
	mustContain(t, "mappings", st.get("/stats/mappings"), `id="mapping-xa-penal-code"`, "Demoland Penal Code")

	// The codes of a file against the mapping: one unmapped, with its records.
	check := "offence_code,stage,unit,date\nPC-101,police,offence,2025-01-02\nXX-9,police,offence,2025-01-03\nXX-9,police,offence,2025-01-04\n"
	p = st.postFile("/stats/mappings/xa-penal-code/check", url.Values{"version": {"1"}}, "file", "check.csv", []byte(check))
	wantStatus(t, "check", p, http.StatusOK)
	mustContain(t, "check", p, `id="unmapped"`, `<td dir="ltr"><code>XX-9</code></td><td class="num">2</td>`, "Such a file is refused on import")
	// A version that is no whole number from 1 is refused, naming it, not
	// read as the latest.
	for _, ver := range []string{"+1", "0", "abc"} {
		p = st.postFile("/stats/mappings/xa-penal-code/check", url.Values{"version": {ver}}, "file", "check.csv", []byte(check))
		wantStatus(t, "check version "+ver, p, http.StatusUnprocessableEntity)
		mustContain(t, "check version "+ver, p, "version must be a whole number from 1")
	}

	// Imports: a file with a bad date is refused whole, naming its line.
	badFile := "offence_code,stage,unit,date\nPC-101,police,offence,2025-01-02\nPC-101,police,offence,2025-13-40\n"
	p = st.postFile("/stats/imports", url.Values{"mapping": {"xa-penal-code"}}, "file", "bad.csv", []byte(badFile))
	wantStatus(t, "bad import", p, http.StatusUnprocessableEntity)
	mustContain(t, "bad import", p, `id="import-file-error"`, "line 3", "Nothing is imported yet.")
	f := demoFile(t, 2025, 0.3)
	p = st.postFile("/stats/imports", url.Values{"mapping": {"xa-penal-code"}}, "file", "demoland-2025.csv", f.data)
	if p.Status == http.StatusSeeOther && strings.HasPrefix(p.Header.Get("Location"), "/stats/imports/progress/") {
		// a slow machine: the progress page, until the import is done
		for range 120 {
			loc := p.Header.Get("Location")
			p = st.get(loc)
			if p.Status != http.StatusOK || !strings.Contains(p.Body, `id="import-bar"`) {
				break
			}
			mustContain(t, "progress", p, `<meta http-equiv="refresh" content="1">`)
			time.Sleep(500 * time.Millisecond)
			p.Header.Set("Location", loc)
			p.Status = http.StatusSeeOther
		}
	}
	wantStatus(t, "import", p, http.StatusSeeOther)
	loc := p.Header.Get("Location")
	if !strings.HasPrefix(loc, "/stats/imports?notice=") {
		t.Fatalf("after the import: %s", loc)
	}
	p = st.get(loc)
	mustContain(t, "imports", p, "Imported demoland-2025.csv:", "from 2025-01-", "demoland-2025.csv", "xa-penal-code, version 1")
	wantStatus(t, "unknown progress", st.get("/stats/imports/progress/0123"), http.StatusNotFound)

	// The table: police-recorded offences by section and year, with totals.
	p = st.get("/stats/tables")
	wantStatus(t, "tables", p, http.StatusOK)
	mustContain(t, "tables", p, `href="/api/v1/stats/sdmx/structure"`)
	num := func(n int) string { return w.App.Languages.English().Number(int64(n)) }
	if got := tableRow(t, p.Body, "stats-table", "Total"); got[len(got)-1] != num(f.offences) {
		t.Errorf("the grand total is %v, the file has %d offences", got, f.offences)
	}
	if got := tableRow(t, p.Body, "stats-table", "05 Acts against property only"); got[0] != num(f.sections["05"]) {
		t.Errorf("section 05 in 2025: %v, the file has %d", got, f.sections["05"])
	}
	mustContain(t, "tables", p, `id="stats-trend-chart"`, `id="stats-sex-age-chart"`, `class="series"`, "Trend by year",
		`href="/stats/tables/export?cols=period&amp;format=csv&amp;level=1&amp;period=year&amp;rows=iccs&amp;stage=police&amp;unit=offence&amp;view=table"`, `href="/stats/sdmx?`)
	// Persons suspected by sex, as rows by perpetrator's sex.
	p = st.get("/stats/tables?unit=person&rows=perpetrator_sex&cols=period")
	wantStatus(t, "persons by sex", p, http.StatusOK)
	if got := tableRow(t, p.Body, "stats-table", "Female"); got[0] != num(f.offenders["female"]) && got[0] != "x" {
		t.Errorf("female suspects: %v, the file has %d", got, f.offenders["female"])
	}
	// The same with the columns first in the registry's order (transposed).
	p = st.get("/stats/tables?unit=person&rows=period&cols=perpetrator_sex")
	if got := tableRow(t, p.Body, "stats-table", "2025"); len(got) < 3 {
		t.Errorf("year 2025 by sex: %v", got)
	}
	// The page reads its query as the API does (stats.ParseQuery): a
	// filter of any dimension; a parameter of neither refused, named.
	p = st.get("/stats/tables?unit=person&rows=perpetrator_sex&cols=period&filter.perpetrator_sex=female")
	wantStatus(t, "female suspects only", p, http.StatusOK)
	if got := tableRow(t, p.Body, "stats-table", "Total"); got[len(got)-1] != num(f.offenders["female"]) && got[len(got)-1] != "x" {
		t.Errorf("female suspects only: total %v, the file has %d", got, f.offenders["female"])
	}
	if strings.Contains(p.Body, `<th scope="row">Male</th>`) {
		t.Error("filtered to women, the table has a row of men")
	}
	p = st.get("/stats/tables?colour=red")
	wantStatus(t, "unknown parameter", p, http.StatusUnprocessableEntity)
	mustContain(t, "unknown parameter", p, "colour is not a parameter of a statistics query")
	// A bad level is refused on the form, naming the field.
	p = st.get("/stats/tables?level=7")
	wantStatus(t, "level 7", p, http.StatusUnprocessableEntity)
	mustContain(t, "level 7", p, `id="table-level-error"`)

	// Downloads: the table as CSV, its grand total the file's; SDMX-CSV;
	// a UN-CTS table as XLSX.
	p = st.get("/stats/tables/export?format=csv&view=table")
	wantStatus(t, "table csv", p, http.StatusOK)
	recs := csvRecords(t, p.Body)
	var total []string
	for _, r := range recs {
		if len(r) > 1 && r[0] == "total" {
			total = r
		}
	}
	if total == nil || total[len(total)-1] != strconv.Itoa(f.offences) {
		t.Errorf("the CSV's total line %v, the file has %d offences", total, f.offences)
	}
	p = st.get("/stats/sdmx?stage=police&unit=offence&level=1&rows=iccs&cols=period")
	wantStatus(t, "sdmx", p, http.StatusOK)
	mustContain(t, "sdmx", p, "STRUCTURE,STRUCTURE_ID,ACTION,ICCS,", "dataflow,"+stats.SDMXDataflow(stats.SDMXAgency)+",I,", "_T", strconv.Itoa(f.offences))
	p = st.get("/stats/tables/export?format=xlsx&view=sex-age")
	wantStatus(t, "sex-age xlsx", p, http.StatusOK)
	if !strings.HasPrefix(p.Body, "PK") {
		t.Errorf("the XLSX file starts %q", p.Body[:min(8, len(p.Body))])
	}
	p = st.get("/stats/uncts?table=police&year=2025&format=csv")
	wantStatus(t, "uncts", p, http.StatusOK)

	// In Spanish, the classification's official titles.
	lang := "es"
	es := func(path string) *page {
		t.Helper()
		req, _ := http.NewRequest("GET", st.base+path, nil)
		req.AddCookie(st.cookie)
		req.AddCookie(&http.Cookie{Name: web.LanguageCookie, Value: lang})
		resp, err := st.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return &page{Status: resp.StatusCode, Header: resp.Header, Body: string(raw)}
	}
	p = es("/stats/iccs?code=0204")
	mustContain(t, "iccs in Spanish", p, "Trata de personas", "Nivel 2 de 4.")
	mustNotContain(t, "iccs in Spanish", p, "Titles are shown in English")
	p = es("/stats/tables")
	mustContain(t, "tables in Spanish", p, "Tendencia por año", "Actos que causan la muerte")
	// In French, the machine-assisted titles of sections and divisions,
	// said to be such; a class in English.
	lang = "fr"
	p = es("/stats/iccs?code=02")
	mustContain(t, "iccs in French", p, "Traite des personnes", `id="iccs-machine"`)
	p = es("/stats/iccs?code=02011")
	mustContain(t, "iccs in French", p, "Serious assault")

	// Withdrawing the import: a reason is required, named on the form;
	// then its records are no longer counted, it stays listed as
	// withdrawn with the reason, and it cannot be withdrawn twice.
	imported := statsImportIDs(t, w.Env, w.Statistician)[0]
	mustContain(t, "withdraw form", st.get("/stats/imports"), `id="withdraw"`, `<option value="`+imported+`"`)
	p = st.post("/stats/imports/withdraw", url.Values{"import": {imported}, "reason": {"  "}})
	wantStatus(t, "withdraw without a reason", p, http.StatusUnprocessableEntity)
	mustContain(t, "withdraw without a reason", p, `id="withdraw-reason-error"`)
	p = st.post("/stats/imports/withdraw", url.Values{"import": {imported}, "reason": {"the ministry sent a corrected file"}})
	wantStatus(t, "withdraw", p, http.StatusSeeOther)
	p = st.get(p.Header.Get("Location"))
	mustContain(t, "withdrawn", p, "Withdrew "+imported+" (demoland-2025.csv)", "Withdrawn, no longer counted:", "the ministry sent a corrected file")
	mustNotContain(t, "withdrawn", p, `id="withdraw"`) // nothing left to withdraw
	recs = csvRecords(t, st.get("/stats/tables/export?format=csv&view=table").Body)
	for _, r := range recs {
		if len(r) > 1 && r[0] == "total" && r[len(r)-1] != "0" && r[len(r)-1] != "" {
			t.Errorf("after the withdrawal the CSV's total line is %v", r)
		}
	}
	p = st.post("/stats/imports/withdraw", url.Values{"import": {imported}, "reason": {"again"}})
	wantStatus(t, "withdraw twice", p, http.StatusConflict)
	mustContain(t, "withdraw twice", p, "was withdrawn on")

	// The regulator reads the statistics; the auditor cannot download.
	reg := newBrowser(t, w.URL)
	reg.signIn(w.Admin)
	mustContain(t, "admin nav", reg.get("/"), `href="/stats/tables"`)
	mustNotContain(t, "admin nav", reg.get("/"), `href="/stats/imports"`)
}

func csvRecords(t *testing.T, body string) [][]string {
	t.Helper()
	r := csv.NewReader(strings.NewReader(body))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v\n%s", err, body)
	}
	return recs
}

// statsImportIDs are the ids of the registry's imports, newest first.
func statsImportIDs(t *testing.T, e *apptest.Env, token string) []string {
	t.Helper()
	list := e.Must(t, 200, "GET", "/api/v1/stats/imports", token, nil)
	var ids []string
	l, _ := list.Body["imports"].([]any)
	for _, im := range l {
		m, _ := im.(map[string]any)
		id, _ := m["id"].(string)
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		t.Fatalf("no imports: %s", list.Raw)
	}
	return ids
}
