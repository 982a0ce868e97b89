// Command oversight benchmarks the two reports of issue 14 over a registry
// generated once by bench/dataset (N transplanted organs, one waiting-list
// registration each, donations spread over 2020-2025), on SQLite and
// optionally PostgreSQL; each goal is under 2 s at 1,000,000 transplants.
//
//   - the GODT annual report (transplant.Service.GODT), for each year, beside
//     a plain GROUP BY over the base table: the year's transplants by centre;
//     each run checks that the report's organ totals add up to it;
//   - the equity report (transplant.Service.EquityReport) over every
//     registration, beside a plain GROUP BY of the same registrations by sex
//     over recipients (transplant.EquityBaselineSQL).
//
// Report and baseline alternate in one loop, after an untimed warm-up; the
// harness prints the median and minimum of each, their ratio, and the load
// average read from /proc/loadavg before each table.
//
// Generate once, then measure again and again:
//
//	go run ./bench/oversight -organs 1000000 -db /tmp/ov-1m.db -generate-only
//	go run ./bench/oversight -db /tmp/ov-1m.db -reuse
//	go run ./bench/oversight -no-sqlite -postgres URL -pg-organs 200000 -keep -generate-only   # prints the schema
//	go run ./bench/oversight -no-sqlite -postgres URL -pg-schema bench_XXXXXXXX
//
// Generating on PostgreSQL through the writer is a round trip a statement
// (over an hour for 1,000,000 organs on 2 loaded cores); -pg-copy instead
// copies the SQLite registry of -db, generated once, into the fresh schema
// (dataset.CopyToPostgres, checked by its test to give the same rows and
// reports), then VACUUM (ANALYZE), as autovacuum would:
//
//	go run ./bench/oversight -no-sqlite -db /tmp/ov-1m.db -postgres URL -pg-copy -keep -generate-only
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/custos-project/custos/bench/dataset"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/transplant"
)

var (
	organs   = flag.Int("organs", 1_000_000, "transplanted organs of the generated SQLite registry (one registration each)")
	dbPath   = flag.String("db", "/tmp/custos-oversight.db", "SQLite file (removed and regenerated unless -reuse)")
	reuse    = flag.Bool("reuse", false, "measure an existing -db instead of generating it")
	pgURL    = flag.String("postgres", "", "PostgreSQL URL: also measure PostgreSQL, in a fresh schema")
	pgOrgans = flag.Int("pg-organs", 0, "transplanted organs of the PostgreSQL registry (default: -organs)")
	pgSchema = flag.String("pg-schema", "", "with -postgres: measure this existing schema (kept by an earlier -keep run, key file /tmp/SCHEMA.key)")
	keep     = flag.Bool("keep", false, "keep the generated PostgreSQL schema and its key file")
	pgCopy   = flag.Bool("pg-copy", false, "with -postgres: fill the fresh schema (or the -pg-schema one, dropped and made again, and its key file removed) with a copy of the -db SQLite registry (dataset.CopyToPostgres) instead of generating through the writer")
	noSQLite = flag.Bool("no-sqlite", false, "measure PostgreSQL only")
	genOnly  = flag.Bool("generate-only", false, "generate (and migrate), measure nothing")
	reports  = flag.String("reports", "godt,equity", "which reports to measure")
	runs     = flag.Int("runs", 5, "timed runs of each report and of its baseline, alternating")
)

// godtBaselineSQL is the GODT's plain GROUP BY over the base table: a
// year's transplants by centre, from transplants alone.
const godtBaselineSQL = `SELECT centre_id, COUNT(*) FROM transplants WHERE performed_at >= ? AND performed_at < ? GROUP BY centre_id`

// usage heads -help: what the harness measures.
const usage = `Usage: go run ./bench/oversight [flags]

The benchmark of the GODT annual report (a year at a time) and the equity
report over a generated registry of -organs transplants (or an existing one,
-reuse), each against a plain GROUP BY in the same loop: median and minimum
wall and CPU time, and their ratios. SQLite, and PostgreSQL with -postgres.
BENCHMARKS.md gives the figures.

`

