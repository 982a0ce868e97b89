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
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/custos-project/custos/bench/dataset"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/assets/bods"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/cputime"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/store"
)

var (
	statements  = flag.Int("statements", 1_000_000, "statements to generate and import")
	dbPath      = flag.String("db", "/tmp/custos-bods-bench.db", "SQLite file (removed and regenerated)")
	pgURL       = flag.String("postgres", "", "PostgreSQL URL: also measure PostgreSQL, in a fresh schema")
	noSQLite    = flag.Bool("no-sqlite", false, "measure PostgreSQL only")
	lookups     = flag.Int("lookups", 4000, "ultimate-owner lookups timed")
	clients     = flag.Int("clients", 16, "concurrent clients looking up")
	filePath    = flag.String("file", "", "the BODS file (generated when it does not exist; default a temporary file)")
	quietBar    = flag.Bool("quiet", false, "no progress bar")
	cpuProfile  = flag.String("cpuprofile", "", "write a CPU profile (pprof) of the import and the lookups to this file")
	lookProfile = flag.String("lookupprofile", "", "write a CPU profile (pprof) of the 16-client lookups alone to this file, and their allocations to it with .allocs and .allocs-base added (go tool pprof -diff_base)")
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

// usage heads -help: what the harness measures.
const usage = `Usage: go run ./bench/bods [flags]

The benchmark of beneficial ownership (BODS 0.4): it generates -statements
statements, imports them through the real importer (statements/s, against a
plain INSERT of the same rows), and times logged ultimate-owner lookups from
-clients concurrent clients (p50, p99; against a plain recursive CTE).
SQLite, and PostgreSQL with -postgres. BENCHMARKS.md gives the figures.

`

func main() {
	flag.Usage = func() {
		fmt.Fprint(flag.CommandLine.Output(), usage)
		flag.PrintDefaults()
	}
	flag.Parse()
	ctx := context.Background()
	path, cleanup, err := dataset.InputFile(*filePath, "custos-bods-bench-*.jsonl", fmt.Sprintf("%d statements", *statements), func(path string) error { return generate(path, *statements) })
	if err != nil {
		log.Fatal(err)
	}
	defer cleanup()
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
	if err := dataset.Backends(ctx, *dbPath, *pgURL, *noSQLite, func(backend string, cfg server.Config) error { return run(ctx, backend, cfg, path) }); err != nil {
		log.Fatal(err)
	}
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

// cpu is the process's CPU time (user and system) so far.
func cpu() time.Duration {
	d, _ := cputime.Process()
	return d
}

func run(ctx context.Context, backend string, cfg server.Config, path string) error {
	app, _, officer, err := dataset.OpenAs(ctx, cfg, auth.NewAuthority{Name: "Benchmark central authority", Kind: assets.KindCentralAuthority, Jurisdiction: "XA"},
		auth.NewPrincipal{Name: "Benchmark officer", Role: assets.RoleCentralAuthority})
	if err != nil {
		return err
	}
	defer app.Close()
	s := app.Service("assets").(*assets.Service)
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	fi, _ := f.Stat()
	bars := map[string]func(int64, int64){"validate": bar("bytes checked"), "store": bar("statements stored")}
	phases, phaseCPU := map[string]time.Duration{}, map[string]time.Duration{}
	start, cpu0 := time.Now(), cpu()
	im, err := s.ImportBODS(ctx, officer, filepath.Base(path), f, fi.Size(), func(phase string, done, total int64) {
		if _, ok := phases[phase]; !ok {
			phases[phase], phaseCPU[phase] = time.Since(start), cpu()-cpu0
		}
		bars[phase](done, total)
	})
	f.Close()
	if err != nil {
		return err
	}
	took, importCPU := time.Since(start), cpu()-cpu0
	rate := float64(im.Statements) / took.Seconds()
	log.Printf("%s: imported %d statements (%.0f MB) in %v: %.0f statements/s (goal ≥ 20,000); process CPU %v, %.1f µs a statement, %.0f statements a CPU-second; the store phase began at %v (CPU %v)",
		backend, im.Statements, float64(fi.Size())/1e6, took.Round(time.Millisecond), rate, importCPU.Round(time.Millisecond),
		float64(importCPU.Microseconds())/float64(im.Statements), float64(im.Statements)/importCPU.Seconds(), phases["store"].Round(time.Millisecond), phaseCPU["store"].Round(time.Millisecond))

	// Baseline: the same rows by plain INSERT, in transactions of the same size.
	base, baseCPU, err := baselineInsert(ctx, app.DB)
	if err != nil {
		return err
	}
	baseRate := float64(im.Statements) / base.Seconds()
	log.Printf("%s: baseline plain INSERT of the same %d rows: %v, %.0f rows/s, process CPU %v (%.1f µs a row); custos import / plain INSERT = %.2f of its rate, %.2f× its CPU",
		backend, im.Statements, base.Round(time.Millisecond), baseRate, baseCPU.Round(time.Millisecond), float64(baseCPU.Microseconds())/float64(im.Statements),
		rate/baseRate, importCPU.Seconds()/baseCPU.Seconds())

	groups := int(im.Statements) / perGroup
	rng := mrand.New(mrand.NewPCG(15, 6))
	targets := make([]string, *lookups)
	for i := range targets {
		targets[i] = rec("E1-", rng.IntN(groups))
	}
	// The first lookup loads the graph.
	t0, c0 := time.Now(), cpu()
	if _, err := s.Ownership(ctx, officer, assets.QuestionOwners, targets[0], "api"); err != nil {
		return err
	}
	log.Printf("%s: first lookup (loads the graph of %d statements): %v, process CPU %v", backend, im.Statements, time.Since(t0).Round(time.Millisecond), (cpu() - c0).Round(time.Millisecond))

	// One client: each answer's time up to the moment it is read (the
	// service's clock is called once the answer is made: the walk, then,
	// in the entry's transaction, the persons' rows read and their names
	// opened; its retrieval time), and the whole lookup with its entry
	// committed.
	var answered time.Time
	s.Now = func() time.Time { answered = time.Now(); return answered }
	one := targets[:min(len(targets), 500)]
	ans, whole := make([]time.Duration, len(one)), make([]time.Duration, len(one))
	for i, id := range one {
		t := time.Now()
		if _, err := s.Ownership(ctx, officer, assets.QuestionOwners, id, "api"); err != nil {
			return err
		}
		whole[i], ans[i] = time.Since(t), answered.Sub(t)
	}
	s.Now = nil
	slices.Sort(ans)
	slices.Sort(whole)
	log.Printf("%s: %d lookups, 1 client: the answer (walk, names read and opened) p50 %v p99 %v; with its entry committed p50 %v p99 %v",
		backend, len(one), quantile(ans, 0.5), quantile(ans, 0.99), quantile(whole, 0.5), quantile(whole, 0.99))

	if *lookProfile != "" && *cpuProfile == "" {
		pf, err := os.Create(*lookProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pf.Close()
		if err := writeAllocs(*lookProfile + ".allocs-base"); err != nil {
			return err
		}
	}
	lat := make([]time.Duration, len(targets))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	next := make(chan int)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	wallStart, c1, q1 := time.Now(), cpu(), runqueueWait()
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
	wall, lookCPU, waited := time.Since(wallStart), cpu()-c1, runqueueWait()-q1
	runtime.ReadMemStats(&m1)
	if *lookProfile != "" && *cpuProfile == "" {
		pprof.StopCPUProfile()
		if err := writeAllocs(*lookProfile + ".allocs"); err != nil {
			return err
		}
	}
	if firstErr != nil {
		return firstErr
	}
	slices.Sort(lat)
	n := float64(len(lat))
	log.Printf("%s: %d ultimate-owner lookups, %d clients, each logged (group commit): p50 %v p99 %v max %v; %.0f lookups/s, process CPU %.0f µs a lookup (goal p99 < 5 ms), its threads waiting for a CPU %.0f µs a lookup; %.0f allocations and %.1f KB allocated a lookup, %d collections",
		backend, len(lat), *clients, quantile(lat, 0.5), quantile(lat, 0.99), lat[len(lat)-1], n/wall.Seconds(),
		float64(lookCPU.Microseconds())/n, float64(waited.Microseconds())/n, float64(m1.Mallocs-m0.Mallocs)/n, float64(m1.TotalAlloc-m0.TotalAlloc)/n/1024, m1.NumGC-m0.NumGC)

	// Baselines: a plain recursive CTE for the same questions, sequential,
	// no log entry; and the floor of any durable commit on this disk, an
	// fsync of a 4 KiB write beside the database.
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
	log.Printf("%s: baseline recursive CTE (no log entry, one client): p50 %v p99 %v; custos 16-client p99 / CTE p99 = %.2f, custos 1-client answer p99 / CTE p99 = %.2f",
		backend, quantile(cte, 0.5), quantile(cte, 0.99), float64(quantile(lat, 0.99))/float64(quantile(cte, 0.99)), float64(quantile(ans, 0.99))/float64(quantile(cte, 0.99)))
	fs, err := fsyncs(filepath.Dir(*dbPath), 200)
	if err != nil {
		return err
	}
	log.Printf("%s: floor of a durable commit here: fsync of a 4 KiB write p50 %v p99 %v", backend, quantile(fs, 0.5), quantile(fs, 0.99))
	return nil
}

// runqueueWait is how long the process's threads have waited for a CPU
// while runnable so far (the second field of each thread's schedstat);
// 0 where the kernel does not say. On a shared machine it tells the
// scheduler's part of a latency from the process's own.
func runqueueWait() time.Duration {
	files, _ := filepath.Glob("/proc/self/task/*/schedstat")
	var sum int64
	for _, f := range files {
		b, err := os.ReadFile(f)
		if fields := strings.Fields(string(b)); err == nil && len(fields) >= 2 {
			n, _ := strconv.ParseInt(fields[1], 10, 64)
			sum += n
		}
	}
	return time.Duration(sum)
}

// writeAllocs writes the allocations so far (pprof allocs) to path.
func writeAllocs(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// quantile is the q-quantile of sorted durations.
func quantile(d []time.Duration, q float64) time.Duration {
	return d[min(len(d)-1, int(q*float64(len(d))))]
}

// fsyncs times n fsyncs of a 4 KiB write to a file in dir, sorted.
func fsyncs(dir string, n int) ([]time.Duration, error) {
	f, err := os.CreateTemp(dir, "custos-bods-fsync-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	b := make([]byte, 4096)
	d := make([]time.Duration, n)
	for i := range d {
		if _, err := f.Write(b); err != nil {
			return nil, err
		}
		t := time.Now()
		if err := f.Sync(); err != nil {
			return nil, err
		}
		d[i] = time.Since(t)
	}
	slices.Sort(d)
	return d, nil
}

func baselineInsert(ctx context.Context, db *store.DB) (took, cpuTime time.Duration, err error) {
	tx, err := db.BeginWrite(ctx)
	if err != nil {
		return 0, 0, err
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE bench_plain AS SELECT * FROM assets_bods_statements WHERE 1 = 0`); err != nil {
		tx.Rollback()
		return 0, 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, 0, err
	}
	rows, err := db.Read().Query(ctx, `SELECT id, import_id, pos, statement_id, record_id, record_type, record_status, statement_date, name, kind, subject, party, interests, body
		FROM assets_bods_statements ORDER BY id`)
	if err != nil {
		return 0, 0, err
	}
	var all [][14]any
	for rows.Next() {
		var r [14]string
		var pos int64
		if err := rows.Scan(&r[0], &r[1], &pos, &r[3], &r[4], &r[5], &r[6], &r[7], &r[8], &r[9], &r[10], &r[11], &r[12], &r[13]); err != nil {
			rows.Close()
			return 0, 0, err
		}
		var v [14]any
		for i := range r {
			v[i] = r[i]
		}
		v[2] = pos
		all = append(all, v)
	}
	rows.Close()
	start, cpu0 := time.Now(), cpu()
	for i := 0; i < len(all); i += 8192 {
		tx, err := db.BeginWrite(ctx)
		if err != nil {
			return 0, 0, err
		}
		for _, v := range all[i:min(i+8192, len(all))] {
			if _, err := tx.Exec(ctx, `INSERT INTO bench_plain (id, import_id, pos, statement_id, record_id, record_type, record_status, statement_date, name, kind, subject, party, interests, body)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, v[:]...); err != nil {
				tx.Rollback()
				return 0, 0, err
			}
		}
		if err := tx.Commit(); err != nil {
			return 0, 0, err
		}
	}
	return time.Since(start), cpu() - cpu0, nil
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
