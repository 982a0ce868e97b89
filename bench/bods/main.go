// Command bods is the benchmark of beneficial ownership (issue 15, item 6):
// it generates N BODS 0.4 statements (ownership groups of persons, entities
// and shareholdings, with indirect chains across groups and loops), imports
// them through the real importer (validation against the official schema,
// storage, the log entry) with a progress bar, and times ultimate-owner
// answers at that size through the service, each lookup's log entry
// joining the writer's group commit, from concurrent clients. Same-run
// baselines: a plain INSERT of the same rows into a table of the same
// columns (no parsing, no validation, no log), and a plain recursive CTE
// over the stored statements answering the same questions (no log entry).
// SQLite, and PostgreSQL when given.
//
//	go run ./bench/bods -statements 1000000 -db /tmp/custos-bods.db [-postgres URL]
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/custos-project/custos/bench/dataset"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/assets/bods"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/store"
)

var (
	statements = flag.Int("statements", 1_000_000, "statements to generate and import")
	dbPath     = flag.String("db", "/tmp/custos-bods-bench.db", "SQLite file (removed and regenerated)")
	pgURL      = flag.String("postgres", "", "PostgreSQL URL: also measure PostgreSQL, in a fresh schema")
	noSQLite   = flag.Bool("no-sqlite", false, "measure PostgreSQL only")
	lookups    = flag.Int("lookups", 4000, "ultimate-owner lookups timed")
	clients    = flag.Int("clients", 16, "concurrent clients looking up")
	filePath   = flag.String("file", "", "the BODS file (generated when it does not exist; default a temporary file)")
	quietBar   = flag.Bool("quiet", false, "no progress bar")
	cpuProfile = flag.String("cpuprofile", "", "write a CPU profile (pprof) of the import and the lookups to this file")
)

// A group is 10 statements: persons P1, P2; entities E1, E2, E3;
// shareholdings E1←E2 60%, E1←E3 40%, E2←P1 25–50%, E3←P1 100%, E2←E3 10%.
// E3 of a group is also held 30% by E1 of the next group in runs of five
// groups (chains ten deep), and every tenth group closes a loop E3←E1 5%.
const perGroup = 10

func rec(kind string, g int) string { return fmt.Sprintf("%s%07d", kind, g) }

func generate(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	b := &bods.Builder{Prefix: "bench", Date: "2026-11-30", Publisher: "Demoland companies register"}
	groups := n / perGroup
	written := 0
	put := func(s []byte) {
		if written < n {
			w.Write(s)
			w.WriteByte('\n')
			written++
		}
	}
	for g := 0; g < groups; g++ {
		b.Subject = rec("E1-", g)
		put(b.Person(rec("P1-", g), fmt.Sprintf("Person %d A", g), ""))
		put(b.Person(rec("P2-", g), fmt.Sprintf("Person %d B", g), ""))
		put(b.Entity(rec("E1-", g), fmt.Sprintf("Company %d One Ltd", g), "DL", ""))
		put(b.Entity(rec("E2-", g), fmt.Sprintf("Company %d Two Ltd", g), "DL", ""))
		put(b.Entity(rec("E3-", g), fmt.Sprintf("Company %d Three SA", g), "XB", ""))
		put(b.Relationship(rec("R1-", g), rec("E1-", g), rec("E2-", g), []float64{60}, ""))
		put(b.Relationship(rec("R2-", g), rec("E1-", g), rec("E3-", g), []float64{40}, ""))
		put(b.Relationship(rec("R3-", g), rec("E2-", g), rec("P1-", g), []float64{25, 50}, ""))
		put(b.Relationship(rec("R4-", g), rec("E3-", g), rec("P1-", g), []float64{100}, ""))
		switch {
		case g%10 == 9:
			put(b.Relationship(rec("R5-", g), rec("E3-", g), rec("E1-", g), []float64{5}, ""))
		case g%5 != 4 && g+1 < groups:
			put(b.Relationship(rec("R5-", g), rec("E3-", g), rec("E1-", g+1), []float64{30}, ""))
		default:
			put(b.Relationship(rec("R5-", g), rec("E2-", g), rec("P2-", g), []float64{10}, ""))
		}
	}
	for written < n { // the rest: lone persons
		put(b.Person(rec("PX-", written), "Someone", ""))
	}
	return w.Flush()
}

