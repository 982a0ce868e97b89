package dataset

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"

	_ "github.com/jackc/pgx/v5/stdlib" // the admin connection that makes and drops the schema
)

// PostgresSchema makes a fresh schema bench_<random> on the PostgreSQL of
// pgURL and returns the URL whose search_path is that schema, a key file
// path in a temporary folder, and a cleanup that drops the schema and the
// folder: a harness measures on a registry of its own and leaves nothing.
func PostgresSchema(ctx context.Context, pgURL string) (dsn, keyFile string, cleanup func(), err error) {
	admin, err := sql.Open("pgx", pgURL)
	if err != nil {
		return "", "", nil, err
	}
	b := make([]byte, 4)
	rand.Read(b)
	schema := "bench_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		return "", "", nil, err
	}
	dir, err := os.MkdirTemp("", "custos-bench")
	cleanup = func() {
		admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
		if dir != "" {
			os.RemoveAll(dir)
		}
	}
	if err != nil {
		cleanup()
		return "", "", nil, err
	}
	u, err := url.Parse(pgURL)
	if err != nil {
		cleanup()
		return "", "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), filepath.Join(dir, "bench.key"), cleanup, nil
}