func main() {
	flag.Usage = func() {
		fmt.Fprint(flag.CommandLine.Output(), usage)
		flag.PrintDefaults()
	}
	flag.Parse()
	log.SetFlags(log.Ltime)
	ctx := context.Background()
	if !*noSQLite {
		if !*reuse {
			for _, f := range []string{*dbPath, *dbPath + "-wal", *dbPath + "-shm", *dbPath + ".key"} {
				os.Remove(f)
			}
		}
		if err := run(ctx, "sqlite", server.Config{DSN: *dbPath, Logger: quiet()}, *organs, !*reuse); err != nil {
			log.Fatal(err)
		}
	}
	if *pgURL != "" {
		dsn, keyFile, cleanup, err := dataset.PostgresKept(ctx, *pgURL, *pgSchema, *keep)
		if err != nil {
			log.Fatal(err)
		}
		defer cleanup()
		if u, err := url.Parse(dsn); err == nil {
			log.Printf("postgres: schema %s", u.Query().Get("search_path"))
		}
		n := *pgOrgans
		if n == 0 {
			n = *organs
		}
		generate := *pgSchema == ""
		if *pgCopy {
			if *pgSchema != "" {
				// The move never overwrites a registry or a key file: the
				// benchmark's own schema is made afresh.
				if err := renewSchema(ctx, *pgURL, *pgSchema); err != nil {
					log.Fatal(err)
				}
				os.Remove(keyFile)
			}
			t0 := time.Now()
			log.Printf("postgres: copying %s", *dbPath)
			if err := dataset.CopyToPostgres(ctx, *dbPath, *dbPath+".key", dsn, keyFile, func(m string) { log.Printf("postgres: %s", m) }); err != nil {
				log.Fatal(err)
			}
			log.Printf("postgres: copied in %v", time.Since(t0).Round(time.Second))
			generate = false
		}
		if err := run(ctx, "postgres", server.Config{DSN: dsn, KeyFile: keyFile, Logger: quiet()}, n, generate); err != nil {
			log.Print(err)
		}
	}
}

