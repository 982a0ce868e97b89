// Command transplant is the whole-system benchmark of the organ traceability
// registry: it generates a registry of N transplanted organs, then measures
// trace latency by donor and by recipient, the recording throughput of the real
// transplant command with durable commits (1 and 16 clients), and log
// verification, each beside a same-run baseline, on SQLite and optionally on
// PostgreSQL.
//
//	go run ./bench/transplant -organs 1000000 -db /tmp/bench.db [-postgres URL -pg-organs 100000]
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/custos-project/custos/bench/dataset"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/cputime"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/page"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/transplant"
)

var (
	organs   = flag.Int("organs", 1_000_000, "transplanted organs in the generated SQLite registry")
	dbPath   = flag.String("db", "/tmp/custos-bench.db", "SQLite file (removed and regenerated unless -reuse)")
	reuse    = flag.Bool("reuse", false, "measure an existing -db instead of generating it (needs enough pool left)")
	pgURL    = flag.String("postgres", "", "PostgreSQL URL: also measure PostgreSQL, in a fresh schema")
	pgOrgans = flag.Int("pg-organs", 0, "transplanted organs of the PostgreSQL registry (default: -organs)")
	samples  = flag.Int("samples", 10_000, "trace samples per kind")
	listN    = flag.Int("lists", 20, "samples of each list page")
	rec1     = flag.Int("record1", 2_000, "transplants recorded with 1 client")
	rec16    = flag.Int("record16", 20_000, "transplants recorded with 16 clients")
	poolFlag = flag.Int("pool", 0, "authorized, unrecorded transplants to generate for the recording runs (default record1+record16; more lets -reuse runs follow)")
	clients  = flag.Int("clients", 16, "concurrent clients of the parallel recording run")
	noVerify = flag.Bool("no-verify", false, "skip log verification")
	onlyVer  = flag.Bool("verify-only", false, "with -reuse: only time log verification (and the plain scan)")
	cpuprof  = flag.String("cpuprofile", "", "write a CPU profile of the measurements (not the generation) to this file")
	keep     = flag.Bool("keep", false, "keep the PostgreSQL schema")
	pgSchema = flag.String("pg-schema", "", "with -postgres: measure this schema (kept by an earlier -keep run, key file beside it as /tmp/SCHEMA.key) instead of generating one; a schema not there yet is made, generated and kept")
	noSQLite = flag.Bool("no-sqlite", false, "measure PostgreSQL only")
	cold     = flag.Bool("cold", false, "trace with a cold cache (PostgreSQL: after restarting the server or evicting its buffers, with its files out of the system cache; SQLite: with the file out of the system cache): no warm-up, and the tables are not counted first (their sizes are PostgreSQL's estimates, SQLite's largest rowid)")
)

// listLatency is the time to answer one of the registry's list pages.
type listLatency struct {
	Name string
	L    dataset.Latencies
}

// Result is one backend's figures.
type Result struct {
	Backend                    string
	Stats                      *dataset.Stats
	Donor, Recipient, Point    dataset.Latencies
	Lists                      []listLatency
	Rec1, Rec16, Base1, Base16 float64 // per second
	Verify, Scan               time.Duration
	Leaves                     uint64
	Rows                       int64
}

// usage heads -help: what the harness measures.
const usage = `Usage: go run ./bench/transplant [flags]

The whole-system benchmark of the organ traceability registry. It generates a
registry of -organs transplanted organs (or measures an existing one, -reuse),
then measures, each beside a same-run baseline: trace latency by donor and by
recipient (p50, p99; against a one-row primary-key read), list pages, the
recording rate of the real transplant command with durable commits, 1 and
16 clients (against a plain INSERT), and log verify (against a plain scan).
SQLite, and PostgreSQL with -postgres. BENCHMARKS.md gives the figures.

`

func main() {
	flag.Usage = func() {
		fmt.Fprint(flag.CommandLine.Output(), usage)
		flag.PrintDefaults()
	}
	flag.Parse()
	log.SetFlags(log.Ltime)
	ctx := context.Background()
	var results []*Result
	if !*noSQLite {
		r, err := runSQLite(ctx)
		if err != nil {
			log.Fatal(err)
		}
		results = append(results, r)
	}
	if *pgURL != "" {
		r, err := runPostgres(ctx)
		if err != nil {
			log.Fatal(err)
		}
		results = append(results, r)
	}
	report(os.Stdout, results)
}

