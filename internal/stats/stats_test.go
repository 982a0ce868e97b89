package stats_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/disclosure"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/stats"
	"github.com/custos-project/custos/internal/stats/statstest"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
)

// world is a registry with a statistics office and its statistician.
type world struct {
	*apptest.Env
	S            *stats.Service
	Statistician *auth.Principal
	Token        string // the statistician's
	Regulator    *auth.Principal
}

func newWorld(t *testing.T, dsn string) *world { return newWorldB(t, dsn) }

func newWorldB(t testing.TB, dsn string) *world {
	t.Helper()
	e := apptest.Start(t, dsn)
	office := e.Must(t, 201, "POST", "/api/v1/authorities", e.Admin, map[string]any{"name": "Demoland Statistics Office", "kind": "statistics_office"}).Str("id")
	token := e.Must(t, 201, "POST", "/api/v1/principals", e.Admin, map[string]any{"name": "Statistician", "role": "statistician", "authority_id": office}).Str("token")
	return &world{Env: e, S: e.App.Service("stats").(*stats.Service), Statistician: e.Principal(t, token), Token: token, Regulator: e.Principal(t, e.Admin)}
}

func (w *world) mapping(t *testing.T) *stats.Mapping { return w.mappingB(t) }

func (w *world) mappingB(t testing.TB) *stats.Mapping {
	t.Helper()
	rows, err := stats.ParseMapping(strings.NewReader(statstest.Mapping))
	if err != nil {
		t.Fatal(err)
	}
	m, err := w.S.PublishMapping(context.Background(), w.Statistician, stats.NewMapping{ID: "demoland-penal-code", Name: "Demoland penal code 2019", Rows: rows})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// file is a records file and its rows as maps, for computing the counts
// a query must give without custos.
type file struct {
	data []byte
	rows []map[string]string
}

func makeFile(t *testing.T, n int, o statstest.Options) *file {
	t.Helper()
	var b bytes.Buffer
	if err := statstest.Write(&b, n, o); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(b.Bytes())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	f := &file{data: b.Bytes()}
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = r[i]
		}
		f.rows = append(f.rows, m)
	}
	return f
}

var mapped = func() map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(statstest.Mapping), "\n")[1:] {
		f := strings.Split(l, ",")
		m[f[0]] = f[2]
	}
	return m
}()

func or(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func band(s string) string {
	if s == "" {
		return "unknown"
	}
	a, _ := strconv.Atoi(s)
	for _, b := range []struct {
		hi   int
		name string
	}{{14, "0-14"}, {17, "15-17"}, {24, "18-24"}, {34, "25-34"}, {44, "35-44"}, {54, "45-54"}, {64, "55-64"}} {
		if a <= b.hi {
			return b.name
		}
	}
	return "65+"
}

// value is what a row holds for a dimension, computed here from the file.
func value(r map[string]string, dim string, q stats.Query) string {
	switch dim {
	case "iccs":
		code := mapped[r["offence_code"]]
		if n := map[int]int{1: 2, 2: 4, 3: 5, 4: 6}[q.Level]; len(code) > n {
			code = code[:n]
		}
		return code
	case "period":
		d := r["date"]
		switch q.Period {
		case "year":
			return d[:4]
		case "quarter":
			if len(d) == 4 {
				return d + "-U"
			}
			m, _ := strconv.Atoi(d[5:7])
			return fmt.Sprintf("%s-Q%d", d[:4], (m-1)/3+1)
		}
		if len(d) == 4 {
			return d + "-U"
		}
		return d[:7]
	case "sex", "age_band":
		who := map[string]string{"victim": "victim", "person": "perpetrator"}[r["unit"]]
		if who == "" {
			return "unknown"
		}
		if dim == "sex" {
			return or(r[who+"_sex"], "unknown")
		}
		return band(r[who+"_age"])
	case "victim_age_band":
		return band(r["victim_age"])
	case "perpetrator_age_band":
		return band(r["perpetrator_age"])
	case "juvenile":
		if a := r["perpetrator_age"]; a != "" {
			if n, _ := strconv.Atoi(a); n < 18 {
				return "juvenile"
			}
			return "adult"
		}
	}
	return or(r[dim], "unknown")
}

// expect counts q over the file's rows, totals included when asked.
func (f *file) expect(q stats.Query) map[string]int64 {
	var dims []string
	if q.Level > 0 {
		dims = append(dims, "iccs")
	}
	dims = append(dims, q.By...)
	if q.Period != "" {
		dims = append(dims, "period")
	}
	out := map[string]int64{}
	for _, r := range f.rows {
		if r["stage"] != q.Stage || r["unit"] != q.Unit {
			continue
		}
		if q.From != "" && r["date"][:4] < q.From || q.To != "" && r["date"][:4] > q.To {
			continue
		}
		keep := true
		for d, vs := range q.Filter {
			keep = keep && slices.Contains(vs, value(r, d, q))
		}
		if len(q.ICCS) > 0 {
			in := false
			for _, c := range q.ICCS {
				in = in || strings.HasPrefix(mapped[r["offence_code"]], c)
			}
			keep = keep && in
		}
		if !keep {
			continue
		}
		n := int64(1)
		if c := r["count"]; c != "" {
			n, _ = strconv.ParseInt(c, 10, 64)
		}
		key := make([]string, len(dims))
		for i, d := range dims {
			key[i] = value(r, d, q)
		}
		masks := 1
		if q.Totals {
			masks = 1 << len(dims)
		}
		for m := range masks {
			k := slices.Clone(key)
			for i := range k {
				if m&(1<<i) != 0 {
					k[i] = stats.Total
				}
			}
			out[strings.Join(k, "|")] += n
		}
	}
	return out
}

func cells(r *stats.Result) map[string]int64 {
	out := map[string]int64{}
	for _, c := range r.Cells {
		out[strings.Join(c.Key, "|")] = c.Count
	}
	return out
}

func same(t *testing.T, name string, got, want map[string]int64) {
	t.Helper()
	if len(want) == 0 {
		t.Errorf("%s: the file has nothing to count: the test checks nothing", name)
	}
	if maps.Equal(got, want) {
		return
	}
	n := 0
	for k, v := range want {
		if got[k] != v && n < 10 {
			t.Errorf("%s: cell %s = %d, want %d", name, k, got[k], v)
			n++
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok && n < 10 {
			t.Errorf("%s: cell %s = %d, want none", name, k, v)
			n++
		}
	}
	t.Errorf("%s: %d cells, want %d", name, len(got), len(want))
}

// queries are the aggregations every backend is checked with.
var queries = []stats.Query{
	{Stage: "police", Unit: "offence", Level: 1, Period: "year", Totals: true},
	{Stage: "police", Unit: "victim", Level: 2, By: []string{"sex", "age_band"}, Period: "year", Totals: true},
	{Stage: "courts", Unit: "person", Level: 3, By: []string{"juvenile", "perpetrator_citizenship"}, Period: "quarter", Totals: true},
	{Stage: "prisons", Unit: "person", Level: 4, By: []string{"recidivism", "region"}, Period: "month"},
	{Stage: "police", Unit: "offence", Level: 2, By: []string{"attempt", "weapon", "context", "cyber"}, Totals: true},
	{Stage: "police", Unit: "victim", Level: 0, By: []string{"relationship", "victim_citizenship", "victim_age_band"}, Totals: true,
		Filter: map[string][]string{"region": {"North", "Capital"}}},
	{Stage: "prosecution", Unit: "person", Level: 2, ICCS: []string{"02", "0701"}, By: []string{"perpetrator_sex", "perpetrator_age_band"}, From: "2022", To: "2023", Totals: true},
	{Stage: "police", Unit: "person", Level: 1, By: []string{"sex"}, Period: "year", From: "2022", To: "2022", Totals: true},
}

func TestImportAndAggregate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newWorld(t, dsn)
		m := w.mapping(t)
		if m.Version != 1 || m.Codes != 16 || len(m.Ambiguous) != 0 {
			t.Errorf("mapping: %+v", m)
		}
		f := makeFile(t, 70000, statstest.Options{Seed: 7, Counts: true})
		var phases []string
		im, err := w.S.Import(ctx, w.Statistician, stats.ImportRequest{Source: "/tmp/police-2021-2023.csv", Mapping: m.ID}, bytes.NewReader(f.data), int64(len(f.data)),
			func(phase string, done, size int64) {
				if len(phases) == 0 || phases[len(phases)-1] != phase {
					phases = append(phases, phase)
				}
			})
		if err != nil {
			t.Fatal(err)
		}
		if im.Records != 70000 || im.Chunks != 2 || im.Source != "police-2021-2023.csv" || im.MappingVersion != 1 || im.FirstDate[:4] != "2021" || im.LastDate[:4] != "2023" {
			t.Errorf("import: %+v", im)
		}
		if strings.Join(phases, " ") != "validate store" {
			t.Errorf("progress phases %v", phases)
		}
		var total int64
		for _, r := range f.rows {
			n := int64(1)
			if c := r["count"]; c != "" {
				n, _ = strconv.ParseInt(c, 10, 64)
			}
			total += n
		}
		if im.Total != total {
			t.Errorf("import total %d, the file counts %d", im.Total, total)
		}
		if w.App.DB.Dialect == store.Postgres {
			// Migration 2 stores the chunks uncompressed, out of line.
			var storage string
			if err := w.App.DB.Read().QueryRow(ctx, "SELECT attstorage FROM pg_attribute WHERE attrelid = 'stats_columns'::regclass AND attname = 'data'").Scan(&storage); err != nil {
				t.Fatal(err)
			}
			if storage != "e" {
				t.Errorf("stats_columns.data has storage %q, want e (EXTERNAL)", storage)
			}
		}
		// Counted as one read of both chunks, as two reads on two
		// connections at once, and in a snapshot (one connection).
		snap, err := w.App.DB.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer snap.Rollback()
		if n, one := w.App.DB.Readers(ctx), w.App.DB.Readers(store.InSnapshot(ctx, snap)); n < 2 || one != 1 {
			t.Errorf("reads at once: %d from the pool, %d in a snapshot; want several and one", n, one)
		}
		for _, how := range []struct {
			name string
			per  int
			ctx  context.Context
		}{{"one read", 8, ctx}, {"two readers", 1, ctx}, {"snapshot", 1, store.InSnapshot(ctx, snap)}} {
			restore := stats.SetChunksPerRead(how.per)
			for i, q := range queries {
				res, err := w.S.Aggregate(how.ctx, w.Regulator, q)
				if err != nil {
					t.Fatalf("%s: query %d: %v", how.name, i, err)
				}
				same(t, fmt.Sprintf("%s: query %d", how.name, i), cells(res), f.expect(q))
				if res.Records != 70000 {
					t.Errorf("%s: query %d read %d records, want 70000", how.name, i, res.Records)
				}
			}
			restore()
		}
	})
}

