package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
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

// TestVerifyFromDigests checks the comparison by range digests: a full
// verify that saves its state keeps the digests of a table compared in
// ranges; the next one, from that state, compares the ranges the new leaves
// did not touch by their digests alone, and still finds a row changed, one
// added and one deleted behind custos's back in such a range (in the middle
// of the table), as well as one changed in a range the new leaves touched
// and a row a new leaf added but that is missing from the database.
func TestVerifyFromDigests(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db, reg, w, _, vkey := newLog(t, dsn)
		dir := t.TempDir()
		state := filepath.Join(dir, "audit.json")
		writeNotes(t, w, "n", 100, 60)
		verify := func(from bool, save bool) *ledger.Report {
			t.Helper()
			opt := ledger.VerifyOptions{VerifierKey: vkey, SplitRows: 6, MaxProblems: 1000}
			if from {
				st, err := ledger.LoadAuditState(state, nil)
				if err != nil {
					t.Fatal(err)
				}
				opt.From = st
			}
			if save {
				opt.SaveState = state
			}
			rep, err := ledger.Verify(ctx, db, reg, opt)
			if err != nil {
				t.Fatal(err)
			}
			return rep
		}
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.Read().Exec(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
		}
		full := verify(false, true)
		if !full.OK() || full.DigestRows != 0 {
			t.Fatalf("full verify: %+v", full)
		}
		rep := verify(true, true)
		if !rep.OK() || rep.Rows != full.Rows || rep.DigestRows < full.Rows/2 {
			t.Fatalf("from the state, nothing new: %d rows, %d by digests, want %d (%q)", rep.Rows, rep.DigestRows, full.Rows, rep.Problems)
		}
		// New leaves: rows at the end of the table (n-9xx sort after n-1xx)
		// and one in its middle, which the replay inserts.
		writeNotes(t, w, "n", 900, 3)
		writeNotes(t, w, "n-13", 0, 1) // n-13-0, between n-139 and n-140
		rep = verify(true, true)
		if !rep.OK() || rep.Replayed != 4 || rep.Rows != full.Rows+4 || rep.DigestRows == 0 || rep.DigestRows >= rep.Rows {
			t.Fatalf("from the state, 4 new leaves: %d rows (%d by digests), replayed %d, want %d rows (%q)", rep.Rows, rep.DigestRows, rep.Replayed, full.Rows+4, rep.Problems)
		}

		exec("UPDATE settings SET value = 'x' WHERE name = 'n-120'")
		exec("INSERT INTO settings (name, value) VALUES ('n-125a', 'y')")
		exec("DELETE FROM settings WHERE name = 'n-131'")
		writeNotes(t, w, "n-15", 0, 1) // a range the replay touches …
		exec("UPDATE settings SET value = 'z' WHERE name = 'n-151'")
		// … and one where the row a new leaf adds is taken away: that
		// range's live rows are those the digest kept, but the replay's
		// are not.
		writeNotes(t, w, "n-14", 0, 1)
		exec("DELETE FROM settings WHERE name = 'n-14-0'")
		rep = verify(true, false)
		want := []string{
			`table settings: row name="n-120": column value is "x" in the database but "120" in the log (changed behind custos's back)`,
			`table settings: row name="n-125a" is in the database but not in the log (inserted behind custos's back)`,
			`table settings: row name="n-131" is in the log but missing from the database (deleted behind custos's back)`,
			`table settings: row name="n-14-0" is in the log but missing from the database (deleted behind custos's back)`,
			`table settings: row name="n-151": column value is "z" in the database but "151" in the log (changed behind custos's back)`,
		}
		got := slices.Clone(rep.Problems)
		slices.Sort(got)
		if !slices.Equal(got, want) || rep.DigestRows == 0 {
			t.Errorf("rows changed, added and deleted behind custos's back (%d rows by digests): %q, want %q", rep.DigestRows, got, want)
		}
	})
}

