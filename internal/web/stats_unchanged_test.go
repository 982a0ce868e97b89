package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// TestStatsImportUnchanged: a records file imported already and still
// counted, sent again (a retry after a lost answer), is no error of its
// sender, as a hash list the bank holds already is not: the page says
// nothing was imported, the API answers 200 with that import and
// "unchanged":true, nothing is logged, and the writer does not count it
// among the refusals (custos_commands_refused_total). A file of the same
// name but other records is imported.
func TestStatsImportUnchanged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		e := apptest.Start(t, dsn)
		office := e.Must(t, 201, "POST", "/api/v1/authorities", e.Admin, map[string]any{"name": "Statistics Office", "kind": "statistics_office"}).Str("id")
		token := e.Must(t, 201, "POST", "/api/v1/principals", e.Admin, map[string]any{"name": "Statistician", "role": "statistician", "authority_id": office}).Str("token")
		size := func() any { return e.Must(t, 200, "GET", "/api/v1/log/checkpoint", "", nil).Body["size"] }
		refusedRE := regexp.MustCompile(`(?m)^custos_commands_refused_total ([0-9]+)$`)
		refused := func() int {
			t.Helper()
			m := refusedRE.FindStringSubmatch(apptest.Metrics(t, e.URL))
			if m == nil {
				t.Fatal("/metrics has no custos_commands_refused_total")
			}
			n, _ := strconv.Atoi(m[1])
			return n
		}
		data := []byte("iccs,stage,unit,date,count\n0101,police,offence,2024-01-05,3\n0502,police,offence,2024-02,4\n")

		st := newBrowser(t, e.URL)
		st.signIn(token)
		p := st.postFile("/stats/imports", url.Values{}, "file", "records.csv", data)
		wantStatus(t, "import", p, http.StatusSeeOther)
		if loc := p.Header.Get("Location"); !strings.HasPrefix(loc, "/stats/imports?notice=") {
			t.Fatalf("after the import: %s", loc)
		}
		id := statsImportIDs(t, e, token)[0]
		before, refusedBefore := size(), refused()

		// The same file again, under another name: nothing imported, and
		// said so.
		p = st.postFile("/stats/imports", url.Values{}, "file", "records-retry.csv", data)
		wantStatus(t, "import again", p, http.StatusSeeOther)
		if loc := p.Header.Get("Location"); !strings.HasPrefix(loc, "/stats/imports?notice=") {
			t.Fatalf("after the same file again: %s, want the unchanged answer for %s", loc, id)
		}
		p = st.get(p.Header.Get("Location"))
		wantStatus(t, "import again", p, http.StatusOK)
		mustContain(t, "import again", p, "Nothing imported: the file was imported already as "+id+" (records.csv, 2 records) and is still counted; nothing is recorded.")
		mustNotContain(t, "import again", p, "records-retry.csv", `id="refusal`)

		// The API: 200, that import, unchanged.
		r := e.Upload(t, "/api/v1/stats/imports?source=again.csv", token, "text/csv", data)
		if r.Status != 200 || r.Str("id") != id || r.Body["unchanged"] != true || r.Str("source") != "records.csv" {
			t.Fatalf("the same file by the API: %d %s, want 200 unchanged import %s", r.Status, r.Raw, id)
		}
		if got := size(); got != before {
			t.Errorf("the same file again was logged: log %v, was %v", got, before)
		}
		if got := refused(); got != refusedBefore {
			t.Errorf("the same file again counted as refused: %d → %d", refusedBefore, got)
		}
		list := e.Must(t, 200, "GET", "/api/v1/stats/imports", token, nil)
		if l, _ := list.Body["imports"].([]any); len(l) != 1 {
			t.Errorf("imports after the same file again: %s", list.Raw)
		}

		// Other records under the same name: imported.
		other := []byte("iccs,stage,unit,date,count\n0101,police,offence,2024-01-05,3\n0502,police,offence,2024-02,5\n")
		r = e.Upload(t, "/api/v1/stats/imports?source=records.csv", token, "text/csv", other)
		if r.Status != 201 || r.Body["unchanged"] != nil || r.Str("id") == id {
			t.Errorf("other records under the same name: %d %s, want 201, a new import", r.Status, r.Raw)
		}
	})
}

