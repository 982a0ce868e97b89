package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
)

// TestSavepointsFollowOneAnother runs commands as the writer does, each in a
// savepoint, some failing after they wrote, with a write between a failure
// and the next command (the writer's alert), and checks that exactly the
// successful commands' writes and the in-between write are committed.
// It runs once as is, once pipelined (statements queued and sent together on
// PostgreSQL), once pipelined with deferred releases (the writer's way: a
// command's writes go with the next command's read), and once with the
// writes before each command sent without waiting (Tx.Send, the writer's way
// before a command whose read was answered ahead). Each command reads the
// count of rows first, which must see every write before it.
func TestSavepointsFollowOneAnother(t *testing.T) {
	for _, mode := range []string{"plain", "pipelined", "deferred", "sent"} {
		t.Run(mode, func(t *testing.T) { testSavepoints(t, mode) })
	}
}

func testSavepoints(t *testing.T, mode string) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := storetest.Open(t, dsn)
		tx, err := db.BeginWrite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.Exec(ctx, "CREATE TABLE sp (x INTEGER NOT NULL)"); err != nil {
			t.Fatal(err)
		}
		if mode != "plain" {
			tx.Pipeline()
		}
		if mode == "deferred" || mode == "sent" {
			tx.DeferRelease()
		}
		rows := 0
		insert := func(x int) {
			t.Helper()
			if _, err := tx.Exec(ctx, "INSERT INTO sp (x) VALUES (?)", x); err != nil {
				t.Fatal(err)
			}
		}
		refused := errors.New("refused")
		command := func(x int, fail bool) {
			t.Helper()
			if mode == "sent" {
				tx.Send(ctx)
			}
			err := tx.Savepoint(ctx, func() error {
				var n int
				if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM sp").Scan(&n); err != nil || n != rows {
					t.Fatalf("command %d reads %d rows, %v; want %d", x, n, err, rows)
				}
				insert(x)
				if fail {
					return refused
				}
				return nil
			})
			if !errors.Is(err, refused) && err != nil || (err == nil) == fail {
				t.Fatalf("command %d: %v", x, err)
			}
			if !fail {
				rows++
			}
		}
		command(1, false)
		command(2, true)
		insert(3) // the alert of command 2
		rows++
		command(4, true)
		insert(5) // the alert of command 4
		rows++
		command(6, false)
		command(7, false)
		command(8, true)
		insert(9) // written after a batch's last command, as the leaves are
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if tx.Deferred() != nil {
			t.Fatalf("deferred failure with no failing write: %v", tx.Deferred())
		}
		if got := committed(t, db, "sp"); got != "[1 3 5 6 7 9]" {
			t.Errorf("committed %v, want [1 3 5 6 7 9]", got)
		}
	})
}

// TestPipelinedWriteFails checks that in a pipelined transaction a write
// that fails when the queue is sent fails the savepoint it was made in, and
// only that one: the commands before and after it, and a read of a count in
// between, are as if each statement had run alone.
func TestPipelinedWriteFails(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := storetest.Open(t, dsn)
		setup, err := db.BeginWrite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := setup.Exec(ctx, "CREATE TABLE pw (x INTEGER NOT NULL UNIQUE)"); err != nil {
			t.Fatal(err)
		}
		if err := setup.Commit(); err != nil {
			t.Fatal(err)
		}
		tx, err := db.BeginWrite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		tx.Pipeline()
		command := func(xs ...int) error {
			return tx.Savepoint(ctx, func() error {
				for _, x := range xs {
					if _, err := tx.Exec(ctx, "INSERT INTO pw (x) VALUES (?)", x); err != nil {
						return err
					}
				}
				return nil
			})
		}
		if err := command(1, 2); err != nil {
			t.Fatal(err)
		}
		if err := command(3, 1); err == nil { // 1 is taken: the whole command fails
			t.Fatal("a duplicate was accepted")
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM pw").Scan(&n); err != nil || n != 2 {
			t.Fatalf("after the failed command: %d rows, %v; want 2", n, err)
		}
		if err := command(4); err != nil {
			t.Fatal(err)
		}
		res, err := tx.Exec(ctx, "UPDATE pw SET x = x + 10 WHERE x > 1")
		if err != nil {
			t.Fatal(err)
		}
		if k, err := res.RowsAffected(); err != nil || k != 2 {
			t.Fatalf("RowsAffected %d, %v; want 2", k, err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if got := committed(t, db, "pw"); got != "[1 12 14]" {
			t.Errorf("committed %v, want [1 12 14]", got)
		}
	})
}