// TestImportRefusals: each bad file is refused naming its rule and field,
// and stores nothing, on both engines.
func TestImportRefusals(t *testing.T) {
	storetest.Each(t, testImportRefusals)
}

func testImportRefusals(t *testing.T, dsn string) {
	ctx := context.Background()
	w := newWorld(t, dsn)
	m := w.mapping(t)
	good := statstest.Header + "\nN001,police,offence,2024-03-01,North,,,,,,,,,,,,,,\n"
	for _, c := range []struct {
		name, file, rule, field, msg string
	}{
		{"unmapped", good + "N999,police,offence,2024,,,,,,,,,,,,,,,\n", "unmapped_offence", "offence_code", "line 3: offence code N999 is not in mapping demoland-penal-code version 1"},
		{"stage", good + "N001,court,offence,2024,,,,,,,,,,,,,,,\n", "enum", "stage", "line 3: stage must be one of police, prosecution, courts, prisons"},
		{"unit", good + "N001,police,offences,2024,,,,,,,,,,,,,,,\n", "enum", "unit", "line 3: unit must be one of offence, victim, person"},
		{"unknown stage", good + "N001,unknown,offence,2024,,,,,,,,,,,,,,,\n", "required", "stage", "line 3: stage is required"},
		{"victim at court", good + "N001,courts,victim,2024,,,,,,,,,,,,,,,\n", "victim_stage", "unit", "line 3: victims are counted"},
		{"offence in prison", good + "N001,prisons,offence,2024,,,,,,,,,,,,,,,\n", "offence_stage", "unit", "line 3: offences are counted"},
		{"date", good + "N001,police,offence,2024-13,,,,,,,,,,,,,,,\n", "date_format", "date", "line 3: date must be written"},
		{"future", good + "N001,police,offence,2999,,,,,,,,,,,,,,,\n", "not_future", "date", "line 3: date 2999 is in the future"},
		{"age", good + "N001,police,victim,2024,,,,,,,,121,,,,,,,\n", "range", "victim_age", "line 3: victim_age must be"},
		{"juvenile", good + "N001,courts,person,2024,,,,,,,,,,,,15,adult,,\n", "juvenile_age", "juvenile", "line 3: juvenile is adult but perpetrator_age is 15"},
		{"count", good + "N001,police,offence,2024,,0,,,,,,,,,,,,,\n", "range", "count", "line 3: count must be"},
		{"count with a sign", good + "N001,police,offence,2024,,+5,,,,,,,,,,,,,\n", "range", "count", "line 3: count must be"},
		{"count of zeros", good + "N001,police,offence,2024,,00000000005,,,,,,,,,,,,,\n", "range", "count", "line 3: count must be"},
		{"age with a sign", good + "N001,police,victim,2024,,,,,,,,+30,,,,,,,\n", "range", "victim_age", "line 3: victim_age must be"},
		{"columns", "offence_code,stage,unit,date,colour\n", "column", "header", `"colour" is not a column`},
		{"missing column", "offence_code,stage,date\n", "column", "unit", "the file has no column unit"},
		{"short row", good + "N001,police\n", "csv", "file", "line 3: the CSV cannot be read"},
		{"region", good + "N001,police,offence,2024,a\tb,,,,,,,,,,,,,,\n", "control_character", "region", "line 3: region is not a code"},
		{"empty", statstest.Header + "\n", "empty_file", "file", "the file is empty"},
		// What the file wrote is repeated cut and escaped (errs.Echo): a
		// 60,000-character code came back whole in the refusal, and a code
		// with a terminal's escape came back raw to custos stats import.
		{"long code", good + strings.Repeat("A", 60000) + ",police,offence,2024,,,,,,,,,,,,,,,\n", "unmapped_offence", "offence_code", "line 3: offence code " + strings.Repeat("A", 64) + "… is not in mapping"},
		{"code with an escape", good + "N\x1b[2J,police,offence,2024,,,,,,,,,,,,,,,\n", "unmapped_offence", "offence_code", `line 3: offence code N\x1b[2J is not in mapping`},
		{"long iccs", "iccs,stage,unit,date\n" + strings.Repeat("0", 60000) + ",police,offence,2024\n", "iccs_code", "iccs", "line 2: " + strings.Repeat("0", 64) + "… is not an ICCS code"},
		{"long column", "offence_code,stage,unit,date," + strings.Repeat("z", 60000) + "\n", "column", "header", `"` + strings.Repeat("z", 64) + `…" is not a column`},
	} {
		req := stats.ImportRequest{Mapping: m.ID}
		if strings.HasPrefix(c.file, "iccs,") {
			req.Mapping = "" // coded already: read without a mapping
		}
		_, err := w.S.Import(ctx, w.Statistician, req, strings.NewReader(c.file), 0, nil)
		e, ok := errs.As(err)
		if !ok || e.Rule != c.rule || e.Field != c.field || !strings.Contains(e.Message, c.msg) || len(e.Message) > 300 {
			t.Errorf("%s: %.400v, want %s on %s: %s", c.name, err, c.rule, c.field, c.msg)
		}
	}
	if _, err := w.S.Aggregate(ctx, w.Regulator, stats.Query{Stage: "police", Unit: "offence", ICCS: []string{strings.Repeat("9", 60000)}}); err == nil || len(err.Error()) > 300 {
		t.Errorf("a long ICCS code in a query: %.400v", err)
	}
	if _, err := w.S.Import(ctx, w.Statistician, stats.ImportRequest{Mapping: strings.Repeat("M", 3000)}, strings.NewReader(good), 0, nil); errs.CodeOf(err) != errs.NotFound || len(err.Error()) > 300 {
		t.Errorf("a long mapping id: %.400v", err)
	}
	var n int
	if err := w.App.DB.Read().QueryRow(ctx, "SELECT COUNT(*) FROM stats_columns").Scan(&n); err != nil || n != 0 {
		t.Errorf("refused imports left %d stored columns (%v)", n, err)
	}
	if list, err := w.S.Imports(ctx, w.Regulator); err != nil || len(list) != 0 {
		t.Errorf("imports after refusals: %v %v", list, err)
	}
	// A statistician is needed.
	if _, err := w.S.Import(ctx, w.Regulator, stats.ImportRequest{Mapping: m.ID}, strings.NewReader(good), 0, nil); err == nil {
		t.Error("the regulator imported records")
	}
}

