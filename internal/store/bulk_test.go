package store_test

import (
	"context"
	"testing"

	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
)

// TestBulkCommitsInGroups loads rows with write transactions grouped two by
// two (DB.Bulk), one of them rolled back, and checks what another connection
// of the file sees after each: nothing of a group until it is full, then
// every write of it but the rolled-back one's; db.Read() sees each write as
// soon as its transaction commits; end commits the last, half-full group.
func TestBulkCommitsInGroups(t *testing.T) {
	ctx := context.Background()
	path := storetest.SQLite(t)
	db := storetest.Open(t, path)
	other := storetest.Open(t, path)
	create, err := db.BeginWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := create.Exec(ctx, "CREATE TABLE bulk (x INTEGER NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	if err := create.Commit(); err != nil {
		t.Fatal(err)
	}
	count := func(q store.Queryer) int {
		t.Helper()
		var n int
		if err := q.QueryRow(ctx, "SELECT COUNT(*) FROM bulk").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	write := func(x int, commit bool) {
		t.Helper()
		tx, err := db.BeginWrite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if err := tx.Savepoint(ctx, func() error {
			_, err := tx.Exec(ctx, "INSERT INTO bulk (x) VALUES (?)", x)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if commit {
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}
	}
	end := db.Bulk(2)
	for i, step := range []struct {
		commit          bool
		self, elsewhere int
	}{
		{true, 1, 0},  // the group holds one
		{false, 1, 0}, // rolled back: nothing of it stays
		{true, 2, 2},  // the group is full and commits
		{true, 3, 2},
	} {
		write(i, step.commit)
		if n := count(db.Read()); n != step.self {
			t.Errorf("after write %d db.Read() sees %d rows, want %d", i, n, step.self)
		}
		if n := count(other.Read()); n != step.elsewhere {
			t.Errorf("after write %d another connection sees %d rows, want %d", i, n, step.elsewhere)
		}
	}
	if err := end(); err != nil {
		t.Fatal(err)
	}
	if n := count(other.Read()); n != 3 {
		t.Errorf("after the bulk load's end another connection sees %d rows, want 3", n)
	}
	write(9, true) // one commit a transaction again
	if n := count(other.Read()); n != 4 {
		t.Errorf("after a write outside the bulk load another connection sees %d rows, want 4", n)
	}
}
