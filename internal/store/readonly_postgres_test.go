package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
)

// TestOpenReadOnlyPostgres: a PostgreSQL database opened read-only
// (custos log verify, trace, mail outbox on PostgreSQL) reads, and every
// session of its pool refuses a write, whether the statement is run alone
// or in a write transaction (SQLSTATE 25006, read_only_sql_transaction);
// the table is unchanged, and the same database opened by Open still
// takes the write.
func TestOpenReadOnlyPostgres(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.Postgres(t)
	rw := storetest.Open(t, dsn)
	if _, err := rw.Read().Exec(ctx, "CREATE TABLE ro (k TEXT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	if _, err := rw.Read().Exec(ctx, "INSERT INTO ro (k) VALUES ('a')"); err != nil {
		t.Fatal(err)
	}

	ro, err := store.OpenReadOnly(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if !ro.ReadOnly() || rw.ReadOnly() {
		t.Errorf("ReadOnly: %v for OpenReadOnly, %v for Open", ro.ReadOnly(), rw.ReadOnly())
	}
	var n int
	if err := ro.Read().QueryRow(ctx, "SELECT COUNT(*) FROM ro").Scan(&n); err != nil || n != 1 {
		t.Fatalf("read through the read-only DB: %d rows, %v", n, err)
	}
	refused := func(what string, err error) {
		t.Helper()
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "25006" {
			t.Errorf("%s through the read-only DB: %v, want PostgreSQL's refusal 25006 (read-only transaction)", what, err)
		}
	}
	// Every connection of the pool, not only the first: hold several at
	// once so that the pool opens new sessions.
	for i := range 4 {
		tx, err := ro.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		var on string
		if err := tx.QueryRow(ctx, "SHOW default_transaction_read_only").Scan(&on); err != nil || on != "on" {
			t.Errorf("session %d: default_transaction_read_only = %q, %v", i, on, err)
		}
	}
	_, err = ro.Read().Exec(ctx, "INSERT INTO ro (k) VALUES ('b')")
	refused("an INSERT", err)
	_, err = ro.Read().Exec(ctx, "CREATE TABLE ro2 (k TEXT)")
	refused("a CREATE TABLE", err)
	if tx, err := ro.BeginWrite(ctx); err != nil {
		refused("BeginWrite", err)
	} else {
		_, err := tx.Exec(ctx, "DELETE FROM ro")
		if err == nil {
			err = tx.Commit()
		}
		tx.Rollback()
		refused("a DELETE in a write transaction", err)
	}
	if err := rw.Read().QueryRow(ctx, "SELECT COUNT(*) FROM ro").Scan(&n); err != nil || n != 1 {
		t.Errorf("after the refused writes the table holds %d rows (%v), want 1", n, err)
	}
	if _, err := rw.Read().Exec(ctx, "INSERT INTO ro (k) VALUES ('b')"); err != nil {
		t.Errorf("the same database opened by Open: %v", err)
	}
}
