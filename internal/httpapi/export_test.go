package httpapi_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/storetest"
)

// download GETs path with token and returns the status, the headers and the
// body.
func download(t *testing.T, w *apptest.Env, token, path string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", w.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, resp.Header, b
}

// exported is an export file read back: its header, column names and rows.
type exported struct {
	header  map[string]string
	columns []string
	rows    [][]string
}

func (e exported) ids() []string {
	var out []string
	for _, r := range e.rows {
		out = append(out, r[0])
	}
	return out
}

// readCSV reads an export in CSV: header lines, an empty line, the columns,
// the rows and the last line "rows,N", which must count them.
func readCSV(t *testing.T, b []byte) exported {
	t.Helper()
	cr := csv.NewReader(bytes.NewReader(b))
	cr.FieldsPerRecord = -1
	recs, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not parse: %v", err)
	}
	out := exported{header: map[string]string{}}
	i := 0
	for ; i < len(recs) && len(recs[i]) == 2; i++ {
		out.header[recs[i][0]] = recs[i][1]
	}
	// encoding/csv skips the empty line between the header and the columns.
	if i+1 >= len(recs) {
		t.Fatalf("the CSV ends in its header:\n%s", b)
	}
	out.columns = recs[i]
	last := recs[len(recs)-1]
	out.rows = recs[i+1 : len(recs)-1]
	if len(last) != 2 || last[0] != "rows" || last[1] != strconv.Itoa(len(out.rows)) {
		t.Errorf("the CSV's last line is %q, want rows,%d", last, len(out.rows))
	}
	return out
}

// readXLSX opens an export in XLSX with excelize: the list's sheet (columns,
// then rows) and the About sheet (the header, and the row count).
func readXLSX(t *testing.T, b []byte, list string) exported {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("excelize does not open the XLSX: %v", err)
	}
	defer f.Close()
	rows, err := f.GetRows(list)
	if err != nil {
		t.Fatalf("sheet %s: %v (sheets %v)", list, err, f.GetSheetList())
	}
	if len(rows) == 0 {
		t.Fatalf("sheet %s is empty", list)
	}
	out := exported{header: map[string]string{}, columns: rows[0], rows: rows[1:]}
	about, err := f.GetRows("About")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range about {
		if len(r) == 2 {
			out.header[r[0]] = r[1]
		}
	}
	if out.header["rows"] != strconv.Itoa(len(out.rows)) {
		t.Errorf("About says rows %q; the sheet holds %d", out.header["rows"], len(out.rows))
	}
	return out
}

