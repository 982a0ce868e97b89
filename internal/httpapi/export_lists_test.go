package httpapi_test

import (
	"context"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

// exportMatches downloads path (a list with its filter) as CSV and as XLSX
// with token, and checks each file against want, the values of column col
// of the paged list walked with the same filter: the same rows in the same
// order, and a header that names the registry, the list, the filter and the
// checkpoint, the log's size when the export was made. It returns the CSV.
func exportMatches(t *testing.T, e *apptest.Env, token, path, registry, list, col string, want []string) exported {
	t.Helper()
	base, query, _ := strings.Cut(path, "?")
	filter, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	var csvFile exported
	for _, format := range []string{"csv", "xlsx"} {
		size := logSize(t, e)
		q := url.Values{}
		for k, vs := range filter {
			q[k] = vs
		}
		q.Set("format", format)
		status, h, b := download(t, e, token, base+"?"+q.Encode())
		if status != 200 {
			t.Fatalf("%s as %s: %d %s", path, format, status, b)
		}
		var got exported
		if format == "csv" {
			got = readCSV(t, b)
			csvFile = got
		} else {
			got = readXLSX(t, b, list)
		}
		i := slices.Index(got.columns, col)
		if i < 0 {
			t.Fatalf("%s as %s: no column %s in %v", path, format, col, got.columns)
		}
		var values []string
		for _, r := range got.rows {
			values = append(values, r[i])
		}
		if strings.Join(values, " ") != strings.Join(want, " ") {
			t.Errorf("%s as %s: the export lists %v; the paged list %v", path, format, values, want)
		}
		wantFilter := filter.Encode()
		if wantFilter == "" {
			wantFilter = "none"
		}
		for k, v := range map[string]string{"registry": registry, "list": list, "filter": wantFilter,
			"log checkpoint size": strconv.Itoa(size), "export log entry": strconv.Itoa(size), "personal data": "no"} {
			if got.header[k] != v {
				t.Errorf("%s as %s: header %q is %q, want %q", path, format, k, got.header[k], v)
			}
		}
		if h.Get("Custos-Log-Size") != strconv.Itoa(size) {
			t.Errorf("%s as %s: Custos-Log-Size %q, want %d", path, format, h.Get("Custos-Log-Size"), size)
		}
		for _, c := range got.columns {
			if c == "user_pseudonym" || c == "content_ref" || c == "notes" {
				t.Errorf("%s as %s: the export has the column %s", path, format, c)
			}
		}
	}
	return csvFile
}

// TestExportHashmatchLists exports each filtered list of the hash-matching
// registry and checks it holds exactly the rows of the paged list, at the
// checkpoint it names; a service's export holds its own cases only; a bank's
// entries export to its owner's analysts only; a bad format or filter is
// refused without a log entry.
func TestExportHashmatchLists(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		// An entry is quarantined at its second match when another service
		// made it: e4, matched twice by the service, then by the other.
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{QuarantineLimit: 2})
		bankA, bankB := w.Bank(t, "A"), w.Bank(t, "B")
		publish(t, w, bankA, 1, 2, 3, 4)
		publish(t, w, bankA, 5)
		publish(t, w, bankB, 21)
		w.Subscribe(t, bankA)
		w.Subscribe(t, bankB)
		w.SubscribeOther(t, bankA)
		matched(t, w, 4)
		matched(t, w, 4)
		q3 := matchedAs(t, w, w.OtherService, 4)[0]
		c1, c2, c3 := matched(t, w, 1)[0], matched(t, w, 2)[0], matched(t, w, 3)[0]
		matched(t, w, 21)
		for id, d := range map[string]string{c1: "confirm", c2: "reject", c3: "confirm"} {
			w.Must(t, 200, "POST", "/api/v1/hashmatch/cases/"+id+"/review", w.Reviewer, map[string]any{"decision": d})
		}
		r1 := w.Must(t, 201, "POST", "/api/v1/hashmatch/cases/"+c1+"/report", w.Reviewer, map[string]any{"incident_type": "other"}).Str("id")
		w.Must(t, 201, "POST", "/api/v1/hashmatch/cases/"+c3+"/report", w.Reviewer, map[string]any{"incident_type": "other", "authority_id": w.Other})
		w.Must(t, 200, "POST", "/api/v1/hashmatch/reports/"+r1+"/acknowledge", w.Analyst, map[string]any{"reference": "CT-1"})

		for _, c := range []struct {
			token, path, list, key, col string
			n                           int // rows the filter selects
		}{
			{w.Reviewer, "/api/v1/hashmatch/cases?bank_id=" + bankA + "&status=open", "cases", "cases", "id", 2},
			{w.Service, "/api/v1/hashmatch/cases?status=confirmed", "cases", "cases", "id", 2},
			{w.Reviewer, "/api/v1/hashmatch/reports?status=sent", "reports", "reports", "id", 1},
			{w.Analyst, "/api/v1/hashmatch/reports?status=acknowledged&provider_id=" + w.Provider, "reports", "reports", "id", 1},
			{w.Analyst, "/api/v1/hashmatch/banks/" + bankA + "/entries?status=active", "entries", "entries", "entry_id", 4},
			{w.Analyst, "/api/v1/hashmatch/banks/" + bankA + "/entries?status=quarantined", "entries", "entries", "entry_id", 1},
			{w.Reviewer, "/api/v1/hashmatch/banks/" + bankA + "/versions", "versions", "versions", "version", 2},
		} {
			sep := "?"
			if strings.Contains(c.path, "?") {
				sep = "&"
			}
			_, rows := walkRows(t, w, c.token, c.path+sep+"limit=1", c.key, nil)
			want := column(rows, c.col)
			if len(want) != c.n {
				t.Fatalf("%s: the paged list has %d rows, want %d: %v", c.path, len(want), c.n, want)
			}
			exportMatches(t, w.Env, c.token, c.path, "hashmatch", c.list, c.col, want)
		}

		// A service exports its own cases only, whatever it asks: the other
		// service's file holds the one case it opened.
		if e := exportMatches(t, w.Env, w.OtherReviewer, "/api/v1/hashmatch/cases?bank_id="+bankA, "hashmatch", "cases", "id", []string{q3}); len(e.rows) != 1 {
			t.Errorf("another service's export holds %d cases, want its own one", len(e.rows))
		}

		for _, c := range []struct {
			token, path     string
			status          int
			code, rule, fld string
		}{
			{w.OtherAnalyst, "/api/v1/hashmatch/banks/" + bankA + "/entries?format=csv", 403, "forbidden", "own_bank", "bank_id"},
			{w.Reviewer, "/api/v1/hashmatch/banks/" + bankA + "/entries?format=xlsx", 403, "forbidden", "", ""},
			{w.Reviewer, "/api/v1/hashmatch/cases?format=pdf", 422, "invalid", "format", "format"},
			{w.Reviewer, "/api/v1/hashmatch/cases?format=csv&limit=2", 422, "invalid", "query", "limit"},
			{w.Reviewer, "/api/v1/hashmatch/cases?format=csv&provider_id=" + w.Provider, 422, "invalid", "query", "provider_id"},
			{w.Reviewer, "/api/v1/hashmatch/reports?format=csv&status=lost", 422, "invalid", "", "status"},
			{w.Regulator, "/api/v1/hashmatch/cases?format=csv", 403, "forbidden", "", ""},
			{w.Analyst, "/api/v1/hashmatch/banks/" + bankA + "/versions?format=csv&from=2024-02-30", 422, "invalid", "date_format", "from"},
		} {
			before := logSize(t, w)
			r := w.Do(t, "GET", c.path, c.token, nil)
			if r.Status != c.status || r.Str("error.code") != c.code || (c.rule != "" && r.Str("error.rule") != c.rule) ||
				(c.fld != "" && r.Str("error.field") != c.fld) {
				t.Errorf("%s: %d %s", c.path, r.Status, r.Raw)
			}
			if after := logSize(t, w); after != before {
				t.Errorf("%s: a refused export wrote %d log entries", c.path, after-before)
			}
		}
	})
}

