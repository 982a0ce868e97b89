package store_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
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
	base := os.Getenv(storetest.EnvPostgres)
	if base == "" {
		t.Skip("PostgreSQL not tested: set " + storetest.EnvPostgres)
	}
	pg := storetest.Open(t, storetest.Postgres(t))
	if ok, collation, err := pg.ByteOrder(ctx); err != nil || !ok {
		t.Errorf("the tests' PostgreSQL database (LOCALE 'C'): %v %q %v", ok, collation, err)
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	b := make([]byte, 6)
	rand.Read(b)
	name := "custos_icu_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name+" TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en' LOCALE 'C'"); err != nil {
		t.Skipf("no database with an ICU collation could be made here (CREATEDB, ICU): %v", err)
	}
	t.Cleanup(func() { admin.ExecContext(context.Background(), "DROP DATABASE "+name) })
	u, _ := url.Parse(base)
	u.Path = "/" + name
	icu, err := store.Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer icu.Close()
	if ok, collation, err := icu.ByteOrder(ctx); err != nil || ok || collation != "ICU en" {
		t.Errorf("a database sorting by ICU's English: %v %q %v", ok, collation, err)
	}
}
