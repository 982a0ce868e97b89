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
func TestSavepointsFollowOneAnother(t *testing.T) {
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
