package transplant_test

// Benchmarks of the traceability registry on a generated dataset (20,000
// transplanted organs on SQLite, 4,000 on PostgreSQL when CUSTOS_TEST_POSTGRES
// is set), built once per test process. They run only with -bench, e.g.
//
//	go test -run='^$' -bench=. -benchtime=2000x ./internal/transplant/
//
// The whole-system figures (1,000,000 organs) come from ./bench/transplant;
// see BENCHMARKS.md.

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos-project/custos/bench/dataset"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/cputime"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// Authorized transplants left to record, per backend: enough for
// -benchtime=2000x on both client counts.
const benchPool = 10_000

type fixture struct {
	app     *server.App
	donors  int
	organs  int
	coord   map[string]*auth.Principal
	pending []dataset.Pending
	rec     atomic.Int64 // next pending item for RecordTransplant
	base    atomic.Int64 // next pending item for BaselineInsert
	ids     *ledger.IDs
}

var (
	fixMu    sync.Mutex
	fixtures = map[string]*fixture{}
	cleanups []func()
)

func TestMain(m *testing.M) {
	code := m.Run()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	os.Exit(code)
}

func backends() []string {
	bs := []string{"sqlite"}
	if os.Getenv(storetest.EnvPostgres) != "" {
		bs = append(bs, "postgres")
	}
	return bs
}

// fixtureFor builds the backend's dataset on first use.
func fixtureFor(b *testing.B, backend string) *fixture {
	b.Helper()
	fixMu.Lock()
	defer fixMu.Unlock()
	if f := fixtures[backend]; f != nil {
		return f
	}
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "custos-bench")
	if err != nil {
		b.Fatal(err)
	}
	cleanups = append(cleanups, func() { os.RemoveAll(dir) })
	cfg := server.Config{DSN: filepath.Join(dir, "custos.db"), KeyFile: filepath.Join(dir, "custos.key")}
	organs, pool := 20_000, benchPool
	if backend == "postgres" {
		// PostgreSQL generates at half SQLite's speed: a smaller registry.
		organs, pool = 4_000, 4_000
		cfg.DSN = pgSchema(b)
	}
	start := time.Now()
	st, err := dataset.Generate(ctx, cfg, dataset.Options{Organs: organs, Pool: pool})
	if err != nil {
		b.Fatalf("generate: %v", err)
	}
	app, err := server.Open(ctx, cfg) // durable commits from here on
	if err != nil {
		b.Fatal(err)
	}
	cleanups = append(cleanups, func() { app.Close() })
	f := &fixture{app: app, donors: st.Donors, organs: st.Organs, ids: ledger.NewIDs(rand.Reader)}
	cs, err := dataset.Centres(ctx, app)
	if err != nil {
		b.Fatal(err)
	}
	f.coord = dataset.Coordinators(cs)
	if f.pending, err = dataset.PendingTransplants(ctx, app.DB, pool); err != nil {
		b.Fatal(err)
	}
	if err := dataset.CreateBaseline(ctx, app.DB); err != nil {
		b.Fatal(err)
	}
	b.Logf("%s: generated %d donors, %d organs (+%d pool), %d leaves in %v", backend, st.Donors, st.Organs, pool, st.Leaves, time.Since(start).Round(time.Millisecond))
	fixtures[backend] = f
	return f
}

// pgSchema creates a schema of its own, dropped when the process ends.
func pgSchema(b *testing.B) string {
	base := os.Getenv(storetest.EnvPostgres)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 6)
	rand.Read(buf)
	schema := "bench_" + hex.EncodeToString(buf)
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		admin.Close()
		b.Fatal(err)
	}
	cleanups = append(cleanups, func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		b.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

var reader = &auth.Principal{ID: "PR-BENCHREADER", Role: auth.Auditor, Jurisdiction: dataset.Jurisdiction}

func BenchmarkTraceDonor(b *testing.B) {
	for _, be := range backends() {
		b.Run(be, func(b *testing.B) {
			f := fixtureFor(b, be)
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if _, err := f.app.Transplant.TraceDonor(ctx, reader, dataset.DonorID(int(uint(i*7919)%uint(f.donors)))); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkTraceRecipient(b *testing.B) {
	for _, be := range backends() {
		b.Run(be, func(b *testing.B) {
			f := fixtureFor(b, be)
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if _, err := f.app.Transplant.TraceRecipient(ctx, reader, dataset.RecipientID(int(uint(i*7919)%uint(f.organs)))); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// parallel runs op once per iteration with the given number of concurrent
// clients, and reports the rate.
//
// It also reports the process's CPU time per operation (cpu-µs/op): every
// goroutine's, the writer's included. On a shared machine wall-clock rates
// swing with other tenants' load; CPU time per operation much less, so A/B
// comparisons of a change read it first.
func parallel(b *testing.B, clients int, op func() error) {
	b.ResetTimer()
	cpu0, cpuOK := cputime.Process()
	if clients == 1 {
		for b.Loop() {
			if err := op(); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		b.SetParallelism((clients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := op(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "transplants/s")
	if cpu1, ok := cputime.Process(); ok && cpuOK {
		b.ReportMetric(float64((cpu1-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
	}
}

func (f *fixture) take(b *testing.B, next *atomic.Int64) (dataset.Pending, error) {
	k := next.Add(1) - 1
	if k >= int64(len(f.pending)) {
		return dataset.Pending{}, fmt.Errorf("the %d generated authorized transplants are used up: lower -benchtime (e.g. -benchtime=1000x)", len(f.pending))
	}
	return f.pending[k], nil
}

// BenchmarkRecordTransplant records pre-authorized transplantations through
// Service.RecordTransplant: rule checks, one log leaf each, durable commits
// that the writer groups across concurrent clients.
func BenchmarkRecordTransplant(b *testing.B) {
	for _, be := range backends() {
		for _, clients := range []int{1, 16} {
			b.Run(fmt.Sprintf("%s/clients=%d", be, clients), func(b *testing.B) {
				f := fixtureFor(b, be)
				ctx := context.Background()
				parallel(b, clients, func() error {
					it, err := f.take(b, &f.rec)
					if err != nil {
						return err
					}
					_, err = f.app.Transplant.RecordTransplant(ctx, f.coord[it.CentreID], transplant.NewTransplant{OrganID: it.OrganID,
						RecipientID: it.RecipientID, CentreID: it.CentreID, AuthorizationID: it.AuthID,
						PerformedAt: time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)})
					return err
				})
			})
		}
	}
}

// BenchmarkBaselineInsert inserts the same rows into a copy of the transplants
// table, one durable transaction per row, without the log or rule checks.
func BenchmarkBaselineInsert(b *testing.B) {
	for _, be := range backends() {
		for _, clients := range []int{1, 16} {
			b.Run(fmt.Sprintf("%s/clients=%d", be, clients), func(b *testing.B) {
				f := fixtureFor(b, be)
				ctx := context.Background()
				parallel(b, clients, func() error {
					it, err := f.take(b, &f.base)
					if err != nil {
						return err
					}
					return dataset.BaselineInsertOne(ctx, f.app.DB, f.ids.New("TX"), f.coord[it.CentreID].ID, it)
				})
			})
		}
	}
}