// TestExportAlerts exports filtered alerts and checks the file holds exactly
// the rows of the paged list at the checkpoint it names; who may not read
// alerts, a bad format and an unknown rule are refused without a log entry.
func TestExportAlerts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorldWith(t, dsn, func(c *server.Config) { c.AlertWindow = -1 })
		for range 4 {
			w.Must(t, 403, "POST", "/api/v1/transplant/donors", w.CoordA, apptest.DeceasedDonor(w.CentreB))
		}
		w.Must(t, 403, "POST", "/api/v1/transplant/donors", w.CoordB, apptest.DeceasedDonor(w.CentreA))
		atA := walk(t, w, w.Regulator, "/api/v1/alerts?authority_id="+w.CentreA, "alerts", nil)
		if len(atA) != 4 {
			t.Fatalf("%d alerts of centre A, want 4", len(atA))
		}
		w.Must(t, 200, "POST", "/api/v1/alerts/"+atA[1]+"/acknowledge", w.Regulator, nil)
		path := "/api/v1/alerts?authority_id=" + w.CentreA + "&rule=own_centre&state=open"
		want := walk(t, w, w.Regulator, path+"&limit=1", "alerts", nil)
		if len(want) != 3 {
			t.Fatalf("%d open alerts of centre A, want 3", len(want))
		}
		e := exportMatches(t, w.Env, w.Auditor, path, "core", "alerts", "id", want)
		if i := slices.Index(e.columns, "state"); i < 0 || e.rows[0][i] != "open" {
			t.Errorf("columns %v, first row %v", e.columns, e.rows[0])
		}
		exportMatches(t, w.Env, w.Regulator, "/api/v1/alerts?state=acknowledged", "core", "alerts", "id", atA[1:2])
		for _, c := range []struct {
			token, path     string
			status          int
			code, rule, fld string
		}{
			{w.CoordA, "/api/v1/alerts?format=csv", 403, "forbidden", "", ""},
			{w.Regulator, "/api/v1/alerts?format=ods", 422, "invalid", "format", "format"},
			{w.Regulator, "/api/v1/alerts?format=csv&rule=no_such_rule", 422, "invalid", "enum", "rule"},
			{w.Regulator, "/api/v1/alerts?format=xlsx&cursor=abc", 422, "invalid", "query", "cursor"},
		} {
			before := logSize(t, w)
			r := w.Do(t, "GET", c.path, c.token, nil)
			if r.Status != c.status || r.Str("error.code") != c.code || (c.rule != "" && r.Str("error.rule") != c.rule) ||
				(c.fld != "" && r.Str("error.field") != c.fld) {
				t.Errorf("%s: %d %s", c.path, r.Status, r.Raw)
			}
			if after := logSize(t, w); after != before {
				t.Errorf("%s: a refused export wrote %d log entries", c.path, after-before)
			}
		}
		// HEAD is not a download: no file is made and no export logged.
		before := logSize(t, w)
		if r := w.Do(t, "HEAD", path+"&format=csv", w.Regulator, nil); r.Status != 405 || r.Header.Get("Allow") != "GET" {
			t.Errorf("HEAD of an export: %d, Allow %q", r.Status, r.Header.Get("Allow"))
		}
		if after := logSize(t, w); after != before {
			t.Errorf("HEAD of an export wrote %d log entries", after-before)
		}
	})
}

