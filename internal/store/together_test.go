package store_test

import (
	"context"
	"testing"

	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
)

// TestExecTogether runs the writes of one command together, as the
// transplant record's projection does: an insert, an insert that reads
// another table, and two updates, each of its own table, with the arguments
// of each part in its own place. Then a command whose first part fails: the
// parts after it change nothing either, on both engines (PostgreSQL runs them
// all in one statement; SQLite stops at the failure and the savepoint undoes
// what ran).
func TestExecTogether(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := storetest.Open(t, dsn)
		tx, err := db.BeginWrite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		for _, q := range []string{
			"CREATE TABLE tg_kinds (id TEXT PRIMARY KEY, kind TEXT NOT NULL)",
			"CREATE TABLE tg_main (id TEXT PRIMARY KEY, kind_id TEXT NOT NULL REFERENCES tg_kinds (id), at TEXT NOT NULL)",
			"CREATE TABLE tg_report (id TEXT PRIMARY KEY, kind TEXT NOT NULL, year INTEGER NOT NULL)",
			"CREATE TABLE tg_count (kind TEXT PRIMARY KEY, n INTEGER NOT NULL)",
			"CREATE TABLE tg_first (kind TEXT PRIMARY KEY, first_at TEXT)",
			"INSERT INTO tg_kinds (id, kind) VALUES ('K1', 'kidney'), ('K2', 'liver')",
			"INSERT INTO tg_count (kind, n) VALUES ('kidney', 0), ('liver', 0)",
			"INSERT INTO tg_first (kind, first_at) VALUES ('kidney', NULL), ('liver', NULL)",
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		tx.Pipeline()
		record := func(id, kindID, at string, year int64) error {
			return tx.Savepoint(ctx, func() error {
				return store.ExecTogether(ctx, tx,
					store.Write{SQL: "INSERT INTO tg_main (id, kind_id, at) VALUES (?, ?, ?)", Args: []any{id, kindID, at}},
					store.Write{SQL: "INSERT INTO tg_report (id, kind, year) SELECT ?, k.kind, ? FROM tg_kinds k WHERE k.id = ?", Args: []any{id, year, kindID}},
					store.Write{SQL: "UPDATE tg_count SET n = n + 1 WHERE kind = (SELECT kind FROM tg_kinds WHERE id = ?)", Args: []any{kindID}},
					store.Write{SQL: "UPDATE tg_first SET first_at = ? WHERE kind = (SELECT kind FROM tg_kinds WHERE id = ?) AND (first_at IS NULL OR first_at > ?)", Args: []any{at, kindID, at}},
				)
			})
		}
		if err := record("T1", "K1", "2025-03-01", 2025); err != nil {
			t.Fatal(err)
		}
		if err := record("T2", "K1", "2024-07-01", 2024); err != nil {
			t.Fatal(err)
		}
		// T1 again: its main row's key is taken, so the report row, the
		// count and the first date of liver must not move either.
		err = record("T1", "K2", "2023-01-01", 2023)
		if err == nil {
			t.Fatal("a duplicate key in the first part was accepted")
		}
		var got string
		if err := tx.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM tg_main) || ' ' ||
			(SELECT COUNT(*) FROM tg_report) || ' ' || (SELECT kind FROM tg_report WHERE id = 'T2') || ' ' || (SELECT year FROM tg_report WHERE id = 'T2') || ' ' ||
			(SELECT n FROM tg_count WHERE kind = 'kidney') || ' ' || (SELECT n FROM tg_count WHERE kind = 'liver') || ' ' ||
			(SELECT first_at FROM tg_first WHERE kind = 'kidney') || ' ' || COALESCE((SELECT first_at FROM tg_first WHERE kind = 'liver'), 'none')`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if want := "2 2 kidney 2024 2 0 2024-07-01 none"; got != want {
			t.Errorf("after two commands and a refused one: %q, want %q", got, want)
		}
	})
}
