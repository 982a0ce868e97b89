package ledger_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
)

// TestAheadReads runs counters up in one transaction: each command reads its
// counter and records the next value. Most declare their read (Ahead), keyed
// by the counter; every fifth does not, and reads in the transaction. With
// many increments of one counter in one commit, a read answered ahead after
// an earlier increment in the same transaction would lose it: every counter
// must end at the number of its increments. On PostgreSQL some declared
// reads must have come from another backend (answered ahead) and some from
// the writer's (those after a command that shared their key).
func TestAheadReads(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db, reg, w, _, _ := newLog(t, dsn)
		reg.Register("test.count", func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry) error {
			var d noteData
			if err := e.Decode(&d); err != nil {
				return err
			}
			_, err := q.Exec(ctx, `INSERT INTO settings (name, value) VALUES (?, ?)
				ON CONFLICT (name) DO UPDATE SET value = excluded.value`, d.ID, strconv.Itoa(d.N))
			return err
		})
		pid := "0"
		if db.Dialect == store.Postgres {
			pid = "pg_backend_pid()"
		}
		read := "SELECT value, " + pid + " FROM settings WHERE name = ?"
		actor := ledger.Actor{Principal: "PR-T", Authority: "AU-T"}
		for i := 0; i < 6; i++ {
			if _, err := w.Submit(ctx, actor, "count", func(context.Context, *store.Tx, time.Time) (*ledger.Entry, error) {
				return ledger.NewEntry("test.count", noteData{ID: fmt.Sprintf("count-%d", i), N: 0})
			}); err != nil {
				t.Fatal(err)
			}
		}
		var ahead, inTx, keyedAhead atomic.Int64
		increment := func(name string, declared bool, key string) error {
			var a *ledger.Ahead
			ctx := ctx
			if key != "" {
				// A command with an idempotency key: the writer's look-up
				// of the key must not spend the command's read.
				ctx = ledger.WithClaim(ctx, &ledger.Claim{Principal: "PR-T", Key: key, Digest: key, Window: time.Hour})
			}
			if declared {
				a = &ledger.Ahead{Keys: []string{"count:" + name}, Read: store.Ahead{SQL: read, Args: []any{name}}}
			}
			_, err := w.SubmitAhead(ctx, actor, "count", a, func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
				var v string
				var from int64
				if err := tx.QueryRow(ctx, read, name).Scan(&v, &from); err != nil {
					return nil, err
				}
				n, err := strconv.Atoi(v)
				if err != nil {
					return nil, err
				}
				if db.Dialect == store.Postgres && declared {
					var self int64
					if err := tx.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&self); err != nil {
						return nil, err
					}
					if from != self {
						ahead.Add(1)
						if key != "" {
							keyedAhead.Add(1)
						}
					} else {
						inTx.Add(1)
					}
				}
				return ledger.NewEntry("test.count", noteData{ID: name, N: n + 1})
			})
			return err
		}
		// A first command holds the writer until the others are queued, so
		// that they share one transaction.
		const n = 120
		var started sync.WaitGroup
		started.Add(n)
		release := make(chan struct{})
		go func() {
			started.Wait()
			time.Sleep(100 * time.Millisecond) // let the last of them queue
			close(release)
		}()
		held := make(chan error, 1)
		go func() {
			_, err := w.Submit(ctx, actor, "hold", func(context.Context, *store.Tx, time.Time) (*ledger.Entry, error) {
				<-release
				return ledger.NewEntry("test.note", noteData{ID: "hold", N: 0})
			})
			held <- err
		}()
		time.Sleep(20 * time.Millisecond) // the holder first
		want := map[string]int{}
		for i := 0; i < 6; i++ {
			want[fmt.Sprintf("count-%d", i)] = 0
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			name := fmt.Sprintf("count-%d", i%6)
			want[name]++
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				started.Done()
				key := ""
				if i%5 == 1 {
					key = fmt.Sprintf("key-%d", i)
				}
				if err := increment(name, i%5 != 0, key); err != nil {
					mu.Lock()
					t.Errorf("increment %d of %s: %v", i, name, err)
					mu.Unlock()
				}
			}(i)
		}
		wg.Wait()
		if err := <-held; err != nil {
			t.Fatal(err)
		}
		for name, k := range want {
			var v string
			if err := db.Read().QueryRow(ctx, "SELECT value FROM settings WHERE name = ?", name).Scan(&v); err != nil {
				t.Fatal(err)
			}
			if v != strconv.Itoa(k) {
				t.Errorf("%s = %s after %d increments", name, v, k)
			}
		}
		if db.Dialect == store.Postgres && (ahead.Load() == 0 || inTx.Load() == 0) {
			t.Errorf("of the declared reads %d were answered ahead and %d in the transaction; want some of each", ahead.Load(), inTx.Load())
		}
		if db.Dialect == store.Postgres && keyedAhead.Load() == 0 {
			t.Errorf("no read of a command with an idempotency key was answered ahead")
		}
		t.Logf("%s: of the declared reads %d were answered ahead, %d in the transaction", db.Dialect, ahead.Load(), inTx.Load())
	})
}
