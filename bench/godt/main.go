// Command godt benchmarks the GODT annual report (transplant.Service.GODT,
// docs/oversight.md) on a generated registry of N transplanted organs
// (bench/dataset: donations spread over 2020-2025), on SQLite and
// optionally PostgreSQL. For each year it times the report (both of its
// statements, as the API answers it) and, alternately in the same loop, a
// plain GROUP BY over the base table: the year's transplants counted by
// centre, one statement on transplants alone. It prints the median and the
// minimum of each and their ratio.
//
//	go run ./bench/godt -organs 1000000 -db /tmp/godt.db [-postgres URL -pg-organs 100000]
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/custos-project/custos/bench/dataset"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/transplant"
)

var (
	organs   = flag.Int("organs", 1_000_000, "transplanted organs of the generated SQLite registry")
	dbPath   = flag.String("db", "/tmp/custos-godt.db", "SQLite file (removed and regenerated unless -reuse)")
	reuse    = flag.Bool("reuse", false, "measure an existing -db instead of generating it")
	pgURL    = flag.String("postgres", "", "PostgreSQL URL: also measure PostgreSQL, in a fresh schema")
	pgOrgans = flag.Int("pg-organs", 0, "transplanted organs of the PostgreSQL registry (default: -organs)")
	runs     = flag.Int("runs", 5, "timed runs of the report and of the baseline, per year")
)

// baselineSQL is the plain GROUP BY over the base table: a year's
// transplants by centre, from transplants alone.
const baselineSQL = `SELECT centre_id, COUNT(*) FROM transplants WHERE performed_at >= ? AND performed_at < ? GROUP BY centre_id`

func main() {
	flag.Parse()
	log.SetFlags(log.Ltime)
	ctx := context.Background()
	cfg := server.Config{DSN: *dbPath, Logger: quiet()}
	if !*reuse {
		for _, f := range []string{*dbPath, *dbPath + "-wal", *dbPath + "-shm", *dbPath + ".key"} {
			os.Remove(f)
		}
	}
	if err := run(ctx, "sqlite", cfg, *organs, *reuse); err != nil {
		log.Fatal(err)
	}
	if *pgURL == "" {
		return
	}
	admin, err := sql.Open("pgx", *pgURL)
	if err != nil {
		log.Fatal(err)
	}
	defer admin.Close()
	b := make([]byte, 4)
	rand.Read(b)
	schema := "bench_godt_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		log.Fatal(err)
	}
	defer admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	u, err := url.Parse(*pgURL)
	if err != nil {
		log.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	dir, err := os.MkdirTemp("", "custos-godt")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	n := *pgOrgans
	if n == 0 {
		n = *organs
	}
	if err := run(ctx, "postgres", server.Config{DSN: u.String(), KeyFile: filepath.Join(dir, "bench.key"), Logger: quiet()}, n, false); err != nil {
		log.Print(err)
	}
}

func quiet() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func run(ctx context.Context, backend string, cfg server.Config, n int, reuse bool) error {
	if !reuse {
		log.Printf("%s: generating %d organs", backend, n)
		st, err := dataset.Generate(ctx, cfg, dataset.Options{Organs: n, Progress: func(m string) { log.Printf("%s: %s", backend, m) }})
		if err != nil {
			return fmt.Errorf("generate: %w", err)
		}
		log.Printf("%s: generated %d donors, %d organs, %d leaves in %v", backend, st.Donors, st.Organs, st.Leaves, st.Took.Round(time.Second))
	}
	app, err := server.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer app.Close()
	p := &auth.Principal{ID: "bench", Role: auth.Auditor}
	var total int64
	if err := app.DB.Read().QueryRow(ctx, "SELECT COUNT(*) FROM transplants").Scan(&total); err != nil {
		return err
	}
	fmt.Printf("%s: %d transplants in the registry\n", backend, total)
	fmt.Printf("| backend | year | transplants counted | GODT report median (min) | GROUP BY median (min) | ratio of medians |\n|---|---|---|---|---|---|\n")
	for year := 2020; year <= 2025; year++ {
		var report, base []time.Duration
		var counted int64
		from, end := fmt.Sprintf("%04d", year), fmt.Sprintf("%04d", year+1)
		for i := 0; i < *runs+1; i++ { // the first run of each warms the cache, untimed
			t0 := time.Now()
			rep, err := app.Transplant.GODT(ctx, p, transplant.GODTQuery{Country: dataset.Jurisdiction, Year: year, Population: 5_000_000})
			if err != nil {
				return err
			}
			d1 := time.Since(t0)
			t0 = time.Now()
			rows, err := app.DB.Read().Query(ctx, baselineSQL, from, end)
			if err != nil {
				return err
			}
			var n int64
			for rows.Next() {
				var c string
				var k int64
				if err := rows.Scan(&c, &k); err != nil {
					return err
				}
				n += k
			}
			rows.Close()
			d2 := time.Since(t0)
			counted = n
			// The report must reconcile with the base table: every
			// generated transplant is a procedure of one organ.
			sum := rep.Value("total_kidney_tx") + rep.Value("total_liver_tx") + rep.Value("total_heart_tx") + rep.Value("total_lung_tx") +
				rep.Value("pancreas_tx") + rep.Value("small_bowel_tx")
			if sum != n {
				return fmt.Errorf("%d: the report counts %d transplants, the base table %d", year, sum, n)
			}
			if i > 0 {
				report, base = append(report, d1), append(base, d2)
			}
		}
		mr, mb := median(report), median(base)
		fmt.Printf("| %s | %d | %d | %v (%v) | %v (%v) | %.2f |\n", backend, year, counted, mr.Round(time.Millisecond), slices.Min(report).Round(time.Millisecond),
			mb.Round(time.Millisecond), slices.Min(base).Round(time.Millisecond), float64(mr)/float64(mb))
	}
	return nil
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
