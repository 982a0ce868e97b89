// Command stats is the benchmark of the statistics registry (issue 19): it
// imports N national records (victims recorded by the police over ten
// years, every tag filled) through the real importer, then times the
// aggregation by ICCS level 2 × sex × age band × year (goal: under 1 s at
// 10,000,000 records) beside a same-run baseline: the same records as rows
// of a plain table, counted by one GROUP BY. Other combinations are
// reported, not bound by the goal. SQLite, and PostgreSQL when given.
//
//	go run ./bench/stats -records 10000000 -db /tmp/custos-stats.db [-postgres URL]
package main

import (
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/custos-project/custos/bench/dataset"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/cputime"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/stats"
	"github.com/custos-project/custos/internal/stats/statstest"
	"github.com/custos-project/custos/internal/store"
)

var (
	records   = flag.Int("records", 10_000_000, "records to import")
	dbPath    = flag.String("db", "/tmp/custos-stats-bench.db", "SQLite file (removed and regenerated)")
	pgURL     = flag.String("postgres", "", "PostgreSQL URL: also measure PostgreSQL, in a fresh schema")
	noSQLite  = flag.Bool("no-sqlite", false, "measure PostgreSQL only")
	runs      = flag.Int("runs", 5, "timed runs of each aggregation")
	baseRuns  = flag.Int("baseline-runs", 3, "timed runs of the baseline GROUP BY")
	csvPath   = flag.String("csv", "", "the records file (generated when it does not exist; default a temporary file)")
	noBaseRun = flag.Bool("no-baseline", false, "skip the baseline table")
)

// goal is the aggregation the issue sets a goal for.
var goal = stats.Query{Stage: stats.StagePolice, Unit: stats.UnitVictim, Level: 2, By: []string{"sex", "age_band"}, Period: stats.PeriodYear}

// others are reported beside it.
var others = []struct {
	name string
	q    stats.Query
}{
	{"level 2 × sex × age band × year, with totals", func() stats.Query { q := goal; q.Totals = true; return q }()},
	{"level 1 × year", stats.Query{Stage: stats.StagePolice, Unit: stats.UnitVictim, Level: 1, Period: stats.PeriodYear}},
	{"level 4 × region × month", stats.Query{Stage: stats.StagePolice, Unit: stats.UnitVictim, Level: 4, By: []string{"region"}, Period: stats.PeriodMonth}},
	{"level 3 × relationship × citizenship × weapon × quarter, one region", stats.Query{Stage: stats.StagePolice, Unit: stats.UnitVictim, Level: 3,
		By: []string{"relationship", "victim_citizenship", "weapon"}, Period: stats.PeriodQuarter, Filter: map[string][]string{"region": {"North"}}}},
}

// usage heads -help: what the harness measures.
const usage = `Usage: go run ./bench/stats [flags]

The benchmark of the statistics registry: it imports -records national crime
records through the real importer (records/s), then times the aggregation by
ICCS level 2 x sex x age band x year (the goal: under 1 s at 10,000,000) and
other combinations (median, min), against a plain GROUP BY over the same
records (ratio of medians). SQLite, and PostgreSQL with -postgres.
BENCHMARKS.md gives the figures.

`

func main() {
	flag.Usage = func() {
		fmt.Fprint(flag.CommandLine.Output(), usage)
		flag.PrintDefaults()
	}
	flag.Parse()
	ctx := context.Background()
	path, cleanup, err := dataset.InputFile(*csvPath, "custos-stats-bench-*.csv", fmt.Sprintf("%d records", *records), func(path string) error {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer f.Close()
		return statstest.Write(f, *records, statstest.Options{Seed: 19, FirstYear: 2016, Years: 10, Stage: stats.StagePolice, Unit: stats.UnitVictim})
	})
	if err != nil {
		log.Fatal(err)
	}
	defer cleanup()
	if err := dataset.Backends(ctx, *dbPath, *pgURL, *noSQLite, func(backend string, cfg server.Config) error { return run(ctx, backend, cfg, path) }); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, backend string, cfg server.Config, path string) error {
	app, admin, st, err := dataset.OpenAs(ctx, cfg, auth.NewAuthority{Name: "Benchmark statistics office", Kind: stats.KindStatisticsOffice, Jurisdiction: "XA"},
		auth.NewPrincipal{Name: "Benchmark statistician", Role: stats.RoleStatistician})
	if err != nil {
		return err
	}
	defer app.Close()
	s := app.Service("stats").(*stats.Service)
	rows, err := stats.ParseMapping(strings.NewReader(statstest.Mapping))
	if err != nil {
		return err
	}
	m, err := s.PublishMapping(ctx, st, stats.NewMapping{ID: "bench", Name: "Benchmark penal code", Rows: rows})
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	fi, _ := f.Stat()
	start := time.Now()
	im, err := s.Import(ctx, st, stats.ImportRequest{Source: filepath.Base(path), Mapping: m.ID}, f, fi.Size(), nil)
	f.Close()
	if err != nil {
		return err
	}
	took := time.Since(start)
	log.Printf("%s: imported %d records (%.0f MB) in %v, %.0f records/s", backend, im.Records, float64(fi.Size())/1e6, took.Round(time.Millisecond), float64(im.Records)/took.Seconds())

	time1 := func(name string, q stats.Query, n int) (time.Duration, *stats.Result, error) {
		var ds []time.Duration
		var res *stats.Result
		cpu0, _ := cputime.Process()
		for range n {
			t := time.Now()
			r, err := s.Aggregate(ctx, admin, q)
			if err != nil {
				return 0, nil, err
			}
			ds = append(ds, time.Since(t))
			res = r
		}
		cpu1, _ := cputime.Process()
		slices.Sort(ds)
		log.Printf("%s: %s: min %v, median %v, process CPU %v a run, %d cells, %d records read", backend, name, ds[0].Round(time.Millisecond),
			ds[len(ds)/2].Round(time.Millisecond), ((cpu1 - cpu0) / time.Duration(n)).Round(time.Millisecond), len(res.Cells), res.Records)
		return ds[len(ds)/2], res, nil
	}
	med, res, err := time1("GOAL level 2 × sex × age band × year", goal, *runs)
	if err != nil {
		return err
	}
	for _, o := range others {
		if _, _, err := time1(o.name, o.q, *runs); err != nil {
			return err
		}
	}
	if *noBaseRun {
		return nil
	}
	if err := baselineTable(ctx, app.DB, path); err != nil {
		return err
	}
	var ds []time.Duration
	var cells int
	var sum int64
	cpu0, _ := cputime.Process()
	for range *baseRuns {
		t := time.Now()
		cells, sum, err = baseline(ctx, app.DB)
		if err != nil {
			return err
		}
		ds = append(ds, time.Since(t))
	}
	cpu1, _ := cputime.Process()
	slices.Sort(ds)
	log.Printf("%s: baseline process CPU %v a run (PostgreSQL's own work is not in it)", backend, ((cpu1 - cpu0) / time.Duration(*baseRuns)).Round(time.Millisecond))
	var total int64
	for _, c := range res.Cells {
		total += c.Count
	}
	log.Printf("%s: BASELINE GROUP BY over %d rows: min %v, median %v, %d cells (custos %d), sum %d (custos %d); custos median / baseline median = %.3f",
		backend, *records, ds[0].Round(time.Millisecond), ds[len(ds)/2].Round(time.Millisecond), cells, len(res.Cells), sum, total,
		med.Seconds()/ds[len(ds)/2].Seconds())
	return nil
}