func runSQLite(ctx context.Context) (*Result, error) {
	cfg := server.Config{DSN: *dbPath, Logger: quiet()}
	if !*reuse {
		for _, f := range []string{*dbPath, *dbPath + "-wal", *dbPath + "-shm", *dbPath + ".key"} {
			os.Remove(f)
		}
	}
	return run(ctx, "sqlite", cfg, *organs)
}

func runPostgres(ctx context.Context) (*Result, error) {
	admin, err := sql.Open("pgx", *pgURL)
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	b := make([]byte, 4)
	rand.Read(b)
	schema := "bench_" + hex.EncodeToString(b)
	reusing := false
	if *pgSchema != "" {
		schema = *pgSchema
		if err := admin.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema).Scan(&reusing); err != nil {
			return nil, err
		}
		*keep = *keep || !reusing // a named schema is generated to be measured again
	}
	if !reusing {
		if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
			return nil, err
		}
	}
	log.Printf("postgres: schema %s", schema)
	if !*keep && !reusing {
		defer admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	}
	u, err := url.Parse(*pgURL)
	if err != nil {
		return nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	// Its own backends are told from other sessions' by this name
	// (serverCPU).
	q.Set("application_name", benchApp)
	u.RawQuery = q.Encode()
	// The key file outlives a kept schema, so that a later run can reuse it.
	key := filepath.Join(os.TempDir(), schema+".key")
	if !*keep && !reusing {
		defer os.Remove(key)
	}
	n := *pgOrgans
	if n == 0 {
		n = *organs
	}
	saved := *reuse
	*reuse = reusing
	defer func() { *reuse = saved }()
	return run(ctx, "postgres", server.Config{DSN: u.String(), KeyFile: key, Logger: quiet()}, n)
}

