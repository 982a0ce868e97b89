package ledger_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
)

// TestCompareCopy compares a log with copies of it, as serve --db-read
// compares the primary's log with its replica's: a copy of its first
// leaves is behind, the same log is level, and a copy that is no prefix of
// it is said to be apart: one longer than the log, one whose last leaf is
// another (a log of the same key with other entries), one whose head's root
// is not the root of the log's first leaves.
func TestCompareCopy(t *testing.T) {
	ctx := context.Background()
	src, reg, w, signer, vkey := newLog(t, storetest.SQLite(t))
	submit := func(w *ledger.Writer, from, to int, prefix string) {
		t.Helper()
		for i := from; i < to; i++ {
			if _, err := w.Submit(ctx, ledger.Actor{Principal: "PR-T", Authority: "AU-T"}, "note", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
				return ledger.NewEntry("test.note", noteData{ID: fmt.Sprintf("%s-%03d", prefix, i), N: i})
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	submit(w, 0, 4, "note")
	early, earlyCP := storedLog(t, src)
	submit(w, 4, 9, "note")
	leaves, cp := storedLog(t, src)

	prefix := storetest.Open(t, storetest.SQLite(t))
	if _, err := ledger.AppendLeaves(ctx, prefix, reg, early, earlyCP, vkey); err != nil {
		t.Fatal(err)
	}
	level := storetest.Open(t, storetest.SQLite(t))
	if _, err := ledger.AppendLeaves(ctx, level, reg, leaves, cp, vkey); err != nil {
		t.Fatal(err)
	}
	// Another history under the same key: the same first leaves' kinds,
	// other notes (and other times and ids).
	other, _, ow := newLogWith(t, storetest.SQLite(t), signer, vkey)
	submit(ow, 0, 6, "other")

	for _, c := range []struct {
		name      string
		log, copy *store.DB
		behind    uint64
		diverged  string
	}{
		{"prefix", src, prefix, uint64(len(leaves) - len(early)), ""},
		{"level", src, level, 0, ""},
		{"longer", prefix, src, 0, fmt.Sprintf("it holds %d leaves, the primary %d", len(leaves), len(early))},
		{"another history", src, other, 0, "is not the primary's leaf"},
	} {
		st, err := ledger.CompareCopy(ctx, c.log.Read(), c.copy.Read())
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if c.diverged == "" && st.Behind() != c.behind || (c.diverged == "") != (st.Diverged == "") || !strings.Contains(st.Diverged, c.diverged) {
			t.Errorf("%s: %+v, behind %d; want behind %d, diverged %q", c.name, st, st.Behind(), c.behind, c.diverged)
		}
	}

	// A copy whose last leaf is the log's, but whose tree is not the log's
	// first leaves (here its root rewritten).
	if _, err := prefix.Read().Exec(ctx, "UPDATE log_state SET root = ?", make([]byte, 32)); err != nil {
		t.Fatal(err)
	}
	st, err := ledger.CompareCopy(ctx, src.Read(), prefix.Read())
	if err != nil || !strings.Contains(st.Diverged, "is not the first") {
		t.Errorf("a copy whose root is not the log's at its size: %+v, %v", st, err)
	}
}
