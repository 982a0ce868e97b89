package transplant_test

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"iter"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/custos-project/custos/bench/dataset"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/page"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// listOrgans is the size of the registry of the list benchmarks: as many
// transplanted organs, each with its recipient, so the recipients' list has
// more than 100,000 rows. CUSTOS_BENCH_ORGANS sets another (1000000 for the
// national scale; generating it takes about 10 minutes on 2 cores).
var listOrgans = 100_000

func init() {
	if n, err := strconv.Atoi(os.Getenv("CUSTOS_BENCH_ORGANS")); err == nil && n >= 100_000 {
		listOrgans = n
	}
}

// smokeOrgans is the size of every list and national registry under
// -short: CI runs each benchmark once (go test -short -run='^$' -bench=.
// -benchtime=1x) to catch one that no longer runs, on registries that
// generate in seconds; the figures of such a run mean nothing.
const smokeOrgans = 5_000

var listApp *server.App

// listFixture generates the list benchmark's registry once per process: Go
// runs a benchmark function more than once.
func listFixture(b *testing.B) *server.App {
	b.Helper()
	fixMu.Lock()
	defer fixMu.Unlock()
	if listApp == nil {
		n := listOrgans
		if testing.Short() {
			n = smokeOrgans
		}
		listApp = generated(b, "", n)
	}
	return listApp
}

// nationalOrgans is the size of the national-scale registries: a million
// transplanted organs, each with its recipient, or CUSTOS_BENCH_ORGANS when
// set (a smaller registry, where a million takes too long to generate).
func nationalOrgans(b *testing.B) int {
	if testing.Short() {
		return smokeOrgans
	}
	n := 1_000_000
	if v := os.Getenv("CUSTOS_BENCH_ORGANS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 50_000 {
			b.Fatalf("CUSTOS_BENCH_ORGANS=%q: want a whole number of at least 50,000", v)
		}
	}
	return n
}

var nationalApps = map[string]*server.App{}

// nationalFixture generates a national-scale registry once per process, on
// SQLite, or on PostgreSQL (backend postgres: in a schema of its own of the
// database CUSTOS_TEST_POSTGRES names; skipped without it).
func nationalFixture(b *testing.B, backend string) *server.App {
	b.Helper()
	fixMu.Lock()
	defer fixMu.Unlock()
	if app := nationalApps[backend]; app != nil {
		return app
	}
	dsn := ""
	if backend == "postgres" {
		dsn = postgresSchema(b)
	}
	app := generated(b, dsn, nationalOrgans(b))
	nationalApps[backend] = app
	return app
}

// postgresSchema creates a schema for a benchmark's registry in the
// database CUSTOS_TEST_POSTGRES names, dropped when the process ends (a
// benchmark's own cleanups run before Go runs it again), and returns a URL
// whose search_path selects it.
func postgresSchema(b *testing.B) string {
	base := os.Getenv(storetest.EnvPostgres)
	if base == "" {
		b.Skip("PostgreSQL not measured: set " + storetest.EnvPostgres)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		b.Fatal(err)
	}
	schema := fmt.Sprintf("bench_%d", time.Now().UnixNano())
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		b.Fatal(err)
	}
	cleanups = append(cleanups, func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		b.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// generated generates a registry of organs transplanted organs at dsn (a
// new SQLite file when empty) and opens it.
func generated(b *testing.B, dsn string, organs int) *server.App {
	b.Helper()
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "custos-listbench")
	if err != nil {
		b.Fatal(err)
	}
	cleanups = append(cleanups, func() { os.RemoveAll(dir) })
	cfg := server.Config{DSN: filepath.Join(dir, "custos.db"), KeyFile: filepath.Join(dir, "custos.key")}
	if dsn != "" {
		cfg.DSN = dsn
	}
	start := time.Now()
	st, err := dataset.Generate(ctx, cfg, dataset.Options{Organs: organs})
	if err != nil {
		b.Fatalf("generate: %v", err)
	}
	app, err := server.Open(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	cleanups = append(cleanups, func() { app.Close() })
	var rows int
	if err := app.DB.Read().QueryRow(ctx, "SELECT COUNT(*) FROM recipients").Scan(&rows); err != nil {
		b.Fatal(err)
	}
	b.Logf("generated %d donors, %d organs, %d recipients in %v", st.Donors, st.Organs, rows, time.Since(start).Round(time.Second))
	if rows < organs {
		b.Fatalf("%d recipients, want at least %d", rows, organs)
	}
	return app
}

// BenchmarkListPage reads the first and the 100th page (100 rows each) of
// the recipients waiting or transplanted for a kidney, of blood group O, on
// a generated SQLite registry of 100,000 organs, alternately in one loop, and
// reports each page's time and their ratio, so the ratio is of one run:
//
//	go test -run='^$' -bench=ListPage -benchtime=200x ./internal/transplant/
//
// Keyset paging starts the 100th page at its cursor: it should cost what the
// first does, where an offset would read the 9,900 rows before it.
func BenchmarkListPage(b *testing.B) {
	app := listFixture(b)
	pageRatio(b, transplant.ListFilter{Organ: "kidney", BloodGroup: "O", Request: page.Request{Limit: 100}}, app.Transplant.Recipients)
}

// BenchmarkNationalPages is BenchmarkListPage at national scale: the
// recipients of one centre (of 20) waiting or transplanted for a kidney, on
// registries of a million organs and recipients (CUSTOS_BENCH_ORGANS),
// SQLite and PostgreSQL. Each registry takes minutes to generate, so the
// benchmark runs only when asked for by name:
//
//	CUSTOS_TEST_POSTGRES=postgres://... go test -run='^$' -bench=NationalPages -benchtime=200x -timeout=3h ./internal/transplant/
func BenchmarkNationalPages(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			app := nationalFixture(b, backend)
			centres, err := dataset.Centres(context.Background(), app)
			if err != nil || len(centres) == 0 {
				b.Fatalf("centres %v: %v", centres, err)
			}
			// A centre's kidney recipients are about 3% of the registry: 30,000
			// of a million, past the 100th page; a smaller registry (under
			// 500,000 organs) is read for every centre's.
			f := transplant.ListFilter{Organ: "kidney", CentreID: centres[0].ID, Request: page.Request{Limit: 100}}
			if nationalOrgans(b) < 500_000 {
				f.CentreID = ""
			}
			pageRatio(b, f, app.Transplant.Recipients)
		})
	}
}

