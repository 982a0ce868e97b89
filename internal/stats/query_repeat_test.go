package stats_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/custos-project/custos/internal/stats"
	"github.com/custos-project/custos/internal/stats/statstest"
	"github.com/custos-project/custos/internal/storetest"
)

// TestQueryParameterTwice: through the API, a published file's query with a
// parameter of one value given twice (stage=police&stage=courts) is refused,
// naming it, and nothing is exported or logged, where the first value was
// taken silently and the police's counts published for a query that named
// both. The parameters that take several values still do.
func TestQueryParameterTwice(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		m := w.mapping(t)
		f := makeFile(t, 200, statstest.Options{Seed: 3})
		if _, err := w.S.Import(context.Background(), w.Statistician, stats.ImportRequest{Source: "police.csv", Mapping: m.ID}, bytes.NewReader(f.data), 0, nil); err != nil {
			t.Fatal(err)
		}
		const base = "/api/v1/stats/sdmx?unit=offence&level=1"
		size := w.LogSize(t)
		for _, q := range []struct{ query, field string }{
			{"&stage=police&stage=courts", "stage"},
			{"&stage=police&level=2", "level"},
			{"&stage=police&period=year&period=month", "period"},
			{"&stage=police&from=2020&from=2021", "from"},
			{"&stage=police&totals=true&totals=false", "totals"},
		} {
			r := w.Do(t, "GET", base+q.query, w.Token, nil)
			if r.Status != 422 || r.Str("error.rule") != "query" || r.Str("error.field") != q.field {
				t.Errorf("%s: %d %s, want 422 query at %s", q.query, r.Status, r.Raw, q.field)
			}
		}
		if got := w.LogSize(t); got != size {
			t.Errorf("the refused exports wrote %d leaves", got-size)
		}
		if r := w.Do(t, "GET", base+"&stage=police&by=victim_sex&by=region&iccs=01&iccs=02", w.Token, nil); r.Status != 200 {
			t.Errorf("by and iccs repeated: %d %s", r.Status, r.Raw)
		}
		if got := w.LogSize(t); got != size+2 {
			t.Errorf("the export wrote %d leaves, want 2 (export.made, export.completed)", got-size)
		}
	})
}
