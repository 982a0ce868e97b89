package stats_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
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
			"0101,police,offence,2021,5\n" + // another year
			"0101,courts,person,2023,2\n" // fewer than the disclosure threshold
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
			// The SDMX-CSV file of the same query carries it: a column
			// NOT_PLACED, on every row, when from or to is given.
			want := ""
			if c.from != "" || c.to != "" {
				want = strconv.FormatInt(c.notPlaced, 10)
			}
			checkSDMXNotPlaced(t, w, url.Values{"stage": {"police"}, "unit": {"offence"}, "level": {"1"}, "from": {c.from}, "to": {c.to}}, want)
		}
		// Fewer units than the disclosure threshold are not told exactly,
		// as the table page does not.
		checkSDMXNotPlaced(t, w, url.Values{"stage": {"courts"}, "unit": {"person"}, "level": {"1"}, "by": {"sex"}, "from": {"2023-01"}, "to": {"2023-06"}}, "<5")
		checkSDMXNotPlaced(t, w, url.Values{"stage": {"courts"}, "unit": {"person"}, "period": {"month"}, "from": {"2023-02"}}, "<5") // nothing counted: the grand total, 0
	})
}

// checkSDMXNotPlaced downloads the SDMX-CSV file of query q and checks its
// column NOT_PLACED: absent when want is "", else want on every row, of
// which there is at least one.
func checkSDMXNotPlaced(t *testing.T, w *world, q url.Values, want string) {
	t.Helper()
	for k, v := range q {
		if len(v) == 1 && v[0] == "" {
			q.Del(k)
		}
	}
	r := w.Must(t, 200, "GET", "/api/v1/stats/sdmx?"+q.Encode(), w.Token, nil)
	rows, err := csv.NewReader(bytes.NewReader(r.Raw)).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("%s: SDMX-CSV %v: %s", q.Encode(), err, r.Raw)
	}
	col := slices.Index(rows[0], stats.SDMXNotPlaced)
	if want == "" {
		if col >= 0 {
			t.Errorf("%s: a column %s without from or to: %s", q.Encode(), stats.SDMXNotPlaced, r.Raw)
		}
		return
	}
	if col != len(rows[0])-1 || rows[0][col-1] != "CONF_STATUS" {
		t.Fatalf("%s: columns %q, want %s last, after CONF_STATUS", q.Encode(), rows[0], stats.SDMXNotPlaced)
	}
	for _, row := range rows[1:] {
		if row[col] != want {
			t.Errorf("%s: row %q says %s %q, want %q", q.Encode(), row, stats.SDMXNotPlaced, row[col], want)
		}
	}
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
