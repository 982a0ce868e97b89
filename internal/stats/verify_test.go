package stats_test

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/stats"
	"github.com/custos-project/custos/internal/stats/statstest"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
)

// TestVerifyChecksColumns checks the statistics registry's part of log
// verify: an import's stored column chunks must be those its entry's
// SHA-256, row digests and chunk count describe. A row's bytes changed, a
// column cut short, a row deleted, a chunk deleted and a chunk added are
// each reported naming the table and the row's key (id), as an auditor
// looks it up; for an entry made before row digests, a row changed is named
// by the import's rows, the entry having one digest for all of them.
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
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.Read().Exec(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
		}
		row := func(imp string, chunk int, col string) (string, []byte) {
			t.Helper()
			var key string
			var data []byte
			if err := db.Read().QueryRow(ctx, "SELECT id, data FROM stats_columns WHERE import_id = ? AND chunk = ? AND col = ?", imp, chunk, col).Scan(&key, &data); err != nil {
				t.Fatal(err)
			}
			return key, data
		}
		want := func(what string, rep *ledger.Report, text string) {
			t.Helper()
			if len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0], text) {
				t.Errorf("%s: %q, want one problem with %q", what, rep.Problems, text)
			}
		}
		type stored struct {
			key, col string
			chunk, n int
			data     []byte
		}
		rows, err := db.Read().Query(ctx, "SELECT id, col, chunk, n, data FROM stats_columns WHERE import_id = ?", im.ID)
		if err != nil {
			t.Fatal(err)
		}
		all, err := store.Rows(rows, func(r store.Scanner, x *stored) error { return r.Scan(&x.key, &x.col, &x.chunk, &x.n, &x.data) })
		if err != nil {
			t.Fatal(err)
		}
		index := logIndex(t, w, im.ID)
		key, data := row(im.ID, 1, "iccs")
		changed := bytes.Clone(data)
		changed[len(changed)/2] ^= 1
		exec("UPDATE stats_columns SET data = ? WHERE id = ?", changed, key)
		want("a byte changed", verify(), fmt.Sprintf("table stats_columns: row id=%q does not match the SHA-256 entry %d carries for it (changed behind custos's back)", key, index))
		exec("UPDATE stats_columns SET data = ? WHERE id = ?", data[:len(data)-1], key)
		want("a column cut short", verify(), fmt.Sprintf("table stats_columns: row id=%q (column iccs) holds %d bytes, not %d", key, len(data)-1, len(data)))
		exec("UPDATE stats_columns SET data = ? WHERE id = ?", data, key)
		if rep := verify(); !rep.OK() {
			t.Errorf("restored: %q", rep.Problems)
		}
		sexKey, sex := row(im.ID, 0, "victim_sex")
		exec("DELETE FROM stats_columns WHERE id = ?", sexKey)
		want("a row deleted", verify(), fmt.Sprintf("table stats_columns: row id=%q, which entry %d stored for import %s, is missing (deleted behind custos's back)", sexKey, index, im.ID))
		exec("INSERT INTO stats_columns (id, import_id, chunk, col, n, data) VALUES (?, ?, 0, 'victim_sex', ?, ?)", sexKey, im.ID, 65536, sex)
		added := strings.Replace(key, "/000001/", "/000002/", 1)
		exec("INSERT INTO stats_columns (id, import_id, chunk, col, n, data) VALUES (?, ?, 2, 'iccs', 1, ?)", added, im.ID, []byte{0, 1})
		want("a chunk added", verify(), fmt.Sprintf("table stats_columns: row id=%q is of chunk 2, past the 2 chunks entry %d counts for import %s", added, index, im.ID))
		exec("DELETE FROM stats_columns WHERE import_id = ? AND chunk >= 1", im.ID)
		want("a chunk deleted", verify(), fmt.Sprintf("table stats_columns: the rows whose id starts %q (chunk 1 of import %s, which entry %d counts) are missing", im.ID+"/000001/", im.ID, index))
		exec("DELETE FROM stats_columns WHERE import_id = ?", im.ID)
		want("every chunk deleted", verify(), fmt.Sprintf("table stats_columns: the rows whose id starts %q (the 2 chunks of import %s, which entry %d counts) are all missing", im.ID+"/", im.ID, index))
		for _, x := range all {
			exec("INSERT INTO stats_columns (id, import_id, chunk, col, n, data) VALUES (?, ?, ?, ?, ?, ?)", x.key, im.ID, x.chunk, x.col, x.n, x.data)
		}
		if rep := verify(); !rep.OK() {
			t.Errorf("restored: %q", rep.Problems)
		}

		// An entry made before row digests (and the records digest): a
		// row changed is named by the rows of its import; a row deleted
		// still by its key.
		other := makeFile(t, 1000, statstest.Options{Seed: 8})
		old, err := w.S.ImportClaiming(ctx, w.Statistician, m.ID, bytes.NewReader(other.data), "", false)
		if err != nil {
			t.Fatal(err)
		}
		index = logIndex(t, w, old)
		key, data = row(old, 0, "iccs")
		changed = bytes.Clone(data)
		changed[0] ^= 1
		exec("UPDATE stats_columns SET data = ? WHERE id = ?", changed, key)
		want("a byte changed under an entry without row digests", verify(), fmt.Sprintf("table stats_columns: the rows whose id starts %q (the 1 chunks of import %s) do not match the SHA-256 entry %d carries (changed behind custos's back; the entry, made before row digests, has one digest for all of them)", old+"/", old, index))
		exec("UPDATE stats_columns SET data = ? WHERE id = ?", data, key)
		key, _ = row(old, 0, "region")
		exec("DELETE FROM stats_columns WHERE id = ?", key)
		want("a row deleted under an entry without row digests", verify(), fmt.Sprintf("table stats_columns: row id=%q, which entry %d stored for import %s, is missing", key, index, old))
	})
}