func TestMappings(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, storetest.SQLite(t))
	for _, c := range []struct{ name, csv, rule, field, msg string }{
		{"not iccs", "national_code,national_label,iccs\nA,x,0101\nB,y,0299\n", "iccs_code", "iccs", "line 3: 0299 is not an ICCS code (version 1.0)"},
		{"twice", "national_code,national_label,iccs\nA,x,0101\nA,y,0101\n", "duplicate_mapping", "national_code", "line 3: A is mapped to 0101 twice"},
		{"header", "code,label,iccs\n", "column", "header", "a mapping file's header"},
		{"no code", "national_code,national_label,iccs\n,x,0101\n", "required", "national_code", "line 2: national_code is required"},
		{"two columns", "national_code,iccs\nA,0101\n", "column", "header", "a mapping file's header is national_code,national_label,iccs"},
		{"four columns", "national_code,national_label,iccs,note\nA,x,0101,n\n", "column", "header", "a mapping file's header is national_code,national_label,iccs"},
		{"no iccs", "national_code,national_label,iccs\nA,x,0101\nB,y, \n", "required", "iccs", "line 3: iccs is required"},
		{"long iccs", "national_code,national_label,iccs\nA,x," + strings.Repeat("0", 60000) + "\n", "iccs_code", "iccs", "line 2: " + strings.Repeat("0", 64) + "… is not an ICCS code"},
	} {
		_, err := stats.ParseMapping(strings.NewReader(c.csv))
		e, ok := errs.As(err)
		if !ok || e.Rule != c.rule || e.Field != c.field || !strings.Contains(e.Message, c.msg) || len(e.Message) > 300 {
			t.Errorf("%s: %.400v, want %s on %s: %s", c.name, err, c.rule, c.field, c.msg)
		}
	}
	m := w.mapping(t)
	// Version 2 maps N003 to two categories: ambiguous, reported, and
	// refused in records.
	rows, err := stats.ParseMapping(strings.NewReader(statstest.Mapping + "N003,Assault (also threats),02012\n"))
	if err != nil {
		t.Fatal(err)
	}
	m2, err := w.S.PublishMapping(ctx, w.Statistician, stats.NewMapping{ID: m.ID, Name: m.Name, Rows: rows})
	if err != nil {
		t.Fatal(err)
	}
	if m2.Version != 2 || strings.Join(m2.Ambiguous, " ") != "N003" {
		t.Errorf("version 2: %d, ambiguous %v", m2.Version, m2.Ambiguous)
	}
	if _, err := w.S.PublishMapping(ctx, w.Statistician, stats.NewMapping{ID: m.ID, Name: m.Name, Rows: rows}); err == nil {
		t.Error("an unchanged version was published")
	}
	data := statstest.Header + "\nN003,police,offence,2024,,,,,,,,,,,,,,,\nN003,police,offence,2024,,,,,,,,,,,,,,,\nN404,police,offence,2024,,,,,,,,,,,,,,,\nN001,police,offence,2024,,,,,,,,,,,,,,,\n"
	rep, err := w.S.CheckCodes(ctx, w.Statistician, m.ID, 0, strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Version != 2 || rep.Mapped != 1 || fmt.Sprint(rep.Unmapped) != "[{N404 1 []}]" || fmt.Sprint(rep.Ambiguous) != "[{N003 2 [02011 02012]}]" {
		t.Errorf("report: %+v", rep)
	}
	_, err = w.S.Import(ctx, w.Statistician, stats.ImportRequest{Mapping: m.ID}, strings.NewReader(data), 0, nil)
	if e, ok := errs.As(err); !ok || e.Rule != "ambiguous_offence" || !strings.Contains(e.Message, "line 2: offence code N003 is mapped to several ICCS categories in mapping demoland-penal-code version 2 (02011, 02012)") {
		t.Errorf("ambiguous code imported: %v", err)
	}
	list, err := w.S.Mappings(ctx, w.Regulator)
	if err != nil || len(list) != 1 || list[0].Version != 2 {
		t.Errorf("mappings: %+v %v", list, err)
	}
}

