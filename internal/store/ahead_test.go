package store_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
)

// TestReadAhead: a read sent ahead (SendAhead) runs on another PostgreSQL
// backend and answers the write transaction's QueryRow of the same statement
// with the same arguments, with the state committed before (not the
// transaction's own writes); a read with other arguments, or a second read
// of the same statement, runs in the transaction; a missing row is
// sql.ErrNoRows as in the transaction; and when no connection is free the
// reads are not sent at all. On SQLite nothing is sent.
func TestReadAhead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := storetest.Open(t, dsn)
		if _, err := db.Read().Exec(ctx, "CREATE TABLE ra (k TEXT PRIMARY KEY, v INTEGER NOT NULL)"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Read().Exec(ctx, "INSERT INTO ra (k, v) VALUES ('a', 1)"); err != nil {
			t.Fatal(err)
		}
		pid := "0"
		if db.Dialect == store.Postgres {
			pid = "pg_backend_pid()"
		}
		read := "SELECT v, " + pid + " FROM ra WHERE k = ?"
		tx, err := db.BeginWrite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		tx.Pipeline()
		tx.DeferRelease()
		var self int64
		if err := tx.QueryRow(ctx, "SELECT "+pid).Scan(&self); err != nil {
			t.Fatal(err)
		}
		a, missing := &store.Ahead{SQL: read, Args: []any{"a"}}, &store.Ahead{SQL: read, Args: []any{"zz"}}
		aheads := db.SendAhead(ctx, []*store.Ahead{a, missing})
		if (aheads != nil) != (db.Dialect == store.Postgres) {
			t.Fatalf("SendAhead on %s sent %v", db.Dialect, aheads != nil)
		}
		// The transaction changes the row: a read answered ahead does not
		// see it, a read in the transaction does.
		if _, err := tx.Exec(ctx, "UPDATE ra SET v = 2 WHERE k = 'a'"); err != nil {
			t.Fatal(err)
		}
		get := func(args ...any) (v, from int64, err error) {
			err = tx.QueryRow(ctx, read, args...).Scan(&v, &from)
			return v, from, err
		}
		tx.Answer(a)
		v, from, err := get("a")
		if db.Dialect == store.Postgres && (err != nil || v != 1 || from == self) {
			t.Errorf("answered ahead: v %d from backend %d (the writer's %d), %v; want 1 from another", v, from, self, err)
		}
		if db.Dialect == store.SQLite && (err != nil || v != 2) {
			t.Errorf("SQLite reads in the transaction: v %d, %v; want 2", v, err)
		}
		if v, from, err := get("a"); err != nil || v != 2 || from != self {
			t.Errorf("second read: v %d from %d, %v; want 2 from the transaction's backend", v, from, err)
		}
		tx.Answer(missing)
		if v, _, err := get("b"); !errors.Is(err, sql.ErrNoRows) {
			t.Errorf("read with other arguments: v %d, %v; want no row, read in the transaction", v, err)
		}
		tx.Answer(missing)
		if _, _, err := get("zz"); !errors.Is(err, sql.ErrNoRows) {
			t.Errorf("missing row answered ahead: %v; want sql.ErrNoRows", err)
		}
		aheads.Close()
		if db.Dialect != store.Postgres {
			return
		}
		// Every connection taken (the write transaction holds one).
		var held []*sql.Conn
		for range db.SQL().Stats().MaxOpenConnections - 1 {
			c, err := db.SQL().Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			held = append(held, c)
		}
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		if got := db.SendAhead(ctx, []*store.Ahead{{SQL: read, Args: []any{"a"}}}); got != nil {
			got.Close()
			t.Error("SendAhead with no free connection sent its reads")
		}
	})
}
