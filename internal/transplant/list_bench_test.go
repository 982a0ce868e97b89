package transplant_test

import (
	"context"
	"encoding/csv"
	"io"
	"iter"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/custos-project/custos/bench/dataset"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/page"
	"github.com/custos-project/custos/internal/server"
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

var listApp *server.App

// listFixture generates the list benchmark's registry once per process: Go
// runs a benchmark function more than once.
func listFixture(b *testing.B) *server.App {
	b.Helper()
	fixMu.Lock()
	defer fixMu.Unlock()
	if listApp != nil {
		return listApp
	}
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "custos-listbench")
	if err != nil {
		b.Fatal(err)
	}
	cleanups = append(cleanups, func() { os.RemoveAll(dir) })
	cfg := server.Config{DSN: filepath.Join(dir, "custos.db"), KeyFile: filepath.Join(dir, "custos.key")}
	start := time.Now()
	st, err := dataset.Generate(ctx, cfg, dataset.Options{Organs: listOrgans})
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
	if rows < 100_000 {
		b.Fatalf("%d recipients, want at least 100,000", rows)
	}
	listApp = app
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
	ctx := context.Background()
	app := listFixture(b)
	filter := transplant.ListFilter{Organ: "kidney", BloodGroup: "O", Request: page.Request{Limit: 100}}
	read := func(f transplant.ListFilter) page.Of[transplant.Recipient] {
		out, err := app.Transplant.Recipients(ctx, reader, f)
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
	for range 99 {
		k, err := page.ParseCursor(read(f).Next)
		if err != nil {
			b.Fatal(err)
		}
		f.After = &k
	}
	hundredth := f

	var first, later time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		read(filter)
		t1 := time.Now()
		read(hundredth)
		later += time.Since(t1)
		first += t1.Sub(t0)
	}
	b.ReportMetric(float64(first.Nanoseconds())/float64(b.N), "ns/first-page")
	b.ReportMetric(float64(later.Nanoseconds())/float64(b.N), "ns/100th-page")
	b.ReportMetric(float64(later)/float64(first), "100th/first")
}

// exportRows is how many rows BenchmarkExportCSV exports.
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
	all := req.Rows
	req.Rows = func(ctx context.Context) iter.Seq2[[]any, error] {
		return func(yield func([]any, error) bool) {
			n := 0
			for row, err := range all(ctx) {
				if !yield(row, err) || err != nil {
					return
				}
				if n++; n == exportRows {
					return
				}
			}
		}
	}
	baseline := func() int {
		rows, err := app.DB.Read().Query(ctx, `SELECT id, centre_id, sex, blood_group, date_of_birth, residence, organ_needed, listed_on,
			recorded_at FROM recipients ORDER BY log_index DESC, id LIMIT ?`, exportRows)
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
		if err != nil || n != exportRows {
			b.Fatalf("export: %d rows, %v", n, err)
		}
		t1 := time.Now()
		if n := baseline(); n != exportRows {
			b.Fatalf("baseline: %d rows", n)
		}
		base += time.Since(t1)
		exp += t1.Sub(t0)
	}
	b.ReportMetric(float64(exp.Nanoseconds())/float64(b.N), "ns/export")
	b.ReportMetric(float64(base.Nanoseconds())/float64(b.N), "ns/baseline")
	b.ReportMetric(float64(exp)/float64(base), "export/baseline")
	b.ReportMetric(float64(exportRows)/(float64(exp.Seconds())/float64(b.N)), "rows/s")
}