// TestStatsImportRetryAfterNewVersion: a file imported under version 1 of
// a mapping, sent again naming no version after version 2 was published,
// is that import (unchanged, naming version 1), not the file coded anew
// under version 2 and refused imported_before; even when version 2 no
// longer maps one of its codes. Naming a version keeps the rule: the same
// file coded with another version is refused, nothing written.
func TestStatsImportRetryAfterNewVersion(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		e := apptest.Start(t, dsn)
		office := e.Must(t, 201, "POST", "/api/v1/authorities", e.Admin, map[string]any{"name": "Statistics Office", "kind": "statistics_office"}).Str("id")
		token := e.Must(t, 201, "POST", "/api/v1/principals", e.Admin, map[string]any{"name": "Statistician", "role": "statistician", "authority_id": office}).Str("token")
		row := func(code, iccs string) map[string]any {
			return map[string]any{"national_code": code, "national_label": code, "iccs": iccs}
		}
		e.Must(t, 201, "POST", "/api/v1/stats/mappings", token, map[string]any{"id": "penal", "name": "Penal code",
			"rows": []any{row("P-1", "0101"), row("P-2", "0502"), row("P-3", "0701")}})
		data := []byte("offence_code,stage,unit,date,count\nP-1,police,offence,2024-01-05,3\nP-3,police,offence,2024-02,4\n")
		first := e.Upload(t, "/api/v1/stats/imports?source=records.csv&mapping=penal", token, "text/csv", data)
		if first.Status != 201 {
			t.Fatalf("import: %d %s", first.Status, first.Raw)
		}
		id := first.Str("id")
		size := func() any { return e.Must(t, 200, "GET", "/api/v1/log/checkpoint", "", nil).Body["size"] }

		for _, tc := range []struct {
			name string
			rows []any
		}{
			{"version 2 recodes P-3", []any{row("P-1", "0101"), row("P-2", "0502"), row("P-3", "0702")}},
			{"version 3 no longer maps P-3", []any{row("P-1", "0101"), row("P-2", "0502")}},
		} {
			m := e.Must(t, 201, "POST", "/api/v1/stats/mappings", token, map[string]any{"id": "penal", "name": "Penal code", "rows": tc.rows})
			ver := m.Body["version"]
			before := size()
			r := e.Upload(t, "/api/v1/stats/imports?source=again.csv&mapping=penal", token, "text/csv", data)
			if r.Status != 200 || r.Str("id") != id || r.Body["unchanged"] != true || r.Body["mapping_version"] != float64(1) {
				t.Fatalf("%s: the retry naming no version: %d %s, want 200 unchanged import %s of version 1", tc.name, r.Status, r.Raw, id)
			}
			if got := size(); got != before {
				t.Errorf("%s: the retry was logged: log %v, was %v", tc.name, got, before)
			}
			// Naming the new version: today's rule.
			r = e.Upload(t, fmt.Sprintf("/api/v1/stats/imports?source=again.csv&mapping=penal&mapping_version=%v", ver), token, "text/csv", data)
			if r.Status < 400 || r.Body["unchanged"] != nil {
				t.Fatalf("%s: the file naming version %v: %d %s, want a refusal", tc.name, ver, r.Status, r.Raw)
			}
			if got := size(); got != before {
				t.Errorf("%s: the refusal was logged: log %v, was %v", tc.name, got, before)
			}
		}
		// Naming version 2 where P-3 is still mapped: imported_before.
		r := e.Upload(t, "/api/v1/stats/imports?source=again.csv&mapping=penal&mapping_version=2", token, "text/csv", data)
		if r.Status != 409 || !strings.Contains(string(r.Raw), "imported_before") || !strings.Contains(string(r.Raw), id) {
			t.Errorf("the file naming version 2: %d %s, want 409 imported_before naming %s", r.Status, r.Raw, id)
		}
		list := e.Must(t, 200, "GET", "/api/v1/stats/imports", token, nil)
		if l, _ := list.Body["imports"].([]any); len(l) != 1 {
			t.Errorf("imports after the retries: %s", list.Raw)
		}
	})
}
