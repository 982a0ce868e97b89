package ledger_test

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
)

// TestEntriesBefore: the entries of one type, newest first, through more
// batches than one read holds, among entries whose text names the type too
// (test.notes: the read narrows by text, the decoded type decides); and a
// walk stops where its caller says.
func TestEntriesBefore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db, reg, w, _, _ := newLog(t, dsn)
		reg.Register("test.notes", func(context.Context, store.Queryer, int64, *ledger.Entry) error { return nil })
		const n = 1300
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				typ := "test.notes"
				if i%3 == 0 {
					typ = "test.note"
				}
				if _, err := w.Submit(ctx, ledger.Actor{Principal: "PR-T"}, "note", func(context.Context, *store.Tx, time.Time) (*ledger.Entry, error) {
					return ledger.NewEntry(typ, noteData{ID: fmt.Sprintf("before-%04d", i), N: i})
				}); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		var all []int64
		err := ledger.EntriesBefore(ctx, db.Read(), "test.note", math.MaxInt64, func(idx int64, e *ledger.Entry) (bool, error) {
			if e.Type != "test.note" || (len(all) > 0 && idx >= all[len(all)-1]) {
				t.Fatalf("leaf %d (%s) after %v", idx, e.Type, all[max(len(all)-1, 0):])
			}
			all = append(all, idx)
			return true, nil
		})
		if err != nil || len(all) != (n+2)/3 {
			t.Fatalf("%d entries of test.note, want %d: %v", len(all), (n+2)/3, err)
		}
		var some []int64
		err = ledger.EntriesBefore(ctx, db.Read(), "test.note", all[3], func(idx int64, _ *ledger.Entry) (bool, error) {
			some = append(some, idx)
			return len(some) < 2, nil
		})
		if err != nil || len(some) != 2 || some[0] != all[4] || some[1] != all[5] {
			t.Errorf("two before leaf %d: %v, want %v (%v)", all[3], some, all[4:6], err)
		}
	})
}