func main() {
	flag.Parse()
	ctx := context.Background()
	path := *filePath
	if path == "" {
		f, err := os.CreateTemp("", "custos-bods-bench-*.jsonl")
		if err != nil {
			log.Fatal(err)
		}
		f.Close()
		path = f.Name()
		defer os.Remove(path)
	}
	if st, err := os.Stat(path); err != nil || st.Size() == 0 {
		start := time.Now()
		if err := generate(path, *statements); err != nil {
			log.Fatal(err)
		}
		log.Printf("wrote %d statements to %s in %v", *statements, path, time.Since(start).Round(time.Millisecond))
	}
	if *cpuProfile != "" {
		pf, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			log.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	if !*noSQLite {
		for _, f := range []string{*dbPath, *dbPath + "-wal", *dbPath + "-shm", *dbPath + ".key"} {
			os.Remove(f)
		}
		if err := run(ctx, "sqlite", server.Config{DSN: *dbPath, Logger: quiet()}, path); err != nil {
			log.Fatal(err)
		}
	}
	if *pgURL != "" {
		if err := runPostgres(ctx, path); err != nil {
			log.Fatal(err)
		}
	}
}

func quiet() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func runPostgres(ctx context.Context, path string) error {
	dsn, keyFile, cleanup, err := dataset.PostgresSchema(ctx, *pgURL)
	if err != nil {
		return err
	}
	defer cleanup()
	return run(ctx, "postgres", server.Config{DSN: dsn, KeyFile: keyFile, Logger: quiet()}, path)
}

func bar(unit string) func(done, total int64) {
	return func(done, total int64) {
		if *quietBar {
			return
		}
		const width = 30
		n := min(int(width*done/max(total, 1)), width)
		fmt.Fprintf(os.Stderr, "\r[%s%s] %d/%d %s", strings.Repeat("#", n), strings.Repeat(".", width-n), done, total, unit)
		if done >= total {
			fmt.Fprintln(os.Stderr)
		}
	}
}

func run(ctx context.Context, backend string, cfg server.Config, path string) error {
	token, err := server.Init(ctx, cfg, server.InitOptions{Jurisdiction: "XA", Authority: "Benchmark authority"})
	if err != nil {
		return err
	}
	app, err := server.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer app.Close()
	s := app.Service("assets").(*assets.Service)
	admin, err := auth.Authenticate(ctx, app.DB.Read(), token)
	if err != nil {
		return err
	}
	ca, err := app.Authorities.CreateAuthority(ctx, admin, auth.NewAuthority{Name: "Benchmark central authority", Kind: assets.KindCentralAuthority, Jurisdiction: "XA"})
	if err != nil {
		return err
	}
	created, err := app.Authorities.CreatePrincipal(ctx, admin, auth.NewPrincipal{Name: "Benchmark officer", Role: assets.RoleCentralAuthority, AuthorityID: ca.ID})
	if err != nil {
		return err
	}
	officer, err := auth.Authenticate(ctx, app.DB.Read(), created.Token)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	fi, _ := f.Stat()
	bars := map[string]func(int64, int64){"validate": bar("bytes checked"), "store": bar("statements stored")}
	start := time.Now()
	im, err := s.ImportBODS(ctx, officer, filepath.Base(path), f, fi.Size(), func(phase string, done, total int64) { bars[phase](done, total) })
	f.Close()
	if err != nil {
		return err
	}
	took := time.Since(start)
	rate := float64(im.Statements) / took.Seconds()
	log.Printf("%s: imported %d statements (%.0f MB) in %v: %.0f statements/s (goal ≥ 20,000)", backend, im.Statements, float64(fi.Size())/1e6, took.Round(time.Millisecond), rate)

	// Baseline: the same rows by plain INSERT, in transactions of the same size.
	base, err := baselineInsert(ctx, app.DB)
	if err != nil {
		return err
	}
	baseRate := float64(im.Statements) / base.Seconds()
	log.Printf("%s: baseline plain INSERT of the same %d rows: %v, %.0f rows/s; custos import / plain INSERT = %.2f of its rate",
		backend, im.Statements, base.Round(time.Millisecond), baseRate, rate/baseRate)

	groups := int(im.Statements) / perGroup
	rng := mrand.New(mrand.NewPCG(15, 6))
	targets := make([]string, *lookups)
	for i := range targets {
		targets[i] = rec("E1-", rng.IntN(groups))
	}
	// The first lookup loads the graph.
	t0 := time.Now()
	if _, err := s.Ownership(ctx, officer, assets.QuestionOwners, targets[0], "api"); err != nil {
		return err
	}
	log.Printf("%s: first lookup (loads the graph of %d statements): %v", backend, im.Statements, time.Since(t0).Round(time.Millisecond))
	lat := make([]time.Duration, len(targets))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	next := make(chan int)
	wallStart := time.Now()
	for c := 0; c < *clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				t := time.Now()
				a, err := s.Ownership(ctx, officer, assets.QuestionOwners, targets[i], "api")
				lat[i] = time.Since(t)
				if err == nil && len(a.Holdings) == 0 {
					err = fmt.Errorf("no owners of %s", targets[i])
				}
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
				}
			}
		}()
	}
	for i := range targets {
		next <- i
	}
	close(next)
	wg.Wait()
	wall := time.Since(wallStart)
	if firstErr != nil {
		return firstErr
	}
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	log.Printf("%s: %d ultimate-owner lookups, %d clients, each logged (group commit): p50 %v p99 %v max %v; %.0f lookups/s (goal p99 < 5 ms)",
		backend, len(lat), *clients, q(0.5), q(0.99), lat[len(lat)-1], float64(len(lat))/wall.Seconds())

	// Baseline: a plain recursive CTE for the same questions, sequential, no log entry.
	cte := make([]time.Duration, 0, len(targets))
	for _, id := range targets[:min(len(targets), 1000)] {
		t := time.Now()
		n, err := recursiveOwners(ctx, app.DB, id)
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("the CTE found no owner of %s", id)
		}
		cte = append(cte, time.Since(t))
	}
	slices.Sort(cte)
	cq := func(p float64) time.Duration { return cte[min(len(cte)-1, int(p*float64(len(cte))))] }
	log.Printf("%s: baseline recursive CTE (no log entry, one client): p50 %v p99 %v; custos p99 / CTE p99 = %.2f",
		backend, cq(0.5), cq(0.99), float64(q(0.99))/float64(cq(0.99)))
	return nil
}

