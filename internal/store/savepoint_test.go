package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/custos-project/custos/internal/storetest"
)

// TestSavepointsFollowOneAnother runs commands as the writer does, each in a
// savepoint, some failing after they wrote, with a write between a failure
// and the next command (the writer's alert), and checks that exactly the
// successful commands' writes and the in-between write are committed.
// It runs once as is and once pipelined (the writer's way: statements
// queued and sent together on PostgreSQL).
func TestSavepointsFollowOneAnother(t *testing.T) {
	for _, pipelined := range []bool{false, true} {
		t.Run(fmt.Sprintf("pipelined=%v", pipelined), func(t *testing.T) { testSavepoints(t, pipelined) })
	}
}

func testSavepoints(t *testing.T, pipelined bool) {
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
		if pipelined {
			tx.Pipeline()
		}
		insert := func(x int) {
			t.Helper()
			if _, err := tx.Exec(ctx, "INSERT INTO sp (x) VALUES (?)", x); err != nil {
				t.Fatal(err)
			}
		}
		refused := errors.New("refused")
		command := func(x int, fail bool) {
			t.Helper()
			err := tx.Savepoint(ctx, func() error {
				insert(x)
				if fail {
					return refused
				}
				return nil
			})
			if !errors.Is(err, refused) && err != nil || (err == nil) == fail {
				t.Fatalf("command %d: %v", x, err)
			}
		}
		command(1, false)
		command(2, true)
		insert(3) // the alert of command 2
		command(4, true)
		insert(5) // the alert of command 4
		command(6, false)
		command(7, false)
		command(8, true)
		insert(9) // written after a batch's last command, as the leaves are
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		rows, err := db.Read().Query(ctx, "SELECT x FROM sp ORDER BY x")
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
		if fmt.Sprint(got) != "[1 3 5 6 7 9]" {
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
		rows, err := db.Read().Query(ctx, "SELECT x FROM pw ORDER BY x")
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
		if fmt.Sprint(got) != "[1 12 14]" {
			t.Errorf("committed %v, want [1 12 14]", got)
		}
	})
}