// TestVerifyChecksStoredTree checks the stored subtree hashes, which a full
// verification compares with the leaves beside the replay: a node whose
// hash was changed, one deleted at the end of its level or in its middle,
// and one added past the last the leaves make are each found, named by
// level and index, and the untouched tree passes.
func TestVerifyChecksStoredTree(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db, reg, w, _, vkey := newLog(t, dsn)
		writeNotes(t, w, "n", 0, 40)
		verify := func() *ledger.Report {
			t.Helper()
			rep, err := ledger.Verify(ctx, db, reg, ledger.VerifyOptions{VerifierKey: vkey})
			if err != nil {
				t.Fatal(err)
			}
			return rep
		}
		rep := verify()
		if !rep.OK() {
			t.Fatalf("an untouched log: %q", rep.Problems)
		}
		size := int64(rep.Size)
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.Read().Exec(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
		}
		hashOf := func(level int, idx int64) []byte {
			t.Helper()
			var h []byte
			if err := db.Read().QueryRow(ctx, "SELECT hash FROM log_nodes WHERE level = ? AND idx = ?", level, idx).Scan(&h); err != nil {
				t.Fatal(err)
			}
			return h
		}
		last1 := size/2 - 1
		for _, c := range []struct {
			name   string
			level  int
			idx    int64
			tamper string
			want   string
			add    bool
		}{
			{name: "changed", level: 2, idx: 3, tamper: "UPDATE log_nodes SET hash = ? WHERE level = ? AND idx = ?",
				want: "log_nodes: level 2 node 3 does not match the leaves 12–15 (proofs would fail; the node or those leaves were changed)"},
			{name: "last deleted", level: 1, idx: last1, tamper: "DELETE FROM log_nodes WHERE level = ? AND idx = ?",
				want: fmt.Sprintf("log_nodes: level 1 has %d nodes, the leaves make %d", last1, last1+1)},
			{name: "middle deleted", level: 1, idx: 5, tamper: "DELETE FROM log_nodes WHERE level = ? AND idx = ?",
				want: "log_nodes: level 1 node 5 is missing (proofs would fail)"},
			{name: "one too many", level: 3, idx: size >> 3, add: true,
				want: fmt.Sprintf("log_nodes: level 3 node %d does not match the leaves %d–%d (proofs would fail; the node or those leaves were changed)", size>>3, size>>3<<3, size>>3<<3+7)},
			// Planted where the tree has no level: above its top, and at the
			// leaves' level (an outside auditor's case: the append that
			// reached it failed, and every write after).
			{name: "above the top", level: bits.Len64(uint64(size)), idx: 0, add: true,
				want: fmt.Sprintf("log_nodes: level %d node 0 is stored, where a tree of %d leaves has none (custos never stores it; the append that reaches it would fail, and every write with it)", bits.Len64(uint64(size)), size)},
			{name: "at the leaves", level: 0, idx: 7, add: true,
				want: fmt.Sprintf("log_nodes: level 0 node 7 is stored, where a tree of %d leaves has none (custos never stores it; the append that reaches it would fail, and every write with it)", size)},
		} {
			var was []byte
			switch {
			case c.add:
				exec("INSERT INTO log_nodes (level, idx, hash) VALUES (?, ?, ?)", c.level, c.idx, make([]byte, 32))
			case strings.HasPrefix(c.tamper, "UPDATE"):
				was = hashOf(c.level, c.idx)
				exec(c.tamper, make([]byte, 32), c.level, c.idx)
			default:
				was = hashOf(c.level, c.idx)
				exec(c.tamper, c.level, c.idx)
			}
			rep := verify()
			if !slices.Equal(rep.Problems, []string{c.want}) {
				t.Errorf("%s: %q, want %q", c.name, rep.Problems, c.want)
			}
			exec("DELETE FROM log_nodes WHERE level = ? AND idx = ?", c.level, c.idx)
			if !c.add {
				exec("INSERT INTO log_nodes (level, idx, hash) VALUES (?, ?, ?)", c.level, c.idx, was)
			}
			if rep := verify(); !rep.OK() {
				t.Fatalf("%s undone: %q", c.name, rep.Problems)
			}
		}
	})
}

