package stats_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/stats"
	"github.com/custos-project/custos/internal/storetest"
)

// TestDemoRecords: the demo's mapping publishes, a year of its records
// imports through the importer, the same seed makes the same file, and
// the counts the registry gives back are those of the file: police
// offences by ICCS section, victims by sex, persons at every stage.
func TestDemoRecords(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, storetest.SQLite(t))
	rows, err := stats.ParseMapping(strings.NewReader(stats.DemoMapping()))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 30 {
		t.Errorf("the demo maps %d national codes, want a few dozen", len(rows))
	}
	m, err := w.S.PublishMapping(ctx, w.Statistician, stats.NewMapping{ID: stats.DemoMappingID, Name: "Demoland Penal Code 2019", Rows: rows})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Ambiguous) != 0 {
		t.Errorf("the demo's mapping leaves %v ambiguous", m.Ambiguous)
	}
	from, until := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	file := stats.DemoRecords(7, 2025, from, until, 0.1)
	if again := stats.DemoRecords(7, 2025, from, until, 0.1); !bytes.Equal(file, again) {
		t.Fatal("the same seed makes another file")
	}
	recs, err := csv.NewReader(bytes.NewReader(file)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{}
	iccsOf := map[string]string{}
	for _, r := range rows {
		iccsOf[r.NationalCode] = r.ICCS
	}
	for _, r := range recs[1:] {
		key := r[1] + "/" + r[2]
		want[key]++
		if r[1] == stats.StagePolice && r[2] == stats.UnitOffence {
			want["section "+iccsOf[r[0]][:2]]++
		}
		if r[1] == stats.StagePolice && r[2] == stats.UnitVictim {
			want["victim "+r[9]]++
		}
	}
	if want["police/offence"] < 1500 || want["police/victim"] == 0 || want["prisons/person"] == 0 {
		t.Fatalf("the file's counts are implausible: %v", want)
	}
	im, err := w.S.Import(ctx, w.Statistician, stats.ImportRequest{Source: "demoland-2025.csv", Mapping: stats.DemoMappingID}, bytes.NewReader(file), int64(len(file)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if im.Records != int64(len(recs)-1) {
		t.Errorf("imported %d records of %d", im.Records, len(recs)-1)
	}
	for _, stage := range []string{stats.StagePolice, stats.StageProsecution, stats.StageCourts, stats.StagePrisons} {
		for _, unit := range []string{stats.UnitOffence, stats.UnitVictim, stats.UnitPerson} {
			res, err := w.S.Aggregate(ctx, w.Regulator, stats.Query{Stage: stage, Unit: unit, Totals: true, Sources: []string{stats.SourceImport}})
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Get(); got != want[stage+"/"+unit] {
				t.Errorf("%s %s: %d, the file has %d", stage, unit, got, want[stage+"/"+unit])
			}
		}
	}
	res, err := w.S.Aggregate(ctx, w.Regulator, stats.Query{Stage: stats.StagePolice, Unit: stats.UnitOffence, Level: 1, Sources: []string{stats.SourceImport}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Cells {
		if c.Count != want["section "+c.Key[0]] {
			t.Errorf("section %s: %d, the file has %d", c.Key[0], c.Count, want["section "+c.Key[0]])
		}
	}
	res, err = w.S.Aggregate(ctx, w.Regulator, stats.Query{Stage: stats.StagePolice, Unit: stats.UnitVictim, By: []string{"sex"}, Sources: []string{stats.SourceImport}})
	if err != nil {
		t.Fatal(err)
	}
	for _, sex := range []string{"male", "female"} {
		if got := res.Get(sex); got != want["victim "+sex] || got == 0 {
			t.Errorf("%s victims: %d, the file has %d", sex, got, want["victim "+sex])
		}
	}
}
