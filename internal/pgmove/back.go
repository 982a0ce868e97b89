package pgmove

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/store"
)

// Back copies the PostgreSQL registry opt.From into a new SQLite file
// opt.To, the way back from Move: for a deployment that returns to one
// machine, or an auditor or an archive that wants the registry as one file.
// Every table is copied row for row from one snapshot of the schema
// (REPEATABLE READ), inside one SQLite transaction, into a file beside
// opt.To that takes its name only once the copy is committed and its
// foreign keys hold (checked once, after the schema's indexes are built
// again); the key file (default opt.To + ".key") is written
// just before. It refuses a target file or key file that exists (custos
// never overwrites either), a source that is not a registry of this
// custos's schema, and a key file that is not the source's.
func Back(ctx context.Context, opt Options) (rep *Report, err error) {
	t0 := time.Now()
	progress := opt.Progress
	if progress == nil {
		progress = func(string) {}
	}
	if !isPostgres(opt.From) {
		return nil, refuse("--db", "give the PostgreSQL registry to copy back, postgres://USER@HOST/DATABASE?search_path=SCHEMA")
	}
	path := strings.TrimPrefix(opt.To, "sqlite:")
	if path == "" || isPostgres(opt.To) {
		return nil, refuse("--to", "give the SQLite file to make (a path that does not exist)")
	}
	if _, err := os.Lstat(path); err == nil {
		return nil, refuse("--to", "%s already exists; custos move never overwrites a registry: give a new path", path)
	}
	if st, err := os.Stat(filepath.Dir(path)); err != nil || !st.IsDir() {
		return nil, refuse("--to", "the folder of %s does not exist: create it first", path)
	}
	if opt.KeyFile == "" {
		opt.KeyFile = path + ".key"
	}
	if opt.FromKeyFile == "" {
		return nil, refuse("--source-key-file", "give the PostgreSQL registry's key file (its servers' --key-file)")
	}
	keys, err := server.LoadKeys(opt.FromKeyFile)
	if err != nil {
		return nil, refuse("--source-key-file", "%v", err)
	}
	if err := keyFileFree(opt.KeyFile, opt.FromKeyFile, keys); err != nil {
		return nil, err
	}

	src, err := openSource(ctx, opt.From, store.Redact(opt.From), "holds no registry (no schema): check --db and its search_path", keys, opt.FromKeyFile)
	if err != nil {
		return nil, err
	}
	defer src.close()
	snap, logKey, size := src.snap, src.logKey, src.size
	progress(fmt.Sprintf("copying %s (log of %d leaves) to %s", store.Redact(opt.From), size, path))

	// The copy is made under a name of its own and takes path's only
	// once whole: a copy stopped half way is never mistaken for the
	// registry.
	tmp := path + ".partial"
	removeTmp := func() error {
		for _, f := range []string{tmp, tmp + "-wal", tmp + "-shm", tmp + "-journal"} {
			if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
		return nil
	}
	if err := removeTmp(); err != nil {
		return nil, err
	}
	done := false
	defer func() {
		if !done {
			removeTmp()
		}
	}()
	dst, err := store.Open(ctx, tmp)
	if err != nil {
		return nil, err
	}
	defer dst.Close() // closed below once the copy is committed; a second Close does nothing
	if _, err := server.Migrate(ctx, server.Config{}, dst); err != nil {
		return nil, fmt.Errorf("migrate %s: %w", tmp, err)
	}
	tables, err := sqliteTables(ctx, dst)
	if err != nil {
		return nil, err
	}
	if err := sameTablesPG(ctx, snap, tables); err != nil {
		return nil, err
	}
	if err := dst.NoSync(ctx); err != nil { // the file is synced once, before its rename
		return nil, err
	}
	if err := dst.ForeignKeysLater(ctx); err != nil { // checked at the end, below
		return nil, err
	}

	rep = &Report{LogKey: logKey}
	tx, err := dst.BeginWrite(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	for _, t := range tables {
		// The migrations seed a few rows (work queued for the
		// projectors); the source holds its own.
		if _, err := tx.Exec(ctx, "DELETE FROM "+quoteIdent(t.name)); err != nil {
			return nil, err
		}
	}
	// The indexes the migrations made are built again once the rows are
	// in: one sort each instead of a random insert a row (the keys and
	// unique constraints of the tables themselves stay).
	indexes, err := dropIndexes(ctx, tx)
	if err != nil {
		return nil, err
	}
	for _, t := range tables {
		t1 := time.Now()
		n, err := copyBack(ctx, snap, tx, t)
		if err != nil {
			return nil, fmt.Errorf("copy %s: %w", t.name, err)
		}
		rep.copied(t.name, n, time.Since(t1), progress)
	}
	t1 := time.Now()
	for _, sql := range indexes {
		if _, err := tx.Exec(ctx, sql); err != nil {
			return nil, fmt.Errorf("build the index again (%s): %w", sql, err)
		}
	}
	progress(fmt.Sprintf("  %d indexes built in %s", len(indexes), time.Since(t1).Round(time.Millisecond)))
	// Every foreign key is checked once every table is in.
	if err := foreignKeysHold(ctx, tx); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit the copy: %w", err)
	}
	if err := dst.Checkpoint(ctx); err != nil {
		return nil, err
	}
	// No ANALYZE: custos never leaves SQLite planner statistics behind
	// (store.PlannerSamples).
	if err := dst.Close(); err != nil {
		return nil, err
	}
	if err := syncFile(tmp); err != nil {
		return nil, err
	}
	rep.sinceSnapshot(ctx, snap, src.db.Read(), tables, size, "PostgreSQL", progress)
	// The key file first: a registry never stands without its key.
	if err := keys.Save(opt.KeyFile); err != nil {
		return nil, refuse("--key-file", "%v", err)
	}
	if _, err := os.Lstat(path); err == nil {
		os.Remove(opt.KeyFile)
		return nil, refuse("--to", "%s appeared during the copy; custos move never overwrites a registry", path)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(opt.KeyFile)
		return nil, err
	}
	done = true
	if err := syncFile(filepath.Dir(path)); err != nil {
		progress(fmt.Sprintf("  could not sync the folder of %s (%v)", path, err))
	}
	rep.Elapsed = time.Since(t0)
	return rep, nil
}

// foreignKeysHold refuses a copy in which a row names a parent row that is
// not there (PRAGMA foreign_key_check), naming the first few.
func foreignKeysHold(ctx context.Context, tx *store.Tx) error {
	rows, err := tx.Query(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return err
	}
	defer rows.Close()
	var bad []string
	n := 0
	for rows.Next() {
		var table, parent string
		var rowid, fk sql.NullInt64
		if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
			return err
		}
		if n++; len(bad) < 5 {
			bad = append(bad, fmt.Sprintf("%s row %d names a %s row that is not there", table, rowid.Int64, parent))
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("the copy's foreign keys do not hold (%d rows): %s", n, strings.Join(bad, "; "))
	}
	return nil
}

// dropIndexes drops the indexes the schema's statements made (not those
// of the tables' keys and UNIQUE constraints, which SQLite makes itself
// and names sqlite_autoindex_…) and returns their statements, in order.
func dropIndexes(ctx context.Context, tx *store.Tx) ([]string, error) {
	rows, err := tx.Query(ctx, "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL ORDER BY rowid")
	if err != nil {
		return nil, err
	}
	var names, sqls []string
	for rows.Next() {
		var n, s string
		if err := rows.Scan(&n, &s); err != nil {
			rows.Close()
			return nil, err
		}
		names, sqls = append(names, n), append(sqls, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, n := range names {
		if _, err := tx.Exec(ctx, "DROP INDEX "+quoteIdent(n)); err != nil {
			return nil, err
		}
	}
	return sqls, nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// sqliteTables lists the SQLite file's tables and their columns (no types:
// the copy takes the values as the driver hands them), but schema_versions,
// which the migration wrote.
func sqliteTables(ctx context.Context, db *store.DB) ([]pgTable, error) {
	rows, err := db.Read().Query(ctx, `SELECT m.name, p.name FROM sqlite_schema m JOIN pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> 'schema_versions'
		ORDER BY m.name, p.cid`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ts []pgTable
	for rows.Next() {
		var t, c string
		if err := rows.Scan(&t, &c); err != nil {
			return nil, err
		}
		if len(ts) == 0 || ts[len(ts)-1].name != t {
			ts = append(ts, pgTable{name: t})
		}
		ts[len(ts)-1].cols = append(ts[len(ts)-1].cols, c)
	}
	return ts, rows.Err()
}

// sameTablesPG refuses a source whose tables are not the SQLite schema's,
// table for table and column for column: a table or column the copy has
// not would be lost, one the source lacks means another custos's schema.
func sameTablesPG(ctx context.Context, snap *store.Tx, tables []pgTable) error {
	want := map[string]bool{}
	for _, t := range tables {
		for _, c := range t.cols {
			want[t.name+"."+c] = true
		}
	}
	rows, err := snap.Query(ctx, `SELECT c.table_name, c.column_name
		FROM information_schema.columns c JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' AND c.table_name <> 'schema_versions'`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var extra []string
	for rows.Next() {
		var t, c string
		if err := rows.Scan(&t, &c); err != nil {
			return err
		}
		if !want[t+"."+c] {
			extra = append(extra, t+"."+c)
		}
		delete(want, t+"."+c)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(extra) > 0 {
		return fmt.Errorf("the PostgreSQL registry holds columns the SQLite schema has not: %s", strings.Join(extra, ", "))
	}
	if len(want) > 0 {
		var missing []string
		for k := range want {
			missing = append(missing, k)
		}
		return fmt.Errorf("the PostgreSQL registry lacks columns of this custos's schema: %s", strings.Join(missing, ", "))
	}
	return nil
}

// copyBack copies t's rows from the PostgreSQL snapshot into SQLite in the
// copy's one transaction, up to backRows rows a prepared multi-row INSERT
// (one statement a row spent most of the copy in the driver and SQLite's
// per-statement work; BENCHMARKS.md). The driver hands back text, bigint,
// double precision and bytea as SQLite stores them.
func copyBack(ctx context.Context, snap *store.Tx, tx *store.Tx, t pgTable) (int64, error) {
	quoted := make([]string, len(t.cols))
	marks := make([]string, len(t.cols))
	for i, c := range t.cols {
		quoted[i], marks[i] = quoteIdent(c), "?"
	}
	cols := strings.Join(quoted, ", ")
	rows, err := snap.Query(ctx, "SELECT "+cols+" FROM "+quoteIdent(t.name))
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	per := min(backRows, sqliteMaxVariables/len(t.cols))
	tuple := "(" + strings.Join(marks, ", ") + ")"
	insert := func(k int) string {
		return "INSERT INTO " + quoteIdent(t.name) + " (" + cols + ") VALUES " + strings.TrimSuffix(strings.Repeat(tuple+", ", k), ", ")
	}
	full := insert(per)
	vals := make([]any, len(t.cols))
	ptrs := make([]any, len(t.cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	args := make([]any, 0, per*len(t.cols))
	var n int64
	flush := func() error {
		k := len(args) / len(t.cols)
		if k == 0 {
			return nil
		}
		s := full
		if k < per {
			s = insert(k)
		}
		if _, err := tx.Exec(ctx, s, args...); err != nil {
			return err
		}
		n += int64(k)
		args = args[:0]
		return nil
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		for i, v := range vals {
			switch v := v.(type) {
			case nil, string, int64, float64:
				args = append(args, v)
			case []byte:
				// Kept until the statement runs, past the next row's scan.
				args = append(args, bytes.Clone(v))
			default:
				return n, fmt.Errorf("column %s: a %T, which no custos column holds", t.cols[i], v)
			}
		}
		if len(args) == per*len(t.cols) {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	return n, flush()
}

// backRows is the most rows one INSERT of the way back carries, and
// sqliteMaxVariables the most parameters SQLite takes in one statement
// (SQLITE_MAX_VARIABLE_NUMBER's default since 3.32).
const (
	backRows           = 128
	sqliteMaxVariables = 32766
)
