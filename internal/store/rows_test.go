package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
)

// TestRows reads a list with Rows: every row in order, an empty list (not
// nil) when nothing matches, a scan error stopping the read, and the same
// scan function reading one row.
func TestRows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := storetest.Open(t, dsn)
		q, err := db.BeginWrite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer q.Rollback()
		for _, name := range []string{"rows.b", "rows.a", "rows.c"} {
			if _, err := q.Exec(ctx, "INSERT INTO settings (name, value) VALUES (?, ?)", name, "v-"+name); err != nil {
				t.Fatal(err)
			}
		}
		type setting struct{ name, value string }
		scan := func(r store.Scanner, s *setting) error { return r.Scan(&s.name, &s.value) }
		list := func(prefix string, scan func(store.Scanner, *setting) error) ([]setting, error) {
			rows, err := q.Query(ctx, "SELECT name, value FROM settings WHERE name LIKE ? ORDER BY name", prefix+"%")
			if err != nil {
				t.Fatal(err)
			}
			return store.Rows(rows, scan)
		}
		got, err := list("rows.", scan)
		if err != nil || len(got) != 3 || got[0] != (setting{"rows.a", "v-rows.a"}) || got[2].name != "rows.c" {
			t.Fatalf("Rows = %v, %v; want rows.a, rows.b, rows.c with their values", got, err)
		}
		got, err = list("none.", scan)
		if err != nil || got == nil || len(got) != 0 {
			t.Fatalf("no rows: Rows = %#v, %v; want an empty, non-nil list", got, err)
		}
		boom := errors.New("boom")
		n := 0
		got, err = list("rows.", func(r store.Scanner, s *setting) error {
			if n++; n == 2 {
				return boom
			}
			return scan(r, s)
		})
		if !errors.Is(err, boom) || got != nil || n != 2 {
			t.Fatalf("failing scan: Rows = %v, %v after %d rows; want nil and the error after 2", got, err, n)
		}
		var one setting
		if err := scan(q.QueryRow(ctx, "SELECT name, value FROM settings WHERE name = ?", "rows.b"), &one); err != nil || one.value != "v-rows.b" {
			t.Fatalf("one row: %v, %v", one, err)
		}
	})
}
