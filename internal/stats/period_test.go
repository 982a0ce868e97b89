package stats_test

import (
	"encoding/json"
	"testing"

	"github.com/custos-project/custos/internal/stats"
	"github.com/custos-project/custos/internal/storetest"
)

// TestYearOnlyRecords: a record dated by its year alone is counted in a
// period from-to that covers its whole year, and in no cell of one that
// cuts through it, where the answer says how many units it left out
// (not_placed); likewise a record dated by its month alone in a period
// that cuts through the month. Records outside the period are not
// counted and not said.
func TestYearOnlyRecords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		file := "iccs,stage,unit,date,count\n" +
			"0101,police,offence,2023,7\n" + // the year alone
			"0101,police,offence,2023-03,2\n" + // the month alone
			"0101,police,offence,2023-03-15,1\n" +
			"0101,police,offence,2023-08-01,4\n" +
			"0101,police,offence,2021,5\n" // another year
		if im := w.Upload(t, "/api/v1/stats/imports?source=years.csv", w.Token, "text/csv", []byte(file)); im.Status != 201 {
			t.Fatalf("import: %d %s", im.Status, im.Raw)
		}
		for _, c := range []struct {
			from, to         string
			count, notPlaced int64
		}{
			{"", "", 19, 0},
			{"2023", "2023", 14, 0},
			{"2023-01", "2023-12", 14, 0},
			{"2022-07", "2024-06", 14, 0},
			{"2023-01", "2023-06", 3, 7},       // the year is cut: its 7 not placed
			{"2023-03", "2023-03", 3, 7},       // the month is whole
			{"2023-03-01", "2023-03-20", 1, 9}, // the month is cut too
			{"2023-07", "", 4, 7},              // open at the end
			{"", "2023-02", 5, 7},              // open at the start: 2021 counted, 2023 cut
			{"2024", "2025", 0, 0},             // outside: nothing to say
			{"2023-09", "2023-12", 0, 7},       // nothing counted, the year not placed
		} {
			q := stats.Query{Stage: "police", Unit: "offence", From: c.from, To: c.to}
			r := w.Must(t, 200, "POST", "/api/v1/stats/aggregate", w.Token, q)
			var res stats.Result
			if err := json.Unmarshal(r.Raw, &res); err != nil {
				t.Fatal(err)
			}
			if got := res.Get(); got != c.count || res.NotPlaced != c.notPlaced {
				t.Errorf("from %q to %q: counted %d, not placed %d; want %d and %d (%s)", c.from, c.to, got, res.NotPlaced, c.count, c.notPlaced, r.Raw)
			}
		}
	})
}

// TestQueryNumbersStrict: a number in a query string is digits alone: a
// sign, a space or leading zeros beyond the number's digits is refused,
// naming the parameter, rather than read as the number.
func TestQueryNumbersStrict(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		size := w.LogSize(t)
		for _, c := range []struct{ path, field string }{
			{"/api/v1/stats/sdmx?stage=police&unit=offence&level=%2B1", "level"},
			{"/api/v1/stats/sdmx?stage=police&unit=offence&level=01", "level"},
			{"/api/v1/stats/sdmx?stage=police&unit=offence&level=-0", "level"},
			{"/api/v1/stats/uncts/police_offences?year=%2B2024", "year"},
			{"/api/v1/stats/uncts/police_offences?year=%202024", "year"},
		} {
			if r := w.Do(t, "GET", c.path, w.Token, nil); r.Status != 422 || r.Str("error.field") != c.field {
				t.Errorf("%s: %d %s, want 422 naming %s", c.path, r.Status, r.Raw, c.field)
			}
		}
		if got := w.LogSize(t); got != size {
			t.Errorf("the refused queries wrote %d leaves", got-size)
		}
	})
}