func quiet() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func run(ctx context.Context, backend string, cfg server.Config, n int) (*Result, error) {
	res := &Result{Backend: backend}
	pool := *rec1 + *rec16
	if !*reuse {
		gp := max(pool, *poolFlag)
		log.Printf("%s: generating %d organs (+%d pool)", backend, n, gp)
		st, err := dataset.Generate(ctx, cfg, dataset.Options{Organs: n, Pool: gp,
			Progress: func(m string) { log.Printf("%s: %s", backend, m) }})
		if err != nil {
			return nil, fmt.Errorf("generate: %w", err)
		}
		res.Stats = st
		log.Printf("%s: generated %d donors, %d organs, %d leaves in %v", backend, st.Donors, st.Organs, st.Leaves, st.Took.Round(time.Second))
	}
	// Reopen: durable commits (synchronous=FULL) from here on.
	app, err := server.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer app.Close()
	if *cpuprof != "" {
		f, err := os.Create(*cpuprof + "." + backend)
		if err != nil {
			return nil, err
		}
		pprof.StartCPUProfile(f)
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	q := app.DB.Read()
	var donors, transplanted int
	count := func(table string, n *int) error {
		// Counting would read the table into the cache.
		if *cold && backend == "postgres" {
			return q.QueryRow(ctx, "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(?)", table).Scan(n)
		}
		if *cold {
			// One descent of the table's b-tree; rows are never deleted.
			return q.QueryRow(ctx, "SELECT MAX(rowid) FROM "+table).Scan(n)
		}
		return q.QueryRow(ctx, "SELECT COUNT(*) FROM "+table).Scan(n)
	}
	if err := count("donors", &donors); err != nil {
		return nil, err
	}
	if err := count("transplants", &transplanted); err != nil {
		return nil, err
	}
	if res.Stats == nil {
		// Reused: the generated transplants are the first n recipients'; the
		// ones recorded by earlier runs are pool organs.
		res.Stats = &dataset.Stats{Donors: donors, Organs: min(n, transplanted)}
	}
	if *onlyVer {
		return res, verify(ctx, backend, app, res)
	}
	// The recording runs' pool, checked before the traces and lists take
	// their minutes: a reused dataset runs out of it.
	items, err := dataset.PendingTransplants(ctx, app.DB, pool)
	if err != nil {
		return nil, err
	}
	if len(items) < pool {
		return nil, fmt.Errorf("only %d authorized transplantations left to record, need %d (-record1 + -record16): regenerate the dataset with a larger -pool, or record fewer", len(items), pool)
	}
	reader := &auth.Principal{ID: "PR-BENCHREADER", Role: auth.Auditor, Jurisdiction: dataset.Jurisdiction}

	// (b) trace latency, and a primary-key read as the floor of any query.
	log.Printf("%s: tracing (%d samples each)", backend, *samples)
	warm := *samples / 10
	if *cold {
		warm = 0
	}
	if res.Donor, err = dataset.Sample(*samples, warm, donors, 1, func(i int) error {
		_, err := app.Transplant.TraceDonor(ctx, reader, dataset.DonorID(i))
		return err
	}); err != nil {
		return nil, fmt.Errorf("trace donor: %w", err)
	}
	if res.Recipient, err = dataset.Sample(*samples, warm, res.Stats.Organs, 2, func(i int) error {
		_, err := app.Transplant.TraceRecipient(ctx, reader, dataset.RecipientID(i))
		return err
	}); err != nil {
		return nil, fmt.Errorf("trace recipient: %w", err)
	}
	if res.Point, err = dataset.Sample(*samples, warm, donors, 3, func(i int) error {
		var id, kind string
		return q.QueryRow(ctx, "SELECT id, kind FROM donors WHERE id = ?", dataset.DonorID(i)).Scan(&id, &kind)
	}); err != nil {
		return nil, fmt.Errorf("point read: %w", err)
	}

	// The list pages a user opens (the 100 newest of each), which must not
	// scan a national registry.
	log.Printf("%s: lists", backend)
	centre := ""
	if err := q.QueryRow(ctx, "SELECT centre_id FROM donors LIMIT 1").Scan(&centre); err != nil {
		return nil, err
	}
	for _, l := range []struct {
		name string
		fn   func() error
	}{
		{"donors", func() error { _, err := app.Transplant.Donors(ctx, reader, transplant.ListFilter{}); return err }},
		{"donors of one centre", func() error {
			_, err := app.Transplant.Donors(ctx, reader, transplant.ListFilter{CentreID: centre})
			return err
		}},
		{"recipients waiting", func() error {
			_, err := app.Transplant.Recipients(ctx, reader, transplant.ListFilter{Status: "waiting"})
			return err
		}},
		{"available organs", func() error {
			_, err := app.Transplant.AvailableOrgans(ctx, reader, transplant.ListFilter{})
			return err
		}},
		{"pending authorizations", func() error {
			_, err := app.Transplant.PendingAuthorizations(ctx, reader, transplant.ListFilter{})
			return err
		}},
		{"alerts", func() error {
			_, err := app.Writer.Alerts(ctx, app.DB.Read(), ledger.AlertFilter{Request: page.Request{Limit: 100}})
			return err
		}},
	} {
		lat, err := dataset.Sample(*listN, 1, 1, 4, func(int) error { return l.fn() })
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", l.name, err)
		}
		res.Lists = append(res.Lists, listLatency{l.name, lat})
	}

	// (c, d) recording throughput against plain inserts, durable commits.
	cs, err := dataset.Centres(ctx, app)
	if err != nil {
		return nil, err
	}
	coord := dataset.Coordinators(cs)
	if err := dataset.CreateBaseline(ctx, app.DB); err != nil {
		return nil, err
	}
	one, many := items[:*rec1], items[*rec1:]
	rate := func(n int, d time.Duration) float64 { return float64(n) / d.Seconds() }
	steps := []struct {
		name string
		out  *float64
		fn   func() (time.Duration, error)
		n    int
	}{
		{"baseline insert, 1 client", &res.Base1, func() (time.Duration, error) { return dataset.BaselineInsert(ctx, app.DB, coord, one, 1) }, len(one)},
		{"record transplant, 1 client", &res.Rec1, func() (time.Duration, error) { return dataset.RecordTransplants(ctx, app, coord, one, 1) }, len(one)},
		{fmt.Sprintf("baseline insert, %d clients", *clients), &res.Base16, func() (time.Duration, error) {
			return dataset.BaselineInsert(ctx, app.DB, coord, many, *clients)
		}, len(many)},
		{fmt.Sprintf("record transplant, %d clients", *clients), &res.Rec16, func() (time.Duration, error) {
			return dataset.RecordTransplants(ctx, app, coord, many, *clients)
		}, len(many)},
	}
	var batches, batched atomic.Int64
	prev := app.Writer.OnCommit
	app.Writer.OnCommit = func(accepted, refused int, took time.Duration) {
		batches.Add(1)
		batched.Add(int64(accepted + refused))
		if prev != nil {
			prev(accepted, refused, took)
		}
	}
	for _, s := range steps {
		batches.Store(0)
		batched.Store(0)
		srv0 := serverCPU(ctx, app.DB)
		counts0 := app.Writer.Counts()
		cpu0, cpuOK := cputime.Process()
		d, err := s.fn()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
		*s.out = rate(s.n, d)
		batch := ""
		if n := batches.Load(); n > 0 {
			c := app.Writer.Counts()
			p, p0 := c.Phases, counts0.Phases
			ms := func(d time.Duration) float64 {
				return float64(d.Microseconds()) / 1000 / float64(c.Batches-counts0.Batches)
			}
			batch = fmt.Sprintf(" (%d commits, %.1f commands each, %d read ahead, %d run again; a commit: begin %.2f ms, commands %.2f ms (waiting for reads ahead %.2f ms), append %.2f ms, commit %.2f ms)",
				n, float64(batched.Load())/float64(n), c.ReadAhead-counts0.ReadAhead, c.Reruns-counts0.Reruns,
				ms(p.Begin-p0.Begin), ms(p.Commands-p0.Commands), ms(p.ReadAheadWait-p0.ReadAheadWait), ms(p.Append-p0.Append), ms(p.Commit-p0.Commit))
		}
		if cpu1, ok := cputime.Process(); ok && cpuOK {
			// The whole process's CPU time, this harness's clients included:
			// steadier than the rate on a shared machine.
			batch += fmt.Sprintf(", %.0f µs CPU each", float64((cpu1-cpu0).Microseconds())/float64(s.n))
		}
		if srv0 != nil {
			var d time.Duration
			for pid, t := range serverCPU(ctx, app.DB) {
				d += t - srv0[pid] // a backend started during the step counts from 0
			}
			batch += fmt.Sprintf(", server %.0f µs CPU each", float64(d.Microseconds())/float64(s.n))
		}
		log.Printf("%s: %s: %d in %v = %.0f/s%s", backend, s.name, s.n, d.Round(time.Millisecond), *s.out, batch)
	}
	if err := dataset.DropBaseline(ctx, app.DB); err != nil {
		return nil, err
	}

	if !*noVerify {
		return res, verify(ctx, backend, app, res)
	}
	return res, nil
}