// TestExportIsTheListAtItsCheckpoint exports a filtered list as CSV and as
// XLSX and checks each against the paged list read at the same log size:
// the same rows in the same order, and a header that names the registry, the
// list, the filter and the checkpoint (size and root) the rows reflect, and
// the export's own log entry.
func TestExportIsTheListAtItsCheckpoint(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		for i, d := range []struct{ token, centre, bg string }{
			{w.CoordA, w.CentreA, "O"}, {w.CoordA, w.CentreA, "A"}, {w.CoordB, w.CentreB, "O"}, {w.CoordA, w.CentreA, "O"},
			{w.CoordA, w.CentreA, "O"}, {w.CoordB, w.CentreB, "O"}, {w.CoordA, w.CentreA, "O"},
		} {
			if r := donorAt(t, w, d.token, d.centre, d.bg); r.Status != 201 {
				t.Fatalf("donor %d: %s", i, r.Raw)
			}
		}
		filter := url.Values{"centre_id": {w.CentreA}, "blood_group": {"O"}}
		want := walk(t, w, w.Regulator, "/api/v1/transplant/donors?limit=2&"+filter.Encode(), "donors", nil)
		if len(want) != 4 {
			t.Fatalf("the filtered list has %d donors, want 4", len(want))
		}
		for _, format := range []string{"csv", "xlsx"} {
			cp := w.ServedRoot(t)
			size := cp.Size
			status, h, b := download(t, w.Env, w.Regulator, "/api/v1/transplant/donors?format="+format+"&"+filter.Encode())
			if status != 200 {
				t.Fatalf("%s: status %d: %s", format, status, b)
			}
			if !strings.Contains(h.Get("Content-Disposition"), "attachment") || !strings.Contains(h.Get("Content-Disposition"), "."+format) {
				t.Errorf("%s: Content-Disposition %q", format, h.Get("Content-Disposition"))
			}
			var e exported
			if format == "csv" {
				e = readCSV(t, b)
			} else {
				e = readXLSX(t, b, "donors")
			}
			if got := strings.Join(e.ids(), " "); got != strings.Join(want, " ") {
				t.Errorf("%s: the export lists %s; the paged list %s", format, got, strings.Join(want, " "))
			}
			if len(e.columns) < 5 || e.columns[0] != "id" || e.columns[2] != "centre_id" || e.columns[4] != "blood_group" {
				t.Fatalf("%s: columns %v", format, e.columns)
			}
			for _, r := range e.rows {
				if r[2] != w.CentreA || r[4] != "O" {
					t.Errorf("%s: row %v is not of the filter", format, r)
				}
			}
			for _, c := range e.columns {
				if c == "person_pseudonym" || c == "subject_ref" || c == "name" || c == "national_id" {
					t.Errorf("%s: the export has the column %s", format, c)
				}
			}
			root := cp.Text()
			if format == "csv" {
				root = export.Cell(root) // a root starting with + is defused, as a cell is
			}
			for k, v := range map[string]string{
				"registry": "transplant", "list": "donors", "filter": filter.Encode(),
				"log checkpoint size": strconv.Itoa(size), "log checkpoint root": root,
				"export log entry": strconv.Itoa(size),
			} {
				if e.header[k] != v {
					t.Errorf("%s: header %q is %q, want %q", format, k, e.header[k], v)
				}
			}
			// The answer's headers name the same checkpoint and entry.
			for name, want := range map[string]string{export.LogSizeHeader: strconv.Itoa(size), export.LogRootHeader: cp.Base64,
				export.LogEntryHeader: e.header["export log entry"]} {
				if got := h.Get(name); got != want {
					t.Errorf("%s: header %s is %q, want %q", format, name, got, want)
				}
			}
			if !strings.HasPrefix(e.header["personal data"], "yes") || !strings.HasSuffix(e.header["exported at (UTC)"], "Z") {
				t.Errorf("%s: header %v", format, e.header)
			}
			// The export's log entry says who exported what, reflecting which
			// checkpoint.
			leaf := w.Must(t, 200, "GET", "/api/v1/log/entries/"+e.header["export log entry"], w.Auditor, nil)
			if lines := strings.Split(leaf.Str("checkpoint"), "\n"); len(lines) < 3 || leaf.Str("root") != lines[2] {
				t.Errorf("%s: the leaf's root %q is not its checkpoint's root line in %q", format, leaf.Str("root"), leaf.Str("checkpoint"))
			}
			var entry struct {
				Type string      `json:"type"`
				Data export.Made `json:"data"`
			}
			if err := json.Unmarshal([]byte(leaf.Str("data")), &entry); err != nil {
				t.Fatal(err)
			}
			if entry.Type != export.TypeMade || entry.Data.List != "donors" || entry.Data.Filter != filter.Encode() ||
				entry.Data.CheckpointSize != uint64(size) || entry.Data.CheckpointRoot != cp.Hex ||
				entry.Data.Format != format || !entry.Data.Personal || entry.Data.ID != e.header["export id"] {
				t.Errorf("%s: the export's log entry is %s", format, leaf.Str("data"))
			}
		}
	})
}