// baselineTable loads the records as plain rows: the level-4 (or coarser)
// ICCS code, the date as written, the victim's sex and age, as a first
// design would store them, with batch inserts of 500 rows.
func baselineTable(ctx context.Context, db *store.DB, path string) error {
	start := time.Now()
	tx, err := db.BeginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.Exec(ctx, "CREATE TABLE bench_rows (iccs TEXT NOT NULL, stage TEXT NOT NULL, unit TEXT NOT NULL, date TEXT NOT NULL, victim_sex TEXT NOT NULL, victim_age INTEGER)"); err != nil {
		return err
	}
	mapped := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(statstest.Mapping), "\n")[1:] {
		f := strings.Split(l, ",")
		mapped[f[0]] = f[2]
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.ReuseRecord = true
	h, err := r.Read()
	if err != nil {
		return err
	}
	col := map[string]int{}
	for i, n := range h {
		col[n] = i
	}
	const batch = 500
	stmt := "INSERT INTO bench_rows (iccs, stage, unit, date, victim_sex, victim_age) VALUES " + strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?), ", batch), ", ")
	args := make([]any, 0, 6*batch)
	n := 0
	flush := func(q string) error {
		if len(args) == 0 {
			return nil
		}
		_, err := tx.Exec(ctx, q, args...)
		args = args[:0]
		return err
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		var age any
		if a := rec[col["victim_age"]]; a != "" {
			age = a
		}
		args = append(args, mapped[rec[col["offence_code"]]], rec[col["stage"]], rec[col["unit"]], rec[col["date"]], or(rec[col["victim_sex"]], "unknown"), age)
		n++
		if n%batch == 0 {
			if err := flush(stmt); err != nil {
				return err
			}
		}
	}
	if rest := len(args) / 6; rest > 0 {
		if err := flush("INSERT INTO bench_rows (iccs, stage, unit, date, victim_sex, victim_age) VALUES " + strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?), ", rest), ", ")); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if db.Dialect == store.Postgres {
		if _, err := db.SQL().ExecContext(ctx, "ANALYZE bench_rows"); err != nil {
			return err
		}
	}
	log.Printf("baseline: loaded %d rows in %v", n, time.Since(start).Round(time.Millisecond))
	return nil
}

func or(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// baseline is the plain GROUP BY: level-2 code, sex, age band, year.
func baseline(ctx context.Context, db *store.DB) (int, int64, error) {
	rows, err := db.Read().Query(ctx, `SELECT substr(iccs, 1, 4), victim_sex,
		CASE WHEN victim_age IS NULL THEN 'unknown' WHEN victim_age <= 14 THEN '0-14' WHEN victim_age <= 17 THEN '15-17' WHEN victim_age <= 24 THEN '18-24'
		WHEN victim_age <= 34 THEN '25-34' WHEN victim_age <= 44 THEN '35-44' WHEN victim_age <= 54 THEN '45-54' WHEN victim_age <= 64 THEN '55-64' ELSE '65+' END,
		substr(date, 1, 4), COUNT(*) FROM bench_rows WHERE stage = 'police' AND unit = 'victim' GROUP BY 1, 2, 3, 4`)
	if err != nil {
		return 0, 0, err
	}
	defer rows.Close()
	n, sum := 0, int64(0)
	for rows.Next() {
		var a, b, c, d string
		var k int64
		if err := rows.Scan(&a, &b, &c, &d, &k); err != nil {
			return 0, 0, err
		}
		n++
		sum += k
	}
	return n, sum, rows.Err()
}
