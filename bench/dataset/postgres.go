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
	return PostgresKept(ctx, pgURL, "", false)
}

// PostgresKept is PostgresSchema for a registry generated once and measured
// by later runs: with reuse, the existing schema of that name (and its key
// file, /tmp/SCHEMA.key) is measured and cleanup leaves both; with keep, the
// fresh schema and its key file outlive cleanup. The schema's name is in the
// returned URL's search_path.
func PostgresKept(ctx context.Context, pgURL, reuse string, keep bool) (dsn, keyFile string, cleanup func(), err error) {
	admin, err := sql.Open("pgx", pgURL)
	if err != nil {
		return "", "", nil, err
	}
	schema := reuse
	if schema == "" {
		b := make([]byte, 4)
		rand.Read(b)
		schema = "bench_" + hex.EncodeToString(b)
		if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
			admin.Close()
			return "", "", nil, err
		}
	}
	dir := ""
	if reuse != "" || keep {
		keyFile = filepath.Join(os.TempDir(), schema+".key")
	} else if dir, err = os.MkdirTemp("", "custos-bench"); err == nil {
		keyFile = filepath.Join(dir, "bench.key")
	}
	cleanup = func() {
		if reuse == "" && !keep {
			admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		}
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
	return u.String(), keyFile, cleanup, nil
}