// TestExportCasesNameBankVersion: the review queue's export names the version
// of the bank each case's best match searched (bank_version), in CSV and
// XLSX; a case opened before custos recorded it (its matches' bank_version
// NULL, as migration hashmatch 12 leaves them) has an empty cell, as every
// value an export's record does not hold, never a 0 that would read as a
// version.
func TestExportCasesNameBankVersion(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		bank := w.Bank(t, "A")
		publish(t, w, bank, 1)
		w.Subscribe(t, bank)
		old := matched(t, w, 1)[0]
		publish(t, w, bank, 2)
		current := matched(t, w, 1)[0]
		if _, err := w.App.DB.Read().Exec(context.Background(), `UPDATE hm_case_matches SET bank_version = NULL WHERE case_id = '`+old+`'`); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{current: "2", old: ""}
		for _, format := range []string{"csv", "xlsx"} {
			status, _, b := download(t, w.Env, w.Reviewer, "/api/v1/hashmatch/cases?status=open&format="+format)
			if status != 200 {
				t.Fatalf("export as %s: %d %s", format, status, b)
			}
			got := readCSV
			if format == "xlsx" {
				got = func(t *testing.T, b []byte) exported { return readXLSX(t, b, "cases") }
			}
			e := got(t, b)
			id, v := slices.Index(e.columns, "id"), slices.Index(e.columns, "bank_version")
			if v < 0 {
				t.Fatalf("export as %s: no column bank_version in %v", format, e.columns)
			}
			seen := map[string]string{}
			for _, r := range e.rows {
				cell := ""
				if v < len(r) { // excelize leaves a row's empty cells at its end out
					cell = r[v]
				}
				seen[r[id]] = cell
			}
			for c, wv := range want {
				if gv, ok := seen[c]; !ok || gv != wv {
					t.Errorf("export as %s: case %s has bank_version %q (listed %v), want %q", format, c, gv, ok, wv)
				}
			}
		}
	})
}