// exportCSV runs an export as the API would and returns its lines.
func exportCSV(t *testing.T, w *world, req export.Request) [][]string {
	t.Helper()
	var b bytes.Buffer
	if _, err := export.Export(context.Background(), w.App.DB, w.App.Writer, w.Statistician.Actor(), req, nil, &b); err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(&b)
	r.FieldsPerRecord = -1
	lines, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

// published is the expected table of q after disclosure control: the
// file's counts folded as Publish folds them, protected by the one
// disclosure control.
func published(t *testing.T, f *file, q stats.Query) (rows, cols []string, pub disclosure.Published) {
	t.Helper()
	q.Totals = false
	counts := f.expect(q)
	rowSet, colSet := map[string]bool{}, map[string]bool{}
	for k := range counts {
		parts := strings.Split(k, "|")
		rowSet[strings.Join(parts[:len(parts)-1], " / ")] = true
		colSet[parts[len(parts)-1]] = true
	}
	for r := range rowSet {
		rows = append(rows, r)
	}
	for c := range colSet {
		cols = append(cols, c)
	}
	slices.Sort(rows)
	slices.Sort(cols)
	table := make([][]int, len(rows))
	for i, r := range rows {
		table[i] = make([]int, len(cols))
		for j, c := range cols {
			key := c
			if r != "" {
				key = strings.ReplaceAll(r, " / ", "|") + "|" + c
			}
			table[i][j] = int(counts[key])
		}
	}
	pub, err := disclosure.Protect(disclosure.Table{Rows: rows, Cols: cols, Counts: table}, disclosure.DefaultThreshold)
	if err != nil {
		t.Fatal(err)
	}
	return rows, cols, pub
}

func shown(c disclosure.Cell) string {
	if c.Suppressed {
		return ""
	}
	return strconv.Itoa(c.Value)
}

func TestExports(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newWorld(t, dsn)
		m := w.mapping(t)
		f := makeFile(t, 20000, statstest.Options{Seed: 3, Years: 2, FirstYear: 2023})
		if _, err := w.S.Import(ctx, w.Statistician, stats.ImportRequest{Mapping: m.ID}, bytes.NewReader(f.data), 0, nil); err != nil {
			t.Fatal(err)
		}

		// SDMX-CSV: every cell of the two-way table, its totals, suppressed
		// cells flagged.
		q := stats.Query{Stage: "police", Unit: "victim", Level: 2, By: []string{"sex"}, Period: "year", Filter: map[string][]string{"weapon": {"firearm"}}}
		req, err := w.S.SDMX(w.Statistician, q)
		if err != nil {
			t.Fatal(err)
		}
		lines := exportCSV(t, w, req)
		if got := strings.Join(lines[0], ","); got != strings.Join(stats.SDMXColumns(q), ",") || !strings.HasPrefix(got, "STRUCTURE,STRUCTURE_ID,ACTION,ICCS,STAGE,UNIT_MEASURE,") ||
			!strings.HasSuffix(got, ",TIME_PERIOD,OBS_VALUE,CONF_STATUS") {
			t.Fatalf("SDMX columns %s", got)
		}
		col := map[string]int{}
		for i, c := range lines[0] {
			col[c] = i
		}
		sdmx := map[string]string{"male": "M", "female": "F", "unknown": "_U", stats.Total: stats.Total}
		got := map[string][2]string{}
		for _, l := range lines[1:] {
			if l[col["STRUCTURE"]] != "dataflow" || l[col["STRUCTURE_ID"]] != stats.SDMXDataflow(stats.SDMXAgency) || l[col["ACTION"]] != "I" || l[col["STAGE"]] != "POL" || l[col["UNIT_MEASURE"]] != "VIC" {
				t.Fatalf("line %v", l)
			}
			// the dimensions the query does not break down by: their total
			if l[col["WEAPON"]] != stats.Total || l[col["AGE"]] != stats.Total || l[col["REF_AREA"]] != stats.Total {
				t.Fatalf("line %v: a dimension not broken down by is not _T", l)
			}
			got[l[col["ICCS"]]+"|"+l[col["SEX"]]+"|"+l[col["TIME_PERIOD"]]] = [2]string{l[col["OBS_VALUE"]], l[col["CONF_STATUS"]]}
		}
		rows, cols, pub := published(t, f, q)
		want := map[string][2]string{}
		status := func(c disclosure.Cell) string {
			switch {
			case !c.Suppressed:
				return "F"
			case c.Primary:
				return "C"
			}
			return "D"
		}
		// A total over the years is written as the years' span, from the
		// first counted to the last (SDMX's time dimension has no total).
		lastYear, _ := strconv.Atoi(slices.Max(cols))
		firstYear, _ := strconv.Atoi(slices.Min(cols))
		span := slices.Min(cols) + "-01-01/P" + strconv.Itoa(lastYear-firstYear+1) + "Y"
		put := func(iccs, sex, year string, c disclosure.Cell) {
			if year == stats.Total {
				year = span
			}
			want[iccs+"|"+sdmx[sex]+"|"+year] = [2]string{shown(c), status(c)}
		}
		suppressed := 0
		for i, r := range rows {
			parts := strings.Split(r, " / ")
			for j, c := range cols {
				put(parts[0], parts[1], c, pub.Cells[i][j])
				if pub.Cells[i][j].Suppressed {
					suppressed++
				}
			}
			put(parts[0], parts[1], stats.Total, pub.RowTotals[i])
		}
		for j, c := range cols {
			put(stats.Total, stats.Total, c, pub.ColTotals[j])
		}
		put(stats.Total, stats.Total, stats.Total, pub.Total)
		// The partial totals the two-way table has not: over the ICCS, over
		// the sex, over the ICCS and the year, over the sex and the year.
		// Their counts are the file's; one that takes in a suppressed cell
		// is suppressed (C when small itself, else D).
		tq := q
		tq.Totals = true
		truth := f.expect(tq)
		partials := 0
		for _, mask := range []int{1, 2, 5, 6} {
			hides := map[string]bool{}
			for i, r := range rows {
				for j, c := range cols {
					key := append(strings.Split(r, " / "), c)
					for d := range key {
						if mask&(1<<d) != 0 {
							key[d] = stats.Total
						}
					}
					k := strings.Join(key, "|")
					hides[k] = hides[k] || pub.Cells[i][j].Suppressed
				}
			}
			for k, hidden := range hides {
				key := strings.Split(k, "|")
				v := truth[k]
				c := disclosure.Cell{Value: int(v)}
				if hidden {
					c = disclosure.Cell{Suppressed: true, Primary: v > 0 && v < disclosure.DefaultThreshold}
				}
				put(key[0], key[1], key[2], c)
				partials++
			}
		}
		if partials < 4 {
			t.Errorf("%d partial totals expected: the test checks little", partials)
		}
		if !maps.Equal(got, want) || len(lines)-1 != len(want) {
			for k, v := range want {
				if got[k] != v {
					t.Errorf("SDMX cell %s: %v, want %v", k, got[k], v)
				}
			}
			t.Fatalf("SDMX: %d lines, %d cells expected", len(lines)-1, len(want))
		}
		if suppressed == 0 {
			t.Error("no cell suppressed: the test does not check the disclosure control")
		}

		// A UN-CTS table: persons convicted by division, sex and juvenile.
		req, err = w.S.UNCTS(w.Statistician, "courts", 2024, export.CSV)
		if err != nil {
			t.Fatal(err)
		}
		lines = exportCSV(t, w, req)
		start := slices.IndexFunc(lines, func(l []string) bool { return len(l) > 0 && l[0] == "crime" })
		if start < 0 || strings.Join(lines[start], ",") != "crime,iccs,sex,unknown,adult,juvenile,total" {
			t.Fatalf("UN-CTS header: %v", lines)
		}
		// The expected table: the file's persons convicted in 2024 under
		// each crime's category (ICCS codes extend their parents'), by sex
		// and juvenile, then all of them. The rows nest (rape is sexual
		// violence, every crime an offence), so what is protected is the
		// table of their parts, a sex at a time: each crime's own records
		// (under no crime below it) and those of no crime, whose column
		// totals are the row of every offence; a crime's cell is the sum
		// of its parts', suppressed when one of them is.
		counts := f.expect(stats.Query{Stage: "courts", Unit: "person", Level: 4, By: []string{"sex", "juvenile"}, From: "2024", To: "2024"})
		var sexes []string
		for _, sx := range stats.DimSex.Codes() {
			for k := range counts {
				if strings.Split(k, "|")[1] == sx && !slices.Contains(sexes, sx) {
					sexes = append(sexes, sx)
				}
			}
		}
		juv := stats.DimJuvenile.Codes()
		crimeRows := stats.UNCTSRows("courts")
		crimes := append(slices.Clone(crimeRows), stats.UNCTSCrime{Name: stats.UNCTSAll, ICCS: ""})
		partOf := func(code string) int {
			part, depth := len(crimeRows), 0
			for p, cr := range crimeRows {
				if strings.HasPrefix(code, cr.ICCS) && len(cr.ICCS) > depth {
					part, depth = p, len(cr.ICCS)
				}
			}
			return part
		}
		wantCells := map[string][]disclosure.Cell{} // label: cells, then the total
		for _, sx := range sexes {
			parts := make([][]int, len(crimeRows)+1)
			for p := range parts {
				parts[p] = make([]int, len(juv))
			}
			for k, n := range counts {
				p := strings.Split(k, "|")
				if p[1] == sx {
					parts[partOf(p[0])][slices.Index(juv, p[2])] += int(n)
				}
			}
			pub, err := disclosure.Protect(disclosure.Table{Rows: make([]string, len(parts)), Cols: juv, Counts: parts}, disclosure.DefaultThreshold)
			if err != nil {
				t.Fatal(err)
			}
			for ci, cr := range crimes {
				label := cr.Name + " / " + sx
				cells := make([]disclosure.Cell, len(juv)+1)
				if ci == len(crimeRows) {
					copy(cells, pub.ColTotals)
					cells[len(juv)] = pub.Total
				}
				for p := range crimeRows {
					if ci == len(crimeRows) || !strings.HasPrefix(crimeRows[p].ICCS, cr.ICCS) {
						continue
					}
					for j := range juv {
						cells[j].Value += pub.Cells[p][j].Value
						cells[j].Suppressed = cells[j].Suppressed || pub.Cells[p][j].Suppressed
					}
					cells[len(juv)].Value += pub.RowTotals[p].Value
					cells[len(juv)].Suppressed = cells[len(juv)].Suppressed || pub.RowTotals[p].Suppressed
				}
				wantCells[label] = cells
			}
		}
		var labels []string
		for _, cr := range crimes {
			for _, sx := range sexes {
				labels = append(labels, cr.Name+" / "+sx)
			}
		}
		body := lines[start+1 : len(lines)-1] // the last line is "rows,N"
		if len(body) != len(labels) {
			t.Fatalf("UN-CTS: %d rows, want %d", len(body), len(labels))
		}
		cellOf := func(c disclosure.Cell) string {
			if c.Suppressed {
				return "x"
			}
			return strconv.Itoa(c.Value)
		}
		counted, hidden := 0, 0
		for i, l := range body {
			cr := crimes[i/len(sexes)]
			iccs := cr.ICCS
			if iccs == "" {
				iccs = stats.Total
			}
			if l[0]+" / "+l[2] != labels[i] || l[1] != iccs {
				t.Fatalf("UN-CTS row %d: %v, want %s (%s)", i, l, labels[i], iccs)
			}
			cells := wantCells[labels[i]]
			for j := range juv {
				if l[3+j] != cellOf(cells[j]) {
					t.Errorf("UN-CTS %s %s: %s, want %s", labels[i], juv[j], l[3+j], cellOf(cells[j]))
				}
				if cells[j].Suppressed {
					hidden++
				} else if cells[j].Value > 0 {
					counted++
				}
			}
			if l[6] != cellOf(cells[len(juv)]) {
				t.Errorf("UN-CTS %s total: %s, want %s", labels[i], l[6], cellOf(cells[len(juv)]))
			}
		}
		if counted == 0 || hidden == 0 {
			t.Errorf("UN-CTS: %d counts shown, %d suppressed: the test checks too little", counted, hidden)
		}
		if _, err := w.S.UNCTS(w.Statistician, "parliament", 2024, export.CSV); err == nil {
			t.Error("an unknown UN-CTS table was exported")
		}
	})
}