// renewSchema drops the schema of the PostgreSQL at pgURL and makes it
// again, empty, for -pg-copy into -pg-schema.
func renewSchema(ctx context.Context, pgURL, schema string) error {
	admin, err := sql.Open("pgx", pgURL)
	if err != nil {
		return err
	}
	defer admin.Close()
	name := pgx.Identifier{schema}.Sanitize()
	for _, q := range []string{"DROP SCHEMA IF EXISTS " + name + " CASCADE", "CREATE SCHEMA " + name} {
		if _, err := admin.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// vacuum runs VACUUM (ANALYZE) on the PostgreSQL registry at dsn, as
// autovacuum would after a bulk load, and says how long it took.
func vacuum(ctx context.Context, dsn string) error {
	t0 := time.Now()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.SQL().ExecContext(ctx, "VACUUM (ANALYZE)"); err != nil {
		return err
	}
	log.Printf("postgres: VACUUM (ANALYZE) in %v", time.Since(t0).Round(time.Millisecond))
	return nil
}

func quiet() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// load is the machine's load average as /proc/loadavg gives it.
func load() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

func run(ctx context.Context, backend string, cfg server.Config, n int, generate bool) error {
	if generate {
		log.Printf("%s: generating %d organs", backend, n)
		st, err := dataset.Generate(ctx, cfg, dataset.Options{Organs: n, Progress: func(m string) { log.Printf("%s: %s", backend, m) }})
		if err != nil {
			return fmt.Errorf("generate: %w", err)
		}
		log.Printf("%s: generated %d donors, %d organs, %d leaves in %v", backend, st.Donors, st.Organs, st.Leaves, st.Took.Round(time.Second))
		if backend == "postgres" {
			// A deployed PostgreSQL registry has autovacuum: its statistics
			// and visibility map, which the index-only scans need.
			if err := vacuum(ctx, cfg.DSN); err != nil {
				return err
			}
		}
	}
	// A registry generated by an earlier build lacks the later migrations
	// (transplant 15 fills the reports' rows from its tables): apply them,
	// as custos migrate does, and say how long they took.
	t0 := time.Now()
	db, err := store.Open(ctx, cfg.DSN)
	if err != nil {
		return err
	}
	applied, err := server.Migrate(ctx, server.Config{}, db)
	db.Close()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, a := range applied {
		log.Printf("%s: applied %s %d (%s)", backend, a.Module, a.Version, a.Name)
	}
	log.Printf("%s: %d migrations applied in %v", backend, len(applied), time.Since(t0).Round(time.Millisecond))
	app, err := server.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer app.Close()
	if *genOnly {
		return nil
	}
	var transplants, registrations int64
	q := app.DB.Read()
	if err := q.QueryRow(ctx, "SELECT COUNT(*) FROM transplants").Scan(&transplants); err != nil {
		return err
	}
	if err := q.QueryRow(ctx, "SELECT COUNT(*) FROM recipients").Scan(&registrations); err != nil {
		return err
	}
	fmt.Printf("%s: %d transplants, %d registrations\n", backend, transplants, registrations)
	if strings.Contains(*reports, "godt") {
		if err := godt(ctx, backend, app); err != nil {
			return err
		}
	}
	if strings.Contains(*reports, "equity") {
		return equity(ctx, backend, app)
	}
	return nil
}

// alternate times report and baseline one after the other, runs+1 times,
// the first untimed: wall time, and this process's CPU time (user and
// system, every thread: on SQLite the query's work, on PostgreSQL the
// client's share only).
func alternate(report, baseline func() error) (r, b timings, err error) {
	for i := 0; i <= *runs; i++ {
		t0, c0 := time.Now(), cpu()
		if err := report(); err != nil {
			return r, b, err
		}
		d, dc := time.Since(t0), cpu()-c0
		t0, c0 = time.Now(), cpu()
		if err := baseline(); err != nil {
			return r, b, err
		}
		if i > 0 {
			r.wall, r.cpu = append(r.wall, d), append(r.cpu, dc)
			b.wall, b.cpu = append(b.wall, time.Since(t0)), append(b.cpu, cpu()-c0)
		}
	}
	return r, b, nil
}

type timings struct{ wall, cpu []time.Duration }

// cpu is the CPU time this process has used.
func cpu() time.Duration {
	var u syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// cellsHeader names the columns cells writes.
const cellsHeader = "report median (min) | GROUP BY median (min) | ratio of medians | report CPU median | GROUP BY CPU median | CPU ratio"

func cells(r, b timings) string {
	mr, mb := median(r.wall), median(b.wall)
	cr, cb := median(r.cpu), median(b.cpu)
	return fmt.Sprintf("%v (%v) | %v (%v) | %.2f | %v | %v | %.2f", shown(mr), shown(slices.Min(r.wall)),
		shown(mb), shown(slices.Min(b.wall)), float64(mr)/float64(mb),
		shown(cr), shown(cb), float64(cr)/float64(max(cb, 1)))
}

// shown rounds a time for the table: to the millisecond from 100 ms, to
// 10 µs below, where a whole millisecond would hide the difference between
// two builds (a year's GODT report takes 30-50 ms at 200,000 organs).
func shown(d time.Duration) time.Duration {
	if d >= 100*time.Millisecond {
		return d.Round(time.Millisecond)
	}
	return d.Round(10 * time.Microsecond)
}

func godt(ctx context.Context, backend string, app *server.App) error {
	p := &auth.Principal{ID: "PR-BENCHAUDITOR", Role: auth.Auditor}
	fmt.Printf("\nGODT report, load average %s\n\n| backend | year | transplants of the year | %s |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n", load(), cellsHeader)
	for year := 2020; year <= 2025; year++ {
		var counted int64
		from, end := fmt.Sprintf("%04d", year), fmt.Sprintf("%04d", year+1)
		var rep *transplant.GODTReport
		r, b, err := alternate(func() (err error) {
			rep, err = app.Transplant.GODT(ctx, p, transplant.GODTQuery{Country: dataset.Jurisdiction, Year: year, Population: 5_000_000})
			return err
		}, func() error {
			rows, err := app.DB.Read().Query(ctx, godtBaselineSQL, from, end)
			if err != nil {
				return err
			}
			defer rows.Close()
			counted = 0
			for rows.Next() {
				var c string
				var k int64
				if err := rows.Scan(&c, &k); err != nil {
					return err
				}
				counted += k
			}
			// The report reconciles with the base table: every generated
			// transplant is a procedure of one organ.
			sum := rep.Value("total_kidney_tx") + rep.Value("total_liver_tx") + rep.Value("total_heart_tx") + rep.Value("total_lung_tx") +
				rep.Value("pancreas_tx") + rep.Value("small_bowel_tx")
			if sum != counted {
				return fmt.Errorf("%d: the report counts %d transplants, the base table %d", year, sum, counted)
			}
			return rows.Err()
		})
		if err != nil {
			return err
		}
		fmt.Printf("| %s | %d | %d | %s |\n", backend, year, counted, cells(r, b))
	}
	fmt.Printf("\nload average after: %s\n", load())
	return nil
}

func equity(ctx context.Context, backend string, app *server.App) error {
	reader := &auth.Principal{ID: "PR-BENCHREADER", Role: auth.Regulator, Jurisdiction: dataset.Jurisdiction}
	f := transplant.EquityFilter{From: "1900-01-01", End: "2999-01-01"} // every registration
	var total, groups int
	fmt.Printf("\nEquity report, load average %s\n\n| backend | registrations counted | %s |\n|---|---:|---:|---:|---:|---:|---:|---:|\n", load(), cellsHeader)
	r, b, err := alternate(func() error {
		e, err := app.Transplant.EquityReport(ctx, reader, f)
		if err == nil {
			total = e.Tables[0].Counts.Total.Value
		}
		return err
	}, func() error {
		rows, err := app.DB.Read().Query(ctx, transplant.EquityBaselineSQL, f.From, f.End)
		if err != nil {
			return err
		}
		defer rows.Close()
		groups = 0
		for rows.Next() {
			groups++
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	if groups == 0 {
		return fmt.Errorf("the baseline counted no registration")
	}
	fmt.Printf("| %s | %d | %s |\n", backend, total, cells(r, b))
	fmt.Printf("\nload average after: %s\n", load())
	return nil
}