// benchApp is the application_name of the harness's PostgreSQL connections.
var benchApp = fmt.Sprintf("custos-bench-%d", os.Getpid())

// serverCPU is the CPU time consumed so far by each process of a PostgreSQL
// server running on this machine that works for this harness: its own
// backends (by their application_name) and the server's background
// processes (WAL writer, checkpointer, the WAL sender to a replica), as
// pg_stat_activity lists them, read from /proc; nil on SQLite or where it
// cannot be read. Other sessions' backends on a shared server are left out.
// The database's share of a command, which the process's own CPU time
// leaves out.
func serverCPU(ctx context.Context, db *store.DB) map[int]time.Duration {
	if db.Dialect != store.Postgres {
		return nil
	}
	rows, err := db.Read().Query(ctx, "SELECT pid FROM pg_stat_activity WHERE backend_type <> 'client backend' OR application_name = ?", benchApp)
	if err != nil {
		return nil
	}
	pids, err := store.Rows(rows, func(sc store.Scanner, pid *int) error { return sc.Scan(pid) })
	if err != nil {
		return nil
	}
	out := map[int]time.Duration{}
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return nil // another machine's server
		}
		// The fields after the command's name, which may hold spaces:
		// utime and stime are the 14th and 15th, in ticks of 10 ms.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) < 13 {
			return nil
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		out[pid] = time.Duration(ut+st) * 10 * time.Millisecond
	}
	return out
}

// verify times (e) log verification, against a plain scan of the same rows.
func verify(ctx context.Context, backend string, app *server.App, res *Result) error {
	var err error
	{
		runtime.GC()
		t0 := time.Now()
		if res.Rows, err = dataset.ScanAll(ctx, app.DB, app.Projections); err != nil {
			return err
		}
		res.Scan = time.Since(t0)
		log.Printf("%s: scan of %d rows in %v", backend, res.Rows, res.Scan.Round(time.Millisecond))
		t0 = time.Now()
		rep, err := dataset.Verify(ctx, app)
		if err != nil {
			return err
		}
		res.Verify = time.Since(t0)
		res.Leaves = rep.Size
		log.Printf("%s: verified %d leaves, %d rows in %v", backend, rep.Size, rep.Rows, res.Verify.Round(time.Millisecond))
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d)/float64(time.Millisecond)) }