func TestAPI(t *testing.T) {
	w := newWorld(t, storetest.SQLite(t))
	m := w.Upload(t, "/api/v1/stats/mappings/demoland-penal-code/file?name=Demoland+penal+code", w.Token, "text/csv", []byte(statstest.Mapping))
	if m.Status != 201 || m.Body["version"] != 1.0 {
		t.Fatalf("mapping: %d %s", m.Status, m.Raw)
	}
	f := makeFile(t, 3000, statstest.Options{Seed: 5})
	im := w.Upload(t, "/api/v1/stats/imports?mapping=demoland-penal-code&source=police.csv", w.Token, "text/csv", f.data)
	if im.Status != 201 || im.Body["records"] != 3000.0 {
		t.Fatalf("import: %d %s", im.Status, im.Raw)
	}
	bad := w.Upload(t, "/api/v1/stats/imports?mapping=demoland-penal-code", w.Token, "text/csv", []byte(statstest.Header+"\nN001,police,offence,2024-02-30,,,,,,,,,,,,,,,\n"))
	if bad.Status != 422 || bad.Str("error.rule") != "date_format" || bad.Str("error.field") != "date" {
		t.Errorf("bad import: %d %s", bad.Status, bad.Raw)
	}
	q := stats.Query{Stage: "police", Unit: "victim", Level: 1, By: []string{"sex"}, Period: "year", Totals: true}
	agg := w.Must(t, 200, "POST", "/api/v1/stats/aggregate", w.Token, q)
	var res stats.Result
	if err := json.Unmarshal(agg.Raw, &res); err != nil {
		t.Fatal(err)
	}
	same(t, "API aggregate", cells(&res), f.expect(q))
	sdmx := w.Do(t, "GET", "/api/v1/stats/sdmx?stage=police&unit=victim&level=1&by=sex", w.Token, nil)
	if sdmx.Status != 200 || !strings.HasPrefix(string(sdmx.Raw), strings.Join(stats.SDMXColumns(stats.Query{By: []string{"sex"}}), ",")+"\n") {
		t.Errorf("sdmx: %d %.300s", sdmx.Status, sdmx.Raw)
	}
	x := w.Do(t, "GET", "/api/v1/stats/uncts/courts?year=2022&format=xlsx", w.Token, nil)
	if x.Status != 200 || !bytes.HasPrefix(x.Raw, []byte("PK")) {
		t.Errorf("UN-CTS xlsx: %d %.200s", x.Status, x.Raw)
	}
	if r := w.Do(t, "GET", "/api/v1/stats/sdmx?stage=police&unit=victim&colour=red", w.Token, nil); r.Status != 422 || r.Str("error.field") != "colour" {
		t.Errorf("unknown parameter: %d %s", r.Status, r.Raw)
	}
	if r := w.Do(t, "GET", "/api/v1/stats/iccs", "", nil); r.Status != 200 || !strings.Contains(string(r.Raw), "Trata de personas con fines de extracción de órganos") {
		t.Errorf("iccs: %d %.300s", r.Status, r.Raw)
	}
}

