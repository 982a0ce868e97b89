package transplant_test

import (
	"context"
	"testing"
	"time"
)

// BenchmarkActivity counts the dashboards' figures (Service.Activity: seven
// statements) on the list benchmark's registry of 100,000 transplanted
// organs, generated over 2020-2025, for the 12 months of 2025 and for all six
// years, and, in the same loop, a plain count of every organ, the floor of
// reading one table whole; it reports each time and the ratios:
//
//	go test -run='^$' -bench=Activity -benchtime=20x ./internal/transplant/
//
// A year's figures read that year's rows from the indexes of migration 6, so
// they cost about a sixth of all six years', and grow with the period, not
// with the registry.
func BenchmarkActivity(b *testing.B) {
	ctx := context.Background()
	app := listFixture(b)
	var year, all, scan time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		a, err := app.Transplant.Activity(ctx, reader, "2025-01", "2026-01")
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := app.Transplant.Activity(ctx, reader, "2020-01", "2026-01"); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		var n int
		if err := app.DB.Read().QueryRow(ctx, "SELECT COUNT(*) FROM organs").Scan(&n); err != nil {
			b.Fatal(err)
		}
		scan += time.Since(t2)
		year += t1.Sub(t0)
		all += t2.Sub(t1)
		if len(a.Donations) != 12 {
			b.Fatalf("2025 has donations in %d months", len(a.Donations))
		}
	}
	b.ReportMetric(float64(year.Nanoseconds())/float64(b.N), "ns/12-months")
	b.ReportMetric(float64(all.Nanoseconds())/float64(b.N), "ns/6-years")
	b.ReportMetric(float64(scan.Nanoseconds())/float64(b.N), "ns/count-organs")
	b.ReportMetric(float64(year)/float64(all), "12-months/6-years")
}
