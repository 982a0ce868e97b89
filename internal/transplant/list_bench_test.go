package transplant_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/custos-project/custos/bench/dataset"
	"github.com/custos-project/custos/internal/page"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/transplant"
)

// listOrgans is the size of the registry of the list benchmark: as many
// transplanted organs, each with its recipient, so the recipients' list has
// more than 100,000 rows.
const listOrgans = 100_000

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