// TestOrphanChunks: chunks written before an entry that never made it
// into the log (the process died; the log refused it and they could not be
// deleted) are never counted, and the next import sweeps them, but not
// those of an import still being written.
func TestOrphanChunks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newWorld(t, dsn)
		m := w.mapping(t)
		now := time.Now()
		clock := now
		w.S.Now = func() time.Time { return clock }
		kept := makeFile(t, 1000, statstest.Options{Seed: 1})
		if _, err := w.S.Import(ctx, w.Statistician, stats.ImportRequest{Mapping: m.ID}, bytes.NewReader(kept.data), 0, nil); err != nil {
			t.Fatal(err)
		}
		// Two imports died an hour ago, one is being written now; the
		// oldest left no beat, as before beats were kept.
		clock = now.Add(-time.Hour)
		died, err := w.S.StoreOnly(ctx, m.ID, bytes.NewReader(makeFile(t, 70000, statstest.Options{Seed: 2}).data))
		if err != nil {
			t.Fatal(err)
		}
		legacy, err := w.S.StoreOnly(ctx, m.ID, bytes.NewReader(makeFile(t, 500, statstest.Options{Seed: 3}).data))
		if err != nil {
			t.Fatal(err)
		}
		tx, err := w.App.DB.BeginWrite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, "DELETE FROM stats_writing WHERE import_id = ?", legacy); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		clock = now.Add(-time.Minute)
		writing, err := w.S.StoreOnly(ctx, m.ID, bytes.NewReader(makeFile(t, 500, statstest.Options{Seed: 4}).data))
		if err != nil {
			t.Fatal(err)
		}
		clock = now
		chunks := func() map[string]int {
			rows, err := w.App.DB.Read().Query(ctx, "SELECT import_id, COUNT(*) FROM stats_columns GROUP BY import_id")
			if err != nil {
				t.Fatal(err)
			}
			type n struct {
				id string
				n  int
			}
			list, err := store.Rows(rows, func(r store.Scanner, x *n) error { return r.Scan(&x.id, &x.n) })
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]int{}
			for _, x := range list {
				out[x.id] = x.n
			}
			return out
		}
		before := chunks()
		if len(before) != 4 || before[died] == 0 || before[legacy] == 0 || before[writing] == 0 {
			t.Fatalf("stored chunks by import before the sweep: %v", before)
		}
		// Never counted.
		q := stats.Query{Stage: "police", Unit: "offence", Level: 1, Totals: true}
		res, err := w.S.Aggregate(ctx, w.Regulator, q)
		if err != nil {
			t.Fatal(err)
		}
		if res.Records != 1000 {
			t.Errorf("the count read %d records, want the 1000 of the one import in the log", res.Records)
		}
		same(t, "before the sweep", cells(res), kept.expect(q))

		// The next import sweeps the dead ones, not the one being written.
		next := makeFile(t, 800, statstest.Options{Seed: 5})
		im, err := w.S.Import(ctx, w.Statistician, stats.ImportRequest{Mapping: m.ID}, bytes.NewReader(next.data), 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		after := chunks()
		if len(after) != 3 || after[died] != 0 || after[legacy] != 0 || after[writing] != before[writing] || after[im.ID] == 0 {
			t.Errorf("stored chunks by import after the next import: %v (before %v; died %s, legacy %s, writing %s)", after, before, died, legacy, writing)
		}
		var beats int
		if err := w.App.DB.Read().QueryRow(ctx, "SELECT COUNT(*) FROM stats_writing").Scan(&beats); err != nil {
			t.Fatal(err)
		}
		if beats != 1 {
			t.Errorf("%d imports beat after the sweep, want 1 (the one being written; a committed import's beat goes with its entry)", beats)
		}
		// Once that one has not beaten for Orphaned, it goes too.
		clock = now.Add(stats.Orphaned)
		swept, err := w.S.Sweep(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(swept, []string{writing}) {
			t.Errorf("swept %v, want [%s]", swept, writing)
		}
		res, err = w.S.Aggregate(ctx, w.Regulator, q)
		if err != nil {
			t.Fatal(err)
		}
		if res.Records != 1800 {
			t.Errorf("after the sweeps the count read %d records, want 1800", res.Records)
		}
	})
}

