package ledger_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/storetest"
)

// TestVerifySplitTable checks the comparison of a large table in key
// ranges, each a job of its own: rows changed, added and deleted all along
// the table (so at and beside the keys that cut it, and in the middle of a
// range) are each found once, the same problems in the same order as the
// table compared whole, and an untouched table passes with the same counts.
func TestVerifySplitTable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db, reg, w, _, vkey := newLog(t, dsn)
		writeNotes(t, w, "n", 100, 60) // settings rows n-100 … n-159, in key order
		verify := func(split int) (*ledger.Report, uint64) {
			t.Helper()
			var jobs uint64
			rep, err := ledger.Verify(ctx, db, reg, ledger.VerifyOptions{VerifierKey: vkey, SplitRows: split, MaxProblems: 1000,
				Progress: func(stage string, done, total uint64) {
					if stage == "tables" {
						jobs = total
					}
				}})
			if err != nil {
				t.Fatal(err)
			}
			return rep, jobs
		}
		whole, wholeJobs := verify(1 << 30)
		split, splitJobs := verify(4)
		if !whole.OK() || !split.OK() {
			t.Fatalf("an untouched log: %q, split %q", whole.Problems, split.Problems)
		}
		if splitJobs < wholeJobs+10 {
			t.Errorf("settings (%d rows) in ranges of 4 rows: %d jobs, whole %d", whole.Rows, splitJobs, wholeJobs)
		}
		if split.Tables != whole.Tables || split.Rows != whole.Rows {
			t.Errorf("split: %d tables %d rows, whole: %d tables %d rows", split.Tables, split.Rows, whole.Tables, whole.Rows)
		}

		var want []string
		for i := 100; i < 160; i++ {
			k := fmt.Sprintf("n-%d", i)
			var q string
			switch {
			case i%3 == 0:
				q = "UPDATE settings SET value = 'x' WHERE name = ?"
				want = append(want, fmt.Sprintf(`table settings: row name=%q: column value is "x" in the database but "%d" in the log (changed behind custos's back)`, k, i))
			case i%7 == 1:
				q = "DELETE FROM settings WHERE name = ?"
				want = append(want, fmt.Sprintf(`table settings: row name=%q is in the log but missing from the database (deleted behind custos's back)`, k))
			case i%5 == 2:
				k += "a" // sorts right after n-i
				q = "INSERT INTO settings (name, value) VALUES (?, 'y')"
				want = append(want, fmt.Sprintf(`table settings: row name=%q is in the database but not in the log (inserted behind custos's back)`, k))
			default:
				continue
			}
			if _, err := db.Read().Exec(ctx, q, k); err != nil {
				t.Fatal(err)
			}
		}
		whole, _ = verify(1 << 30)
		split, _ = verify(4)
		if !slices.Equal(whole.Problems, want) {
			t.Errorf("compared whole, %d problems:\n%q\nwant %d:\n%q", len(whole.Problems), whole.Problems, len(want), want)
		}
		if !slices.Equal(split.Problems, want) {
			t.Errorf("compared in ranges, %d problems:\n%q\nwant %d:\n%q", len(split.Problems), split.Problems, len(want), want)
		}
	})
}