// pageRatio reads the first and the 100th page of the list filter selects,
// alternately in one loop, and reports each page's time and their ratio
// (under -short, a smoke run's small registry, the third page's).
func pageRatio[T any](b *testing.B, filter transplant.ListFilter, list func(context.Context, *auth.Principal, transplant.ListFilter) (page.Of[T], error)) {
	ctx := context.Background()
	read := func(f transplant.ListFilter) page.Of[T] {
		out, err := list(ctx, reader, f)
		if err != nil {
			b.Fatal(err)
		}
		if len(out.Items) != 100 {
			b.Fatalf("a page of %d rows", len(out.Items))
		}
		return out
	}
	// The cursor of the 100th page, by walking the 99 before it.
	f := filter
	later := 99
	if testing.Short() {
		later = 2
	}
	for range later {
		k, err := page.ParseCursor(read(f).Next)
		if err != nil {
			b.Fatal(err)
		}
		f.After = &k
	}
	hundredth := f

	var first, next time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		read(filter)
		t1 := time.Now()
		read(hundredth)
		next += time.Since(t1)
		first += t1.Sub(t0)
	}
	b.ReportMetric(float64(first.Nanoseconds())/float64(b.N), "ns/first-page")
	b.ReportMetric(float64(next.Nanoseconds())/float64(b.N), "ns/100th-page")
	b.ReportMetric(float64(next)/float64(first), "100th/first")
}

// exportRows is how many rows BenchmarkExportCSV exports (under -short, a
// smoke run's, 1,000).
const exportRows = 100_000

// BenchmarkExportCSV exports the first 100,000 rows of the recipients' list
// as CSV, the way the API does (export.Export: a snapshot, the log entry, the
// pages walked 500 rows at a time, each row written), and, in the same loop,
// the baseline: the same 100,000 rows read by one plain SELECT in the list's
// order and written by encoding/csv, which no export can beat. Both write to
// io.Discard; each is timed, with their ratio:
//
//	go test -run='^$' -bench=ExportCSV -benchtime=5x ./internal/transplant/
//	CUSTOS_BENCH_ORGANS=1000000 go test -run='^$' -bench=ExportCSV -benchtime=5x -timeout=2h ./internal/transplant/
func BenchmarkExportCSV(b *testing.B) {
	ctx := context.Background()
	app := listFixture(b)
	regulator := &auth.Principal{ID: "PR-BENCHREGULAT", Role: auth.Regulator, Jurisdiction: dataset.Jurisdiction}
	req, err := app.Transplant.Export(regulator, transplant.ListRecipients, url.Values{"format": {"csv"}})
	if err != nil {
		b.Fatal(err)
	}
	want := exportRows
	if testing.Short() {
		want = 1_000
	}
	all := req.Rows
	req.Rows = func(ctx context.Context) iter.Seq2[[]any, error] {
		return func(yield func([]any, error) bool) {
			n := 0
			for row, err := range all(ctx) {
				if !yield(row, err) || err != nil {
					return
				}
				if n++; n == want {
					return
				}
			}
		}
	}
	baseline := func() int {
		rows, err := app.DB.Read().Query(ctx, `SELECT id, centre_id, sex, blood_group, date_of_birth, residence, organ_needed, listed_on,
			recorded_at FROM recipients ORDER BY log_index DESC, id LIMIT ?`, want)
		if err != nil {
			b.Fatal(err)
		}
		defer rows.Close()
		w := csv.NewWriter(io.Discard)
		line := make([]string, 9)
		ptrs := make([]any, len(line))
		for i := range line {
			ptrs[i] = &line[i]
		}
		n := 0
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				b.Fatal(err)
			}
			_ = w.Write(line)
			n++
		}
		w.Flush()
		if err := rows.Err(); err != nil {
			b.Fatal(err)
		}
		return n
	}
	var exp, base time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		n, err := export.Export(ctx, app.DB, app.Writer, regulator.Actor(), req, nil, io.Discard)
		if err != nil || n != want {
			b.Fatalf("export: %d rows, %v", n, err)
		}
		t1 := time.Now()
		if n := baseline(); n != want {
			b.Fatalf("baseline: %d rows", n)
		}
		base += time.Since(t1)
		exp += t1.Sub(t0)
	}
	b.ReportMetric(float64(exp.Nanoseconds())/float64(b.N), "ns/export")
	b.ReportMetric(float64(base.Nanoseconds())/float64(b.N), "ns/baseline")
	b.ReportMetric(float64(exp)/float64(base), "export/baseline")
	b.ReportMetric(float64(want)/(float64(exp.Seconds())/float64(b.N)), "rows/s")
}