// TestVerifyCancelled checks that a verification cancelled while it replays
// the log (an auditor's Ctrl-C) stops with the context's error: not with a
// report naming the leaf being replayed as one that cannot be replayed, and
// the log as cut after it, which is what a registry that was tampered with
// gets.
func TestVerifyCancelled(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db, reg, w, _, vkey := newLog(t, dsn)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var replaying atomic.Bool
		reg.Register("test.cancel", func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry) error {
			if replaying.Load() {
				cancel()
			}
			_, err := q.Exec(ctx, "INSERT INTO settings (name, value) VALUES (?, 'cancel')", fmt.Sprint("c-", idx))
			return err
		})
		writeNotes(t, w, "a", 0, 5)
		if _, err := w.Submit(ctx, ledger.Actor{}, "cancel", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
			return ledger.NewEntry("test.cancel", noteData{ID: "c"})
		}); err != nil {
			t.Fatal(err)
		}
		writeNotes(t, w, "b", 0, 5)
		if rep, err := ledger.Verify(context.Background(), db, reg, ledger.VerifyOptions{VerifierKey: vkey}); err != nil || !rep.OK() {
			t.Fatalf("before the cancel: %v, %+v", err, rep)
		}
		replaying.Store(true)
		rep, err := ledger.Verify(ctx, db, reg, ledger.VerifyOptions{VerifierKey: vkey})
		if !errors.Is(err, context.Canceled) {
			var problems []string
			if rep != nil {
				problems = rep.Problems
			}
			t.Fatalf("cancelled in the replay: err %v, problems %q; want context.Canceled and no report", err, problems)
		}
	})
}

// TestVerifyManyWorkers checks that a verification asked for more workers
// than the read pool holds connections (a machine with many cores) takes
// what fits instead of waiting for ever for a snapshot, in full and from a
// kept state.
func TestVerifyManyWorkers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db, reg, w, _, vkey := newLog(t, dsn)
		writeNotes(t, w, "many", 0, 3)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		state := filepath.Join(t.TempDir(), "audit.json")
		rep, err := ledger.Verify(ctx, db, reg, ledger.VerifyOptions{VerifierKey: vkey, Workers: 64, SaveState: state})
		if err != nil || !rep.OK() {
			t.Fatalf("full, 64 workers: %v %v", err, rep)
		}
		st, err := ledger.LoadAuditState(state, nil)
		if err != nil {
			t.Fatal(err)
		}
		if rep, err := ledger.Verify(ctx, db, reg, ledger.VerifyOptions{VerifierKey: vkey, Workers: 64, From: st}); err != nil || !rep.OK() {
			t.Fatalf("from a state, 64 workers: %v %v", err, rep)
		}
	})
}

// TestChecksGetTheWorkers checks that a module's check is told how many
// goroutines the verification may keep busy (log verify --workers), and
// every core when none is asked for, so that a check on every core (the
// BODS statements', the witnesses') keeps to what the auditor allowed.
func TestChecksGetTheWorkers(t *testing.T) {
	db, reg, w, _, vkey := newLog(t, storetest.SQLite(t))
	writeNotes(t, w, "workers", 0, 2)
	var got atomic.Int64
	reg.Check("workers", func(ctx context.Context, run ledger.CheckRun) error {
		got.Store(int64(run.Workers))
		return nil
	})
	for _, c := range []struct{ asked, want int }{{3, 3}, {1, 1}, {0, runtime.GOMAXPROCS(0)}} {
		got.Store(-1)
		rep, err := ledger.Verify(context.Background(), db, reg, ledger.VerifyOptions{VerifierKey: vkey, Workers: c.asked})
		if err != nil || !rep.OK() {
			t.Fatalf("workers %d: %v %v", c.asked, err, rep)
		}
		if got.Load() != int64(c.want) {
			t.Errorf("workers %d: the check was told %d, want %d", c.asked, got.Load(), c.want)
		}
	}
}
