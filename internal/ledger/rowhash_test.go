package ledger

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
)

// TestRowHashFunc: rows hashed by SQLite in the statement that reads them
// (custos_range_hashes, as hashRows does on SQLite) hash as the same rows
// read into Go and hashed there (hashScanned), on SQLite and from
// PostgreSQL, for every type custos stores and the values at their edges,
// each filed under the range of its key; so a range digest is the same
// whichever way either side was read, and digests kept by a verify before
// this existed still match. A changed value changes the hash, and a key
// that is not text asks for the table to be compared whole.
func TestRowHashFunc(t *testing.T) {
	ctx := context.Background()
	rows := [][]any{
		{"k1", "text", int64(0), 1.5, []byte{0, 1, 0xff}},
		{"k2", "", int64(-9007199254740993), -0.25, []byte{}},
		{"k3", nil, nil, nil, nil},
		{"k4", "Ünïcødé ✓ 'quoted' \"double\"", int64(9223372036854775807), 1e300, []byte("x")},
		{"k5", "2024-05-06T07:08:09.123456Z", int64(1), 3.0, nil},
	}
	sums := map[string][][32]byte{}
	storetest.Each(t, func(t *testing.T, dsn string) {
		db := storetest.Open(t, dsn)
		tx, err := db.BeginWrite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		blob := "BLOB"
		if db.Dialect == store.Postgres {
			blob = "BYTEA"
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE rh (id TEXT PRIMARY KEY, s TEXT, i BIGINT, f DOUBLE PRECISION, b `+blob+`)`); err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if _, err := tx.Exec(ctx, "INSERT INTO rh (id, s, i, f, b) VALUES (?, ?, ?, ?, ?)", r...); err != nil {
				t.Fatal(err)
			}
		}
		tb := Table{Name: "rh", Order: "id"}
		// Three ranges: to k2, from k2 to k4, from k4 on.
		k2, k4 := "k2", "k4"
		parts := []keptRange{{hi: &k2}, {lo: &k2, hi: &k4}, {lo: &k4}}
		_, split, whole, err := hashRows(ctx, tx, tb, " WHERE id >= ?", []any{"k"}, parts)
		if err != nil || whole {
			t.Fatal(whole, err)
		}
		_, scannedSplit, _, err := hashScanned(ctx, tx, tb, " WHERE id >= ?", []any{"k"}, parts)
		if err != nil {
			t.Fatal(err)
		}
		for i, want := range []int{1, 2, 2} {
			if len(split[i]) != want || !slices.Equal(split[i], scannedSplit[i]) {
				t.Fatalf("range %d: hashed in the statement %x, in Go %x; want %d rows", i, split[i], scannedSplit[i], want)
			}
		}
		_, none, whole, err := hashRows(ctx, tx, tb, " WHERE id >= ?", []any{"z"}, parts)
		if err != nil || whole || len(none) != 3 || len(none[0])+len(none[1])+len(none[2]) != 0 {
			t.Fatalf("no rows: %v %v %v", none, whole, err)
		}
		ranges := []keptRange{{}}
		_, inSQL, whole, err := hashRows(ctx, tx, tb, " WHERE id >= ?", []any{"k"}, ranges)
		if err != nil || whole {
			t.Fatal(whole, err)
		}
		_, scanned, whole, err := hashScanned(ctx, tx, tb, " WHERE id >= ?", []any{"k"}, ranges)
		if err != nil || whole {
			t.Fatal(whole, err)
		}
		if len(inSQL[0]) != len(rows) || !slices.Equal(inSQL[0], scanned[0]) {
			t.Fatalf("hashed in the statement %x\nhashed in Go          %x", inSQL[0], scanned[0])
		}
		sums[db.Dialect.String()] = sorted(scanned[0])
		// One value changed: that row's hash changes, and only it.
		if _, err := tx.Exec(ctx, "UPDATE rh SET i = 2 WHERE id = 'k5'"); err != nil {
			t.Fatal(err)
		}
		_, after, _, err := hashRows(ctx, tx, tb, "", nil, ranges)
		if err != nil {
			t.Fatal(err)
		}
		changed := 0
		for _, h := range after[0] {
			if !slices.Contains(inSQL[0], h) {
				changed++
			}
		}
		if len(after[0]) != len(rows) || changed != 1 {
			t.Errorf("after changing one value: %d rows, %d hashes new; want %d rows, 1 new", len(after[0]), changed, len(rows))
		}
		if db.Dialect == store.SQLite {
			// SQLite keeps a blob in a TEXT column: a key that is not text.
			if _, err := tx.Exec(ctx, "INSERT INTO rh (id) VALUES (?)", []byte("k9")); err != nil {
				t.Fatal(err)
			}
			_, _, inSQLWhole, err := hashRows(ctx, tx, tb, "", nil, parts)
			if err != nil {
				t.Fatal(err)
			}
			_, _, scannedWhole, err := hashScanned(ctx, tx, tb, "", nil, parts)
			if err != nil || !inSQLWhole || !scannedWhole {
				t.Errorf("a blob key: whole %v in the statement, %v in Go (%v); want both", inSQLWhole, scannedWhole, err)
			}
		}
	})
	if a, b := sums[store.SQLite.String()], sums[store.Postgres.String()]; a != nil && b != nil && !slices.Equal(a, b) {
		t.Errorf("the same rows hash apart on the two engines:\nsqlite   %x\npostgres %x", a, b)
	}
}

func sorted(hs [][32]byte) [][32]byte {
	out := slices.Clone(hs)
	slices.SortFunc(out, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
	return out
}
