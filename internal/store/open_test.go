package store_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
)

// TestOpenPostgresNoSchema refuses a URL whose search_path names no schema
// that exists, naming the fix, not PostgreSQL's error at the first
// statement.
func TestOpenPostgresNoSchema(t *testing.T) {
	dsn := storetest.Postgres(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", q.Get("search_path")+"_absent")
	u.RawQuery = q.Encode()
	db, err := store.Open(context.Background(), u.String())
	if err == nil {
		db.Close()
		t.Fatal("a search_path naming no schema was opened")
	}
	if !strings.Contains(err.Error(), "no schema its search_path names exists: create it first") {
		t.Fatalf("error: %v", err)
	}
}

// TestCloseTwice closes a DB a second time, as a deferred Close after an
// explicit one does: the first answer again, no panic (the SQLite
// checkpointer's channel was closed twice), on both engines.
func TestCloseTwice(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		db, err := store.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatalf("first Close: %v", err)
		}
		if err := db.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
	})
}