// TestDeferredWriteFails checks a pipelined transaction with deferred
// releases: a command whose write fails is reported a success (its writes
// are not sent yet), and the failure surfaces at the next command's read,
// which fails, with Deferred set, so that the caller reruns the transaction
// carefully. A failing read is the read's own error, not a deferred one.
func TestDeferredWriteFails(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := storetest.Open(t, dsn)
		if db.Dialect != store.Postgres {
			t.Skip("SQLite sends every statement at once: nothing is deferred")
		}
		setup, err := db.BeginWrite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := setup.Exec(ctx, "CREATE TABLE dw (x INTEGER NOT NULL UNIQUE)"); err != nil {
			t.Fatal(err)
		}
		if err := setup.Commit(); err != nil {
			t.Fatal(err)
		}
		begin := func() *store.Tx {
			tx, err := db.BeginWrite(ctx)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { tx.Rollback() })
			tx.Pipeline()
			tx.DeferRelease()
			return tx
		}
		command := func(tx *store.Tx, read bool, xs ...int) error {
			return tx.Savepoint(ctx, func() error {
				if read {
					var n int
					if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM dw").Scan(&n); err != nil {
						return err
					}
				}
				for _, x := range xs {
					if _, err := tx.Exec(ctx, "INSERT INTO dw (x) VALUES (?)", x); err != nil {
						return err
					}
				}
				return nil
			})
		}

		// A read that fails on its own as it runs: its savepoint fails,
		// nothing is deferred, and the transaction goes on. (A read that
		// fails to prepare aborts the transaction before the queue is sent,
		// and is reported as deferred: the rerun sorts it out.)
		tx := begin()
		if err := command(tx, true, 1); err != nil {
			t.Fatal(err)
		}
		err = tx.Savepoint(ctx, func() error {
			var n int
			return tx.QueryRow(ctx, "SELECT 1 / (COUNT(*) - COUNT(*)) FROM dw").Scan(&n)
		})
		if err == nil || tx.Deferred() != nil {
			t.Fatalf("failing read: %v, deferred %v", err, tx.Deferred())
		}
		if err := command(tx, true, 2); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil || tx.Deferred() != nil {
			t.Fatalf("commit: %v, deferred %v", err, tx.Deferred())
		}
		if got := committed(t, db, "dw"); got != "[1 2]" {
			t.Fatalf("committed %v, want [1 2]", got)
		}

		// A duplicate: reported a success, caught at the next read.
		tx = begin()
		if err := command(tx, true, 3, 1); err != nil {
			t.Fatalf("the duplicate's command failed before it was sent: %v", err)
		}
		if err := command(tx, true, 4); err == nil || tx.Deferred() == nil {
			t.Fatalf("next command: %v, deferred %v; want both set", err, tx.Deferred())
		}
		tx.Rollback()

		// Caught at the commit, when no read follows.
		tx = begin()
		if err := command(tx, false, 1); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err == nil || tx.Deferred() == nil {
			t.Fatalf("commit: %v, deferred %v; want both set", err, tx.Deferred())
		}
		if got := committed(t, db, "dw"); got != "[1 2]" {
			t.Fatalf("committed %v, want [1 2]", got)
		}
	})
}

// committed returns the x column of table, in order, as fmt prints it.
func committed(t *testing.T, db *store.DB, table string) string {
	t.Helper()
	rows, err := db.Read().Query(context.Background(), "SELECT x FROM "+table+" ORDER BY x")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []int
	for rows.Next() {
		var x int
		if err := rows.Scan(&x); err != nil {
			t.Fatal(err)
		}
		got = append(got, x)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(got)
}
