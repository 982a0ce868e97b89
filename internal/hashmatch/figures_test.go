package hashmatch_test

import (
	"bytes"
	"context"
	"maps"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

// TestFigures opens five cases and takes each to another stage (left open,
// rejected, confirmed, reported, reported and removed), and checks the
// dashboards' counts, stages and times against that, on SQLite and
// PostgreSQL; the service and the analyst are refused the figures.
func TestFigures(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		bank := w.Bank(t, "Known images")
		var adds []any
		imgs := make([][]byte, 5)
		for i := range imgs {
			imgs[i] = apptest.BlocksPNG(t, uint64(10+i*7))
			h, err := hashmatch.HashImage(bytes.NewReader(imgs[i]), 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			adds = append(adds, map[string]any{"entry_id": "img-" + string(rune('a'+i)), "pdq": h.PDQ.String(), "classification": "A1"})
		}
		w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst, map[string]any{"adds": adds})
		w.Subscribe(t, bank)
		cases := make([]string, len(imgs))
		for i, img := range imgs {
			m := w.Upload(t, "/api/v1/hashmatch/match/image", w.Service, "image/png", img, "Custos-User-Id", "user-1", "Custos-Content-Ref", "upload/1")
			if m.Status != 200 || m.Str("case_id") == "" {
				t.Fatalf("upload %d: %d %s", i, m.Status, m.Raw)
			}
			cases[i] = m.Str("case_id")
		}
		review := func(c, decision string) {
			w.Must(t, 200, "POST", "/api/v1/hashmatch/cases/"+c+"/review", w.Reviewer, map[string]any{"decision": decision, "note": "checked"})
		}
		review(cases[1], "reject")
		for _, c := range cases[2:] {
			review(c, "confirm")
		}
		for _, c := range cases[3:] {
			w.Must(t, 201, "POST", "/api/v1/hashmatch/cases/"+c+"/report", w.Reviewer, map[string]any{"incident_type": "child_sexual_abuse_material"})
		}
		w.Must(t, 201, "POST", "/api/v1/hashmatch/cases/"+cases[4]+"/removal", w.Reviewer, map[string]any{"action": "removed"})

		now := time.Now().UTC()
		from, end := now.AddDate(0, -11, 0).Format("2006-01"), now.AddDate(0, 1, 0).Format("2006-01")
		reg := w.Principal(t, w.Regulator)
		f, err := w.App.Hashmatch.Figures(ctx, reg, from, end)
		if err != nil {
			t.Fatal(err)
		}
		month := now.Format("2006-01")
		for _, c := range []struct {
			name      string
			got, want map[string]int
		}{
			{"cases by month", f.Cases, map[string]int{month: 5}},
			{"reports by month", f.Reports, map[string]int{month: 2}},
			{"removals by month", f.Removals, map[string]int{month: 1}},
			{"stages", f.Stages, map[string]int{"open": 1, "rejected": 1, "confirmed": 1, "reported": 1, "removed": 1}},
		} {
			if !maps.Equal(c.got, c.want) {
				t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
			}
		}
		if len(f.ToReport) != 2 || len(f.ToRemoval) != 1 {
			t.Fatalf("times: %d to report, %d to removal; want 2 and 1", len(f.ToReport), len(f.ToRemoval))
		}
		for _, d := range append(f.ToReport, f.ToRemoval...) {
			if d < 0 || d > time.Minute {
				t.Errorf("a time of %v, for what the test did in seconds", d)
			}
		}

		// Another period holds none of it.
		f, err = w.App.Hashmatch.Figures(ctx, reg, "2020-01", "2021-01")
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Cases)+len(f.Reports)+len(f.Removals)+len(f.Stages)+len(f.ToReport)+len(f.ToRemoval) != 0 {
			t.Errorf("2020: %+v", f)
		}

		for _, tok := range []string{w.Service, w.Reviewer, w.Analyst} {
			if _, err := w.App.Hashmatch.Figures(ctx, w.Principal(t, tok), from, end); err == nil {
				t.Errorf("%s read the figures", w.Principal(t, tok).Role)
			}
		}
	})
}

func TestPercentile(t *testing.T) {
	h := func(n ...int) []time.Duration {
		var out []time.Duration
		for _, x := range n {
			out = append(out, time.Duration(x)*time.Hour)
		}
		return out
	}
	for _, c := range []struct {
		ds   []time.Duration
		pct  float64
		want time.Duration
	}{
		{nil, 50, 0},
		{h(7), 50, 7 * time.Hour},
		{h(7), 90, 7 * time.Hour},
		{h(1, 2), 50, time.Hour}, // nearest rank: the lower of two
		{h(1, 2, 3), 50, 2 * time.Hour},
		{h(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 90, 9 * time.Hour},
		{h(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), 90, 10 * time.Hour},
		{h(1, 2, 3), 100, 3 * time.Hour},
	} {
		if got := hashmatch.Percentile(c.ds, c.pct); got != c.want {
			t.Errorf("percentile %v of %v: %v, want %v", c.pct, c.ds, got, c.want)
		}
	}
}
