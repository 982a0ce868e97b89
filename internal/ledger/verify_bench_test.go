package ledger

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/custos-project/custos/internal/store"
)

// BenchmarkCompareTable compares a table of 100,000 rows shaped like the
// transplants table (a text key, seven text columns, a number) between a
// registry and a scratch replay file that hold the same rows: the cost of a
// row of log verify's table comparison, reading both sides: row by row in
// key order, and by the digests of key ranges in rowid order.
func BenchmarkCompareTable(b *testing.B) {
	ctx := context.Background()
	const rows = 100_000
	dir := b.TempDir()
	live, err := store.Open(ctx, filepath.Join(dir, "live.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer live.Close()
	replay, err := store.OpenScratch(ctx, filepath.Join(dir, "replay.db"), 0)
	if err != nil {
		b.Fatal(err)
	}
	defer replay.Close()
	for _, db := range []*store.DB{live, replay} {
		tx, err := db.BeginWrite(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE t (id TEXT PRIMARY KEY, organ_id TEXT NOT NULL, recipient_id TEXT NOT NULL, centre_id TEXT NOT NULL,
			authorization_id TEXT NOT NULL, performed_at TEXT NOT NULL, recorded_at TEXT NOT NULL, recorded_by TEXT NOT NULL, log_index BIGINT NOT NULL, procedure_id TEXT)`); err != nil {
			b.Fatal(err)
		}
		for i := range rows {
			if _, err := tx.Exec(ctx, "INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
				fmt.Sprintf("TX-%010d", i*7919%rows), fmt.Sprintf("XA-20-%06d-01-C", i), fmt.Sprintf("R-%08d", i), "C-0001", fmt.Sprintf("TA-%08d", i),
				"2021-03-04T05:06:07Z", "2021-03-04T05:06:08.123456Z", "user:centre-0001", int64(i)*4); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	tb := Table{Name: "t", Order: "id"}
	fail := func(f string, a ...any) bool {
		b.Fatalf(f, a...)
		return true
	}
	// in key order, row by row (compareTable): a table of at most
	// SplitRows rows, or one whose range digests differ.
	b.Run("rows", func(b *testing.B) {
		for range b.N {
			n, err := compareTable(ctx, live.Read(), replay.Read(), tb, nil, nil, fail)
			if err != nil || n != rows {
				b.Fatal(n, err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
	})
	// by the digests of ten key ranges, both sides read in rowid order
	// (digestJobs), the jobs one after the other.
	b.Run("digests", func(b *testing.B) {
		snap, err := live.Snapshot(ctx)
		if err != nil {
			b.Fatal(err)
		}
		defer snap.Rollback()
		bounds, err := splitKeys(ctx, replay.Read(), tb, rows, rows/10)
		if err != nil || len(bounds) != 9 {
			b.Fatal(bounds, err)
		}
		for range b.N {
			ranges := keyRanges(bounds, rows)
			var got []keptRange
			jobs, err := digestJobs(ctx, snap, replay.Read(), tb, ranges, false, VerifyOptions{MaxProblems: 1}, func(r []keptRange) { got = r })
			if err != nil {
				b.Fatal(err)
			}
			var found atomic.Int64
			var out jobOut
			out.found = &found
			for _, j := range jobs {
				if err := j.run(ctx, snap, &out); err != nil {
					b.Fatal(err)
				}
			}
			if len(out.problems) > 0 || out.rows != rows || len(got) != 10 {
				b.Fatal(out.problems, out.rows, len(got))
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
	})
}