// TestUNCTSNestedRows: the rows of a UN-CTS table nest (every crime is an
// offence, rape sexual violence, bribery corruption), and no pair of them
// gives away what the disclosure control hides. Protected as rows of one
// two-way table, the police's offences below showed sexual violence and
// rape each with a suppressed 0 beside a suppressed 3, and every offence's
// published 0 attempts of unknown kind gave both 0s, then each row's total
// the 3; and corruption's 14 beside bribery's 12 gave the 2 other acts of
// corruption, a count the table never shows.
func TestUNCTSNestedRows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		var b strings.Builder
		b.WriteString("iccs,stage,unit,date,attempt,count\n")
		for _, r := range []struct {
			iccs, attempt string
			n             int
		}{
			{"03011", "completed", 10}, {"03011", "attempted", 3}, // rape
			{"03012", "completed", 20},                           // other sexual violence
			{"0502", "completed", 50}, {"0502", "attempted", 40}, // theft
			{"0101", "completed", 30},
			{"07031", "completed", 12}, // bribery
			{"07032", "completed", 2},  // other corruption
		} {
			fmt.Fprintf(&b, "%s,police,offence,2024-05,%s,%d\n", r.iccs, r.attempt, r.n)
		}
		im := w.Upload(t, "/api/v1/stats/imports?source=nested.csv", w.Token, "text/csv", []byte(b.String()))
		if im.Status != 201 {
			t.Fatalf("import: %d %s", im.Status, im.Raw)
		}
		req, err := w.S.UNCTS(w.Statistician, "police_offences", 2024, export.CSV)
		if err != nil {
			t.Fatal(err)
		}
		lines := exportCSV(t, w, req)
		start := slices.IndexFunc(lines, func(l []string) bool { return len(l) > 0 && l[0] == "crime" })
		if start < 0 {
			t.Fatalf("no table: %v", lines)
		}
		header, body := lines[start], lines[start+1:len(lines)-1]
		type row struct {
			name, iccs string
			cells      []string // each value of attempt, then the total
		}
		var rows []row
		for _, l := range body {
			iccs := l[1]
			if iccs == stats.Total {
				iccs = "" // every offence: under it, every crime
			}
			rows = append(rows, row{l[0], iccs, l[2:]})
		}
		byName := map[string]row{}
		for _, r := range rows {
			byName[r.name] = r
		}
		shown := func(r, c string) string { return byName[r].cells[slices.Index(header[2:], c)] }
		for _, c := range []struct{ crime, col, want string }{
			{"rape", "attempted", "x"}, {"theft", "attempted", "40"}, {"all_offences", "completed", "124"},
		} {
			if got := shown(c.crime, c.col); got != c.want {
				t.Errorf("%s, %s: %s, want %s", c.crime, c.col, got, c.want)
			}
		}
		// No row under another, nor any row under every offence, gives a
		// hidden count away: a 0 published above a suppressed cell shows it
		// to be 0; and two published counts of a crime and of its "of
		// which" row whose difference is from 1 to 4 show a count the table
		// hides (every offence less a crime is the sum of several hidden
		// counts, as a two-way table's row of two suppressed cells is).
		for _, above := range rows {
			for _, below := range rows {
				if above.name == below.name || !strings.HasPrefix(below.iccs, above.iccs) {
					continue
				}
				for j := range above.cells {
					a, b := above.cells[j], below.cells[j]
					if a == "0" && b == "x" {
						t.Errorf("%s: %s publishes 0, so %s's suppressed count is 0", header[2+j], above.name, below.name)
					}
					na, errA := strconv.Atoi(a)
					nb, errB := strconv.Atoi(b)
					if above.iccs != "" && errA == nil && errB == nil && na-nb > 0 && na-nb < disclosure.DefaultThreshold {
						t.Errorf("%s: %s (%d) less %s (%d) shows a count of %d", header[2+j], above.name, na, below.name, nb, na-nb)
					}
				}
			}
		}
	})
}

// TestAnswerBounds: an answer is bounded. A query by many dimensions of
// records spread over them, with every combination of totals, is refused
// (too_many_cells, naming totals) rather than built in memory for minutes,
// and answered without its totals; a published table (SDMX-CSV, a page)
// of more than stats.MaxPublishedCells cells is refused before the
// disclosure control, whose time grows faster than the table, runs.
func TestAnswerBounds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		var b strings.Builder
		b.WriteString("iccs,stage,unit,date,region,victim_sex,victim_age,weapon,context\n")
		cats := stats.ICCS.At(4)
		sexes, weapons, contexts := stats.DimVictimSex.Codes(), stats.DimWeapon.Codes(), stats.DimContext.Codes()
		rng := rand.New(rand.NewPCG(7, 7))
		for i := range 3000 {
			// Spread over the dimensions at random, each region a month's
			// (1000 regions, 60 months).
			fmt.Fprintf(&b, "%s,police,victim,%d-%02d,R%04d,%s,%d,%s,%s\n", cats[rng.IntN(len(cats))].Code, 2020+i%5, 1+i%12, i%1000,
				sexes[rng.IntN(len(sexes))], rng.IntN(90), weapons[rng.IntN(len(weapons))], contexts[rng.IntN(len(contexts))])
		}
		im := w.Upload(t, "/api/v1/stats/imports?source=spread.csv", w.Token, "text/csv", []byte(b.String()))
		if im.Status != 201 {
			t.Fatalf("import: %d %s", im.Status, im.Raw)
		}
		q := stats.Query{Stage: "police", Unit: "victim", Level: 4, By: []string{"region", "victim_sex", "age_band", "weapon", "context"}, Period: "month", Totals: true}
		r := w.Do(t, "POST", "/api/v1/stats/aggregate", w.Token, q)
		if r.Status != 422 || r.Str("error.rule") != "too_many_cells" || r.Str("error.field") != "totals" {
			var res stats.Result
			_ = json.Unmarshal(r.Raw, &res)
			t.Errorf("an answer of every total of 3000 records by 7 dimensions: %d, %d cells %.300s", r.Status, len(res.Cells), r.Raw)
		}
		q.Totals = false
		r = w.Must(t, 200, "POST", "/api/v1/stats/aggregate", w.Token, q)
		var res stats.Result
		if err := json.Unmarshal(r.Raw, &res); err != nil {
			t.Fatal(err)
		}
		if len(res.Cells) != 3000 {
			t.Errorf("without totals: %d cells, want 3000", len(res.Cells))
		}
		// 1000 regions (rows, with the ICCS section) by 60 months: 60,000 cells.
		s := w.Do(t, "GET", "/api/v1/stats/sdmx?stage=police&unit=victim&level=1&by=region&period=month", w.Token, nil)
		if s.Status != 422 || s.Str("error.rule") != "too_many_cells" || s.Str("error.field") != "by" {
			t.Errorf("SDMX of 60,000 cells: %d %.300s", s.Status, s.Raw)
		}
		if _, err := w.S.Publish(context.Background(), w.Statistician, stats.Query{Stage: "police", Unit: "victim", Level: 1, By: []string{"region"}, Period: "year"}); err != nil {
			t.Errorf("a table of sections and regions by year: %v", err)
		}
	})
}

