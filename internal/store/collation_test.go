package store_test

import (
	"context"
	"testing"

	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
)

// TestByteOrder: SQLite sorts by bytes; so does a PostgreSQL database made
// as docs/operations.md says (LOCALE 'C', the tests' own); one that sorts by
// a language's rules (ICU's here) is told apart and named.
func TestByteOrder(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, storetest.SQLite(t))
	if ok, _, err := db.ByteOrder(ctx); err != nil || !ok {
		t.Errorf("SQLite: %v %v", ok, err)
	}
	pg := storetest.Open(t, storetest.Postgres(t))
	if ok, collation, err := pg.ByteOrder(ctx); err != nil || !ok {
		t.Errorf("the tests' PostgreSQL database (LOCALE 'C'): %v %q %v", ok, collation, err)
	}
	_, dsn := storetest.NewDatabase(t, "custos_icu_", "TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en' LOCALE 'C'")
	icu, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer icu.Close()
	if ok, collation, err := icu.ByteOrder(ctx); err != nil || ok || collation != "ICU en" {
		t.Errorf("a database sorting by ICU's English: %v %q %v", ok, collation, err)
	}
}
