package ledger

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/custos-project/custos/internal/store"
)

// TestLateIndexes checks which indexes a replay from empty builds late and
// that a statement reading through one finds it built before it runs: the
// non-unique indexes made by CREATE INDEX are dropped; unique ones and the
// keys' stay; an UPDATE whose plan searches a late index builds that one
// only, an INSERT builds none, a change of a parent's key builds the index
// its children's check reads (which no query plan shows), a delete that
// cascades (a program of its own) and a query that cannot be planned build
// them all, and finish builds the rest
// so that the replay ends with the schema it began with; a replay thrown
// away after the comparison gets only those the comparison's reads need.
func TestLateIndexes(t *testing.T) {
	ctx := context.Background()
	schema := store.Schema{Module: "t", FS: fstest.MapFS{"001_t.sql": {Data: []byte(`
CREATE TABLE p (id TEXT PRIMARY KEY, k TEXT, w TEXT, v TEXT);
CREATE INDEX p_k ON p (k);
CREATE INDEX p_w ON p (w, v);
CREATE UNIQUE INDEX p_u ON p (w, k);
CREATE TABLE c (id TEXT PRIMARY KEY, p_id TEXT REFERENCES p(id), x TEXT, y TEXT);
CREATE INDEX c_p ON c (p_id, x);
CREATE INDEX c_x ON c (x);
CREATE INDEX c_y ON c (y) WHERE y IS NOT NULL;
CREATE TABLE d (id TEXT PRIMARY KEY, p_id TEXT REFERENCES p(id) ON DELETE CASCADE);
`)}}}
	open := func() (*store.DB, *lateIndexes) {
		t.Helper()
		db, err := store.OpenScratch(ctx, filepath.Join(t.TempDir(), "replay.db"), 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if _, err := db.Migrate(ctx, []store.Schema{schema}); err != nil {
			t.Fatal(err)
		}
		li, err := dropLateIndexes(ctx, db, []store.Schema{schema})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(li.close)
		if li.tx, err = db.BeginWrite(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { li.tx.Rollback() })
		return db, li
	}
	all := []string{"c_p", "c_x", "c_y", "p_k", "p_u", "p_w"}

	db, li := open()
	if got, want := li.names, []string{"p_k", "p_w", "c_p", "c_x", "c_y"}; !slices.Equal(got, want) {
		t.Fatalf("late indexes %q, want %q", got, want)
	}
	if got, want := IndexNames(t, db), []string{"p_u"}; !slices.Equal(got, want) {
		t.Fatalf("the replay begins with the indexes %q, want %q", got, want)
	}
	if _, err := li.Exec(ctx, "INSERT INTO p (id, k, w, v) VALUES (?, ?, ?, ?)", "p1", "a", "b", "c"); err != nil {
		t.Fatal(err)
	}
	if _, err := li.Exec(ctx, "UPDATE p SET v = ? WHERE k = ?", "d", "a"); err != nil {
		t.Fatal(err)
	}
	var v string
	if err := li.QueryRow(ctx, "SELECT v FROM c JOIN p ON p.id = c.p_id WHERE c.y = ?", "z").Scan(&v); err == nil {
		t.Fatal("a row from an empty table")
	}
	if _, err := li.Exec(ctx, "INSERT INTO c (id, p_id, x) VALUES (?, ?, ?)", "c1", "p1", "x"); err != nil {
		t.Fatal(err)
	}
	if got, want := li.names, []string{"p_w", "c_p", "c_x"}; !slices.Equal(got, want) {
		t.Errorf("after an insert, an update by k, a read by y and a child's insert, late indexes %q, want %q", got, want)
	}
	if _, err := li.Exec(ctx, "UPDATE p SET id = ? WHERE id = ?", "p2", "p3"); err != nil {
		t.Fatal(err)
	}
	if got, want := li.names, []string{"p_w", "c_x"}; !slices.Equal(got, want) {
		t.Errorf("after a change of a parent's key, late indexes %q, want %q", got, want)
	}
	if err := li.tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got, want := IndexNames(t, db), []string{"c_p", "c_y", "p_k", "p_u"}; !slices.Equal(got, want) {
		t.Errorf("the replay has the indexes %q, want %q", got, want)
	}
	li.tx, _ = db.BeginWrite(ctx)
	if err := li.finish(ctx, nil, true, nil); err != nil {
		t.Fatal(err)
	}
	if err := li.tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := IndexNames(t, db); !slices.Equal(got, all) {
		t.Errorf("finished, the replay has the indexes %q, want %q", got, all)
	}
	if err := db.Read().QueryRow(ctx, "SELECT v FROM p WHERE k = 'a'").Scan(&v); err != nil || v != "d" {
		t.Errorf("the replay's row: %q, %v", v, err)
	}

	// A replay thrown away after the comparison builds at the end only
	// the late indexes the comparison's reads go through.
	db, li = open()
	if err := li.finish(ctx, nil, false, []string{"SELECT * FROM c ORDER BY x", "SELECT * FROM p WHERE id >= '' AND id < '' ORDER BY id"}); err != nil {
		t.Fatal(err)
	}
	li.tx.Commit()
	if got, want := IndexNames(t, db), []string{"c_x", "p_u"}; !slices.Equal(got, want) {
		t.Errorf("thrown away, the replay has the indexes %q, want %q", got, want)
	}

	// A delete that runs a foreign key's action builds every late index.
	db, li = open()
	if _, err := li.Exec(ctx, "DELETE FROM p WHERE id = ?", "p1"); err != nil {
		t.Fatal(err)
	}
	if len(li.names) != 0 {
		t.Errorf("after a delete that cascades, late indexes %q", li.names)
	}
	li.tx.Commit()
	if got := IndexNames(t, db); !slices.Equal(got, all) {
		t.Errorf("after a delete that cascades, the replay has the indexes %q, want %q", got, all)
	}

	// A statement that cannot be planned builds every late index.
	db, li = open()
	if _, err := li.Exec(ctx, "UPDATE nowhere SET v = 1"); err == nil {
		t.Fatal("an update of a table that is not there ran")
	}
	if len(li.names) != 0 {
		t.Errorf("after a statement that cannot be planned, late indexes %q", li.names)
	}
	li.tx.Commit()
	if got := IndexNames(t, db); !slices.Equal(got, all) {
		t.Errorf("the replay has the indexes %q, want %q", got, all)
	}
}

// IndexNames lists the indexes made by CREATE INDEX in a SQLite database,
// by name.
func IndexNames(t testing.TB, db *store.DB) []string {
	t.Helper()
	rows, err := db.Read().Query(context.Background(), "SELECT name FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	return names
}