// TestFilterRefusalNamesIt: a filter by what is not a dimension is refused
// naming it (filter.iccs, the ICCS having its own parameter), as a filter's
// bad value is (filter.sex), in the API's body and in an export's query.
func TestFilterRefusalNamesIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		for _, c := range []struct {
			filter map[string][]string
			field  string
		}{
			{map[string][]string{"iccs": {"01"}}, "filter.iccs"},
			{map[string][]string{"colour": {"red"}}, "filter.colour"},
			{map[string][]string{"sex": {"x"}}, "filter.sex"},
			{map[string][]string{"sex": {}}, "filter.sex"},
			{map[string][]string{"region": nil}, "filter.region"},
		} {
			r := w.Do(t, "POST", "/api/v1/stats/aggregate", w.Token, stats.Query{Stage: "police", Unit: "offence", Level: 1, Filter: c.filter})
			if r.Status != 422 || r.Str("error.field") != c.field {
				t.Errorf("filter %v: %d %s, want field %s", c.filter, r.Status, r.Raw, c.field)
			}
		}
		if r := w.Do(t, "GET", "/api/v1/stats/sdmx?stage=police&unit=offence&level=1&filter.iccs=01", w.Token, nil); r.Status != 422 || r.Str("error.field") != "filter.iccs" {
			t.Errorf("SDMX filter.iccs: %d %s", r.Status, r.Raw)
		}
		// A region no import could hold (longer than an import takes, not
		// one line) is refused as the import refuses it; one no import
		// holds counts nothing. A bad value is repeated cut.
		long := strings.Repeat("R", 65)
		for _, c := range []struct{ query, rule string }{
			{"filter.region=" + long, "too_long"},
			{"filter.region=A%0AB", "control_character"},
			{"filter.sex=" + strings.Repeat("x", 5000), "enum"},
		} {
			r := w.Do(t, "GET", "/api/v1/stats/sdmx?stage=police&unit=offence&level=1&"+c.query, w.Token, nil)
			if field, _, _ := strings.Cut(c.query, "="); r.Status != 422 || r.Str("error.rule") != c.rule || r.Str("error.field") != field || len(r.Str("error.message")) > 300 {
				t.Errorf("SDMX %.40s: %d %.300s", c.query, r.Status, r.Raw)
			}
		}
		if r := w.Do(t, "GET", "/api/v1/stats/sdmx?stage=police&unit=offence&level=1&filter.region="+long[:64], w.Token, nil); r.Status != 200 {
			t.Errorf("SDMX a region of 64 characters no import holds: %d %.300s", r.Status, r.Raw)
		}
		// A query wrong in two parameters is refused for the same one.
		for range 20 {
			if r := w.Do(t, "GET", "/api/v1/stats/sdmx?zz=1&stage=police&aa=1", w.Token, nil); r.Str("error.field") != "aa" {
				t.Fatalf("two unknown parameters: %d %s, want the field aa", r.Status, r.Raw)
			}
		}
		// An empty filter keeps no record: refused, not a table of zeros.
		for _, f := range []string{"filter.victim_sex=", "filter.region=", "filter.region=,"} {
			if r := w.Do(t, "GET", "/api/v1/stats/sdmx?stage=police&unit=offence&level=1&"+f, w.Token, nil); r.Status != 422 || r.Str("error.rule") != "required" || !strings.HasPrefix(f, r.Str("error.field")+"=") {
				t.Errorf("SDMX %s: %d %s", f, r.Status, r.Raw)
			}
		}
	})
}

// TestManyRegions: two imports whose regions together pass the 65,535 that
// counting tells apart (each file is within its own limit) are counted by
// ICCS as before, and a breakdown or filter by region over them is refused
// rather than counting a record under another region.
func TestManyRegions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		const per = 40000
		for _, prefix := range []string{"A", "B"} {
			var b strings.Builder
			b.WriteString("iccs,stage,unit,date,region\n")
			for i := range per {
				fmt.Fprintf(&b, "0101,police,offence,2024-%02d,%s%05d\n", 1+i%12, prefix, i)
			}
			im := w.Upload(t, "/api/v1/stats/imports?source="+prefix+".csv", w.Token, "text/csv", []byte(b.String()))
			if im.Status != 201 {
				t.Fatalf("import %s: %d %.300s", prefix, im.Status, im.Raw)
			}
		}
		r := w.Must(t, 200, "POST", "/api/v1/stats/aggregate", w.Token, stats.Query{Stage: "police", Unit: "offence", Level: 1})
		var res stats.Result
		if err := json.Unmarshal(r.Raw, &res); err != nil {
			t.Fatal(err)
		}
		if got := cells(&res); got["01"] != 2*per {
			t.Errorf("by ICCS section: %v, want 01 = %d", got, 2*per)
		}
		for _, c := range []struct {
			q     stats.Query
			field string
		}{
			{stats.Query{Stage: "police", Unit: "offence", Level: 1, By: []string{"region"}}, "by"},
			{stats.Query{Stage: "police", Unit: "offence", Level: 1, Filter: map[string][]string{"region": {"B39999"}}}, "filter.region"},
		} {
			r := w.Do(t, "POST", "/api/v1/stats/aggregate", w.Token, c.q)
			if r.Status != 422 || r.Str("error.rule") != "too_many" || r.Str("error.field") != c.field {
				t.Errorf("%v over %d regions: %d %.300s, want too_many naming %s", c.q, 2*per, r.Status, r.Raw, c.field)
			}
		}
	})
}
