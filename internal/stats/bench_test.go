package stats_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/custos-project/custos/internal/stats"
	"github.com/custos-project/custos/internal/stats/statstest"
	"github.com/custos-project/custos/internal/storetest"
)

// BenchmarkAggregate counts 200,000 imported victims by ICCS level 2 × sex
// × age band × year (bench/stats measures 10,000,000 beside a GROUP BY).
func BenchmarkAggregate(b *testing.B) {
	ctx := context.Background()
	for _, be := range storetest.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			w := newWorldB(b, be.DSN(b))
			var f bytes.Buffer
			if err := statstest.Write(&f, 200_000, statstest.Options{Seed: 1, FirstYear: 2016, Years: 10, Stage: "police", Unit: "victim"}); err != nil {
				b.Fatal(err)
			}
			m := w.mappingB(b)
			if _, err := w.S.Import(ctx, w.Statistician, stats.ImportRequest{Mapping: m.ID}, &f, 0, nil); err != nil {
				b.Fatal(err)
			}
			q := stats.Query{Stage: "police", Unit: "victim", Level: 2, By: []string{"sex", "age_band"}, Period: "year"}
			b.Run("year", func(b *testing.B) {
				for range b.N {
					if _, err := w.S.Aggregate(ctx, w.Regulator, q); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(200_000*b.N)/b.Elapsed().Seconds(), "records/s")
			})
			// Not counted by period, as a page counts it and as the SDMX
			// export does, which also keeps the span of the records' dates
			// (reading their year, month and day).
			q.Period = ""
			b.Run("noperiod", func(b *testing.B) {
				for range b.N {
					if _, err := w.S.Aggregate(ctx, w.Regulator, q); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(200_000*b.N)/b.Elapsed().Seconds(), "records/s")
			})
			b.Run("noperiod-dated", func(b *testing.B) {
				for range b.N {
					if _, err := w.S.AggregateDated(ctx, q); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(200_000*b.N)/b.Elapsed().Seconds(), "records/s")
			})
		})
	}
}
