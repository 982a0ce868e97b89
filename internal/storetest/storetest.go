// Package storetest gives tests real databases: a fresh SQLite file in a
// temporary folder, and, when CUSTOS_TEST_POSTGRES holds a connection URL, a
// fresh PostgreSQL schema that is dropped when the test ends. Each test that
// touches storage runs once per backend through Each.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/custos-project/custos/internal/store"
)

// Open opens dsn with the schemas given migrated (the core's alone when none
// is given), and closes it when t ends.
func Open(t testing.TB, dsn string, schemas ...store.Schema) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if len(schemas) == 0 {
		schemas = []store.Schema{store.CoreSchema()}
	}
	if _, err := db.Migrate(ctx, schemas); err != nil {
		t.Fatal(err)
	}
	return db
}

// EnvPostgres names the variable holding the PostgreSQL URL for tests.
const EnvPostgres = "CUSTOS_TEST_POSTGRES"

// Backend is one database engine to test against.
type Backend struct {
	Name string
	// DSN returns the data source of a new, empty database for t.
	DSN func(t testing.TB) string
}

// Backends lists SQLite and, when configured, PostgreSQL.
func Backends() []Backend {
	bs := []Backend{{Name: "sqlite", DSN: SQLite}}
	if os.Getenv(EnvPostgres) != "" {
		bs = append(bs, Backend{Name: "postgres", DSN: Postgres})
	}
	return bs
}

// Each runs fn as a subtest once per backend. Without CUSTOS_TEST_POSTGRES it
// also runs a skipped "postgres" subtest that says how to enable it.
func Each(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	for _, b := range Backends() {
		t.Run(b.Name, func(t *testing.T) { fn(t, b.DSN(t)) })
	}
	if os.Getenv(EnvPostgres) == "" {
		t.Run("postgres", func(t *testing.T) {
			t.Skip("PostgreSQL not tested: set " + EnvPostgres + "=postgres://user:pass@host/db (.ci/run does)")
		})
	}
}

// SQLite returns the path of a new SQLite database in t's temporary folder.
func SQLite(t testing.TB) string {
	return filepath.Join(t.TempDir(), "custos.db")
}

// Second returns a new, empty database of the engine dsn is on (SQLite or
// PostgreSQL), for a second registry beside the one on dsn: two registries
// that exchange messages are tested on one engine at a time.
func Second(t testing.TB, dsn string) string {
	t.Helper()
	if strings.HasPrefix(dsn, "postgres") {
		return Postgres(t)
	}
	return SQLite(t)
}

// Postgres creates a schema of its own for t and returns a URL whose
// search_path selects it. The schema is dropped when t ends.
func Postgres(t testing.TB) string {
	base := os.Getenv(EnvPostgres)
	if base == "" {
		t.Skip("PostgreSQL not tested: set " + EnvPostgres)
	}
	dsn, drop, err := NewSchema(base, "t_")
	if err != nil {
		t.Fatalf("create test schema: %v", err)
	}
	t.Cleanup(drop)
	return dsn
}

// NewSchema creates a schema named prefix and random hex digits on the
// PostgreSQL server of base and returns the URL whose search_path selects
// it, and the function that drops it.
func NewSchema(base, prefix string) (dsn string, drop func(), err error) {
	b := make([]byte, 6)
	rand.Read(b)
	schema := prefix + hex.EncodeToString(b)
	u, err := url.Parse(base)
	if err != nil {
		return "", nil, err
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, err
	}
	if _, err := admin.ExecContext(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), func() {
		admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
	}, nil
}

// NewDatabase creates a database named prefix and random hex digits, with
// the CREATE DATABASE options given, on the PostgreSQL server of
// EnvPostgres, and returns its name and the URL of it (no search_path);
// it is dropped when t ends. t is skipped without EnvPostgres, or when the
// database cannot be made there (the role lacks CREATEDB, the server an
// option's feature), saying why.
func NewDatabase(t testing.TB, prefix, options string) (name, dsn string) {
	t.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		t.Skip("PostgreSQL not tested: set " + EnvPostgres)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name = prefix + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ExecContext(context.Background(), "CREATE DATABASE "+name+" "+options); err != nil {
		admin.Close()
		t.Skipf("cannot create a database %s here (the test role needs CREATEDB): %v", options, err)
	}
	t.Cleanup(func() {
		admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	q := u.Query()
	q.Del("search_path")
	u.RawQuery = q.Encode()
	return name, u.String()
}

// KeyFile returns a key file path for a DSN in t's temporary folder (PostgreSQL
// needs one; SQLite defaults to the file beside the database).
func KeyFile(t testing.TB) string {
	return filepath.Join(t.TempDir(), "custos.key")
}