// TestVerifyDerivesRecordsDigest checks that log verify derives each
// import's records digest (records_digest) again from its stored chunks and
// dictionary, in full and from a saved state (--from): a digest changed in
// stats_imports, a stored record changed, and an entry whose digest is not
// its records' (which custos never writes, but a writer with the log's key
// could) each fail verify, naming the import.
func TestVerifyDerivesRecordsDigest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newWorld(t, dsn)
		m := w.mapping(t)
		f := makeFile(t, 3000, statstest.Options{Seed: 11, Counts: true})
		im, err := w.S.Import(ctx, w.Statistician, stats.ImportRequest{Source: "police.csv", Mapping: m.ID}, bytes.NewReader(f.data), int64(len(f.data)), nil)
		if err != nil {
			t.Fatal(err)
		}
		// And a file coded with the ICCS already: no national codes.
		coded := "iccs,stage,unit,date,region\n0101,police,offence,2024-01-05,North\n0502,police,victim,2024-02,South\n0502,police,victim,2024-02,South\n"
		if _, err := w.S.Import(ctx, w.Statistician, stats.ImportRequest{Source: "coded.csv"}, strings.NewReader(coded), int64(len(coded)), nil); err != nil {
			t.Fatal(err)
		}
		if im.RecordsDigest == "" {
			t.Fatal("the import has no records digest")
		}
		db := w.App.DB
		state := filepath.Join(t.TempDir(), "state.json")
		verify := func(o ledger.VerifyOptions) *ledger.Report {
			t.Helper()
			o.VerifierKey = w.App.Keys.LogKey
			rep, err := ledger.Verify(ctx, db, w.App.Projections, o)
			if err != nil {
				t.Fatal(err)
			}
			return rep
		}
		// Both ways: in full, and from the state saved before the changes.
		both := func() map[string]*ledger.Report {
			t.Helper()
			st, err := ledger.LoadAuditState(state, nil)
			if err != nil {
				t.Fatal(err)
			}
			return map[string]*ledger.Report{"full": verify(ledger.VerifyOptions{}), "--from": verify(ledger.VerifyOptions{From: st})}
		}
		if rep := verify(ledger.VerifyOptions{SaveState: state}); !rep.OK() {
			t.Fatalf("untouched: %q", rep.Problems)
		}
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.Read().Exec(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
		}
		want := func(what, text string) {
			t.Helper()
			for way, rep := range both() {
				if len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0], text) {
					t.Errorf("%s (%s): %q, want one problem with %q", what, way, rep.Problems, text)
				}
			}
		}
		flipped := strings.Repeat("0", 32)
		exec("UPDATE stats_imports SET records_digest = ? WHERE id = ?", flipped, im.ID)
		want("the digest changed", fmt.Sprintf("table stats_imports: row id=%q: column records_digest is %q in the database but %q in the log", im.ID, flipped, im.RecordsDigest))
		exec("UPDATE stats_imports SET records_digest = ? WHERE id = ?", im.RecordsDigest, im.ID)

		// A record's region moved to another of the dictionary's: a record
		// of the file changed, the digest left as it was.
		var key string
		var data []byte
		if err := db.Read().QueryRow(ctx, "SELECT id, data FROM stats_columns WHERE import_id = ? AND col = 'region'", im.ID).Scan(&key, &data); err != nil {
			t.Fatal(err)
		}
		changed := bytes.Clone(data)
		changed[0] ^= 1
		exec("UPDATE stats_columns SET data = ? WHERE id = ?", changed, key)
		want("a record changed", fmt.Sprintf("table stats_columns: row id=%q does not match the SHA-256 entry %d carries for it", key, logIndex(t, w, im.ID)))
		exec("UPDATE stats_columns SET data = ? WHERE id = ?", data, key)
		for way, rep := range both() {
			if !rep.OK() {
				t.Fatalf("restored (%s): %q", way, rep.Problems)
			}
		}

		// An entry whose records digest is not its records'.
		other := makeFile(t, 500, statstest.Options{Seed: 12})
		claimed := strings.Repeat("5", 32)
		id, err := w.S.ImportClaiming(ctx, w.Statistician, m.ID, bytes.NewReader(other.data), claimed, true)
		if err != nil {
			t.Fatal(err)
		}
		want("an entry's digest not its records'", fmt.Sprintf("table stats_imports: row id=%q: column records_digest is %s in entry %d, but the import's records, which match the SHA-256 of its chunks, make ",
			id, claimed, logIndex(t, w, id)))
	})
}

// logIndex is the leaf of import id's entry.
func logIndex(t *testing.T, w *world, id string) int64 {
	t.Helper()
	var n int64
	if err := w.App.DB.Read().QueryRow(context.Background(), "SELECT log_index FROM stats_imports WHERE id = ?", id).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