// TestExportRefusals: an unknown format, a page's parameters, a filter the
// list lacks, and the personal lists for those who may not open personal
// data, are refused with the usual error body; organs, which carry none,
// export for every reader.
func TestExportRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		donorAt(t, w, w.CoordA, w.CentreA, "O")
		for _, c := range []struct {
			token, path     string
			status          int
			code, rule, fld string
		}{
			{w.Regulator, "/api/v1/transplant/donors?format=pdf", 422, "invalid", "format", "format"},
			{w.Regulator, "/api/v1/transplant/donors?format=", 422, "invalid", "format", "format"},
			{w.Regulator, "/api/v1/transplant/donors?format=csv&format=xlsx", 422, "invalid", "query", "format"},
			{w.Regulator, "/api/v1/transplant/donors?format=csv&limit=10", 422, "invalid", "query", "limit"},
			{w.Regulator, "/api/v1/transplant/organs?format=csv&cursor=abc", 422, "invalid", "query", "cursor"},
			{w.Regulator, "/api/v1/transplant/donors?format=csv&organ=kidney", 422, "invalid", "query", "organ"},
			{w.Regulator, "/api/v1/transplant/donors?format=csv&blood_group=Q", 422, "invalid", "", "blood_group"},
			{w.Auditor, "/api/v1/transplant/donors?format=csv", 403, "forbidden", "", ""},
			{w.Admin, "/api/v1/transplant/recipients?format=xlsx", 403, "forbidden", "", ""},
			{w.CoordA, "/api/v1/transplant/donors?format=csv", 403, "forbidden", "own_centre", "centre_id"},
			{w.CoordA, "/api/v1/transplant/donors?format=csv&centre_id=" + w.CentreB, 403, "forbidden", "own_centre", "centre_id"},
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
		for _, c := range []struct{ token, path string }{
			{w.CoordA, "/api/v1/transplant/donors?format=csv&centre_id=" + w.CentreA},
			{w.Auditor, "/api/v1/transplant/organs?format=xlsx"},
			{w.Auditor, "/api/v1/transplant/transplant-authorizations?format=csv"},
			{w.Regulator, "/api/v1/donors?format=csv"}, // the deprecated alias
		} {
			if status, _, b := download(t, w.Env, c.token, c.path); status != 200 {
				t.Errorf("%s: %d %s", c.path, status, b)
			}
		}
	})
}

// TestExportReadsOneSnapshot: what an export reads sees the state of the
// checkpoint it names, however many writes land while it runs.
func TestExportReadsOneSnapshot(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		donorAt(t, w, w.CoordA, w.CentreA, "O")
		db := w.App.DB
		count := func(ctx context.Context) int {
			var n int
			if err := db.Read().QueryRow(ctx, "SELECT COUNT(*) FROM donors").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		req := export.Request{Registry: "transplant", List: "counts", Format: export.CSV, Columns: []string{"donors"},
			Rows: func(ctx context.Context) iter.Seq2[[]any, error] {
				return func(yield func([]any, error) bool) {
					for range 3 {
						n := count(ctx)
						if r := donorAt(t, w, w.CoordA, w.CentreA, "O"); r.Status != 201 {
							t.Fatalf("donor: %s", r.Raw)
						}
						if !yield([]any{n}, nil) {
							return
						}
					}
				}
			}}
		var buf bytes.Buffer
		n, err := export.Export(context.Background(), db, w.App.Writer, w.Principal(t, w.Regulator).Actor(), req, nil, &buf)
		if err != nil || n != 3 {
			t.Fatalf("export: %d rows, %v", n, err)
		}
		e := readCSV(t, buf.Bytes())
		for _, r := range e.rows {
			if r[0] != "1" {
				t.Errorf("the export saw %s donors; its snapshot holds 1:\n%s", r[0], buf.Bytes())
			}
		}
		if got := count(context.Background()); got != 4 {
			t.Errorf("after the export the registry holds %d donors, want 4", got)
		}
	})
}

// TestExportAuthorities: the core's list of authorities exports too, by
// kind, for those who may read it.
func TestExportAuthorities(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		status, _, b := download(t, w.Env, w.Auditor, "/api/v1/authorities?kind=transplant_centre&format=csv")
		if status != 200 {
			t.Fatalf("%d %s", status, b)
		}
		e := readCSV(t, b)
		if got := strings.Join(e.ids(), " "); e.header["registry"] != "core" || e.header["filter"] != "kind=transplant_centre" ||
			!strings.Contains(got, w.CentreA) || !strings.Contains(got, w.CentreB) || strings.Contains(got, w.RegulatorAuthority) {
			t.Errorf("authorities export: %v %v", e.header, got)
		}
		for _, c := range []struct {
			token, path string
			status      int
		}{
			{w.Auditor, "/api/v1/authorities?format=ods", 422},
			{w.Auditor, "/api/v1/authorities?format=csv&limit=3", 422},
			{w.Auditor, "/api/v1/authorities?format=csv&kind=nope", 422},
			{w.CoordA, "/api/v1/authorities?format=csv", 403},
		} {
			if r := w.Do(t, "GET", c.path, c.token, nil); r.Status != c.status {
				t.Errorf("%s: %d %s", c.path, r.Status, r.Raw)
			}
		}
	})
}