func baselineInsert(ctx context.Context, db *store.DB) (time.Duration, error) {
	tx, err := db.BeginWrite(ctx)
	if err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE bench_plain AS SELECT * FROM assets_bods_statements WHERE 1 = 0`); err != nil {
		tx.Rollback()
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	rows, err := db.Read().Query(ctx, `SELECT id, import_id, pos, statement_id, record_id, record_type, record_status, statement_date, name, kind, subject, party, interests, body
		FROM assets_bods_statements ORDER BY id`)
	if err != nil {
		return 0, err
	}
	var all [][14]any
	for rows.Next() {
		var r [14]string
		var pos int64
		if err := rows.Scan(&r[0], &r[1], &pos, &r[3], &r[4], &r[5], &r[6], &r[7], &r[8], &r[9], &r[10], &r[11], &r[12], &r[13]); err != nil {
			rows.Close()
			return 0, err
		}
		var v [14]any
		for i := range r {
			v[i] = r[i]
		}
		v[2] = pos
		all = append(all, v)
	}
	rows.Close()
	start := time.Now()
	for i := 0; i < len(all); i += 8192 {
		tx, err := db.BeginWrite(ctx)
		if err != nil {
			return 0, err
		}
		for _, v := range all[i:min(i+8192, len(all))] {
			if _, err := tx.Exec(ctx, `INSERT INTO bench_plain (id, import_id, pos, statement_id, record_id, record_type, record_status, statement_date, name, kind, subject, party, interests, body)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, v[:]...); err != nil {
				tx.Rollback()
				return 0, err
			}
		}
		if err := tx.Commit(); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

// recursiveOwners is the plain recursive CTE: every party reachable from
// id through relationship statements, those with no owner of their own
// counted as ultimate (loops stopped by depth).
func recursiveOwners(ctx context.Context, db *store.DB, id string) (int, error) {
	var n int
	err := db.Read().QueryRow(ctx, `WITH RECURSIVE up(rid, depth) AS (
			SELECT ?, 0
			UNION
			SELECT s.party, up.depth + 1 FROM up JOIN assets_bods_statements s ON s.subject = up.rid
			WHERE s.record_type = 'relationship' AND s.record_status <> 'closed' AND up.depth < 64
		)
		SELECT COUNT(DISTINCT rid) FROM up WHERE depth > 0 AND NOT EXISTS (
			SELECT 1 FROM assets_bods_statements o WHERE o.subject = up.rid AND o.record_type = 'relationship')`, id).Scan(&n)
	return n, err
}