func report(w io.Writer, rs []*Result) {
	fmt.Fprintf(w, "\n| backend | donors | organs | generation | leaves |\n|---|---:|---:|---:|---:|\n")
	for _, r := range rs {
		gen := "reused"
		if r.Stats.Took > 0 {
			gen = r.Stats.Took.Round(time.Second).String()
		}
		leaves := r.Leaves // counted by verification, else by generation
		if leaves == 0 {
			leaves = uint64(r.Stats.Leaves)
		}
		fmt.Fprintf(w, "| %s | %d | %d | %s | %d |\n", r.Backend, r.Stats.Donors, r.Stats.Organs, gen, leaves)
	}
	if *onlyVer {
		goto verify
	}
	fmt.Fprintf(w, "\n| backend | measure | p50 ms | p99 ms | max ms | baseline p50/p99 ms (PK read) | ratio p99 |\n|---|---|---:|---:|---:|---:|---:|\n")
	for _, r := range rs {
		for _, t := range []struct {
			name string
			l    dataset.Latencies
		}{{"trace by donor", r.Donor}, {"trace by recipient", r.Recipient}} {
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s / %s | %.1f× |\n", r.Backend, t.name, ms(t.l.Q(.5)), ms(t.l.Q(.99)), ms(t.l.Max()),
				ms(r.Point.Q(.5)), ms(r.Point.Q(.99)), float64(t.l.Q(.99))/float64(r.Point.Q(.99)))
		}
	}
	fmt.Fprintf(w, "\n| backend | list page (100 newest) | p50 ms | max ms | ratio p50 / PK read p50 |\n|---|---|---:|---:|---:|\n")
	for _, r := range rs {
		for _, l := range r.Lists {
			fmt.Fprintf(w, "| %s | %s | %s | %s | %.0f× |\n", r.Backend, l.Name, ms(l.L.Q(.5)), ms(l.L.Max()), float64(l.L.Q(.5))/float64(r.Point.Q(.5)))
		}
	}
	fmt.Fprintf(w, "\n| backend | measure | with log (per s) | baseline plain INSERT (per s) | ratio log/baseline |\n|---|---|---:|---:|---:|\n")
	for _, r := range rs {
		fmt.Fprintf(w, "| %s | record transplant, 1 client | %.0f | %.0f | %.2f× |\n", r.Backend, r.Rec1, r.Base1, r.Rec1/r.Base1)
		fmt.Fprintf(w, "| %s | record transplant, %d clients | %.0f | %.0f | %.2f× |\n", r.Backend, *clients, r.Rec16, r.Base16, r.Rec16/r.Base16)
	}
verify:
	if !*noVerify {
		fmt.Fprintf(w, "\n| backend | log verify | leaves | plain scan of log + tables | ratio |\n|---|---:|---:|---:|---:|\n")
		for _, r := range rs {
			fmt.Fprintf(w, "| %s | %v | %d | %v (%d rows) | %.1f× |\n", r.Backend, r.Verify.Round(time.Millisecond), r.Leaves,
				r.Scan.Round(time.Millisecond), r.Rows, float64(r.Verify)/float64(r.Scan))
		}
	}
	if len(rs) == 2 {
		a, b := rs[0], rs[1]
		fmt.Fprintf(w, "\n%s/%s ratios (same run): trace donor p50 %.2f× p99 %.2f×; trace recipient p50 %.2f× p99 %.2f×; record 1 client %.2f×; record %d clients %.2f×\n",
			b.Backend, a.Backend, float64(b.Donor.Q(.5))/float64(a.Donor.Q(.5)), float64(b.Donor.Q(.99))/float64(a.Donor.Q(.99)),
			float64(b.Recipient.Q(.5))/float64(a.Recipient.Q(.5)), float64(b.Recipient.Q(.99))/float64(a.Recipient.Q(.99)),
			b.Rec1/a.Rec1, *clients, b.Rec16/a.Rec16)
	}
}
