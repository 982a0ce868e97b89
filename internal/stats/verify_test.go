package stats_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/stats"
	"github.com/custos-project/custos/internal/stats/statstest"
	"github.com/custos-project/custos/internal/storetest"
)

// TestVerifyChecksColumns checks the statistics registry's part of log
// verify: an import's stored column chunks must be those its entry's
// SHA-256 and chunk count describe. A chunk's bytes changed, a column cut
// short, a chunk deleted and a chunk added are each reported, naming the
// import (and the chunk where the entry lets one tell).
func TestVerifyChecksColumns(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newWorld(t, dsn)
		m := w.mapping(t)
		f := makeFile(t, 70000, statstest.Options{Seed: 7, Counts: true})
		im, err := w.S.Import(ctx, w.Statistician, stats.ImportRequest{Source: "police.csv", Mapping: m.ID}, bytes.NewReader(f.data), int64(len(f.data)), nil)
		if err != nil {
			t.Fatal(err)
		}
		if im.Chunks != 2 {
			t.Fatalf("import of %d chunks, want 2", im.Chunks)
		}
		db := w.App.DB
		verify := func() *ledger.Report {
			t.Helper()
			rep, err := ledger.Verify(ctx, db, w.App.Projections, ledger.VerifyOptions{VerifierKey: w.App.Keys.LogKey})
			if err != nil {
				t.Fatal(err)
			}
			return rep
		}
		if rep := verify(); !rep.OK() || rep.Checks < 1 {
			t.Fatalf("untouched: %q, %d checks", rep.Problems, rep.Checks)
		}
		var key string
		var data []byte
		if err := db.Read().QueryRow(ctx, "SELECT id, data FROM stats_columns WHERE import_id = ? AND chunk = 1 ORDER BY id", im.ID).Scan(&key, &data); err != nil {
			t.Fatal(err)
		}
		set := func(b []byte) {
			t.Helper()
			if _, err := db.Read().Exec(ctx, "UPDATE stats_columns SET data = ? WHERE id = ?", b, key); err != nil {
				t.Fatal(err)
			}
		}
		want := func(what string, rep *ledger.Report, text string) {
			t.Helper()
			if len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0], text) {
				t.Errorf("%s: %q, want one problem with %q", what, rep.Problems, text)
			}
		}
		changed := bytes.Clone(data)
		changed[len(changed)/2] ^= 1
		set(changed)
		want("a byte changed", verify(), fmt.Sprintf("stats_columns: import %s: its 2 chunks do not match the SHA-256 entry", im.ID))
		set(data[:len(data)-1])
		want("a column cut short", verify(), fmt.Sprintf("stats_columns: import %s: chunk 1 column iccs holds %d bytes, not %d", im.ID, len(data)-1, len(data)))
		set(data)
		if rep := verify(); !rep.OK() {
			t.Errorf("restored: %q", rep.Problems)
		}
		if _, err := db.Read().Exec(ctx, "INSERT INTO stats_columns (id, import_id, chunk, col, n, data) VALUES (?, ?, 2, 'iccs', 1, ?)",
			strings.Replace(key, "/000001/", "/000002/", 1), im.ID, []byte{0, 1}); err != nil {
			t.Fatal(err)
		}
		want("a chunk added", verify(), fmt.Sprintf("stats_columns: import %s: chunk 2 is past the 2 chunks entry", im.ID))
		if _, err := db.Read().Exec(ctx, "DELETE FROM stats_columns WHERE import_id = ? AND chunk >= 1", im.ID); err != nil {
			t.Fatal(err)
		}
		want("a chunk deleted", verify(), fmt.Sprintf("stats_columns: import %s: chunk 1, which entry", im.ID))
	})
}
