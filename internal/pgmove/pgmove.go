// Package pgmove moves a SQLite registry to PostgreSQL: the step of
// docs/operations.md's "How a national deployment grows" from one file to a
// database server. Every table is copied row for row from one snapshot of
// the SQLite file (the log, its leaves, the sealed personal data and every
// projected table), with one COPY a table, inside one PostgreSQL
// transaction; the key file goes with it. custos move runs it and then
// verifies the copy; bench/dataset fills its PostgreSQL registries with it.
package pgmove

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/store"
)

// Options say what to move where.
type Options struct {
	// From is the SQLite registry (a path or sqlite:PATH); FromKeyFile its
	// key file (default: From + ".key").
	From, FromKeyFile string
	// To is the PostgreSQL URL; its search_path (or the user's default
	// schema) names the schema, which must be empty or hold a freshly
	// migrated schema without a registry.
	To string
	// KeyFile is where the PostgreSQL registry's key file is written (mode
	// 0600); it must not exist.
	KeyFile string
	// Progress, when set, is told of the large tables copied and of the
	// indexes built.
	Progress func(string)
}

// Report is what a move copied.
type Report struct {
	Tables int   // tables copied
	Rows   int64 // rows copied, all tables
	Leaves int64 // log leaves among them
	// LogKey is the log's verifier key the source records (and the key
	// file holds): the copy's log verifies under it.
	LogKey   string
	Sequence []string // sequences set past the copied rows (none today)
	// Behind is how many leaves the source's log gained after the
	// snapshot was read (a server still writing): the copy lacks them.
	Behind int64
	// Changed are the tables outside the log (ones no replay rebuilds:
	// counted alert repeats, the e-mail outbox, sessions, exchange
	// refusals) that a server changed after the snapshot: the copy lacks
	// those changes too, and no leaf tells them.
	Changed []string
	Elapsed time.Duration
}

// Refused is a move refused before anything was written, with the flag
// (of custos move) that names what to change.
type Refused struct {
	Flag, Msg string
}

func (e *Refused) Error() string { return e.Flag + ": " + e.Msg }

func refuse(flag, format string, args ...any) error {
	return &Refused{Flag: flag, Msg: fmt.Sprintf(format, args...)}
}

// keyFileFree refuses a --key-file that exists: custos never overwrites a
// key file. The refusal says what the file is when it can tell: the source
// registry's own key file, or a copy of it, which is what a move stopped
// before its commit leaves behind (the key file is written just before),
// and so safe to remove.
func keyFileFree(path, fromKey string, keys *server.Keys) error {
	st, err := os.Lstat(path)
	if err != nil {
		return nil
	}
	msg := fmt.Sprintf("%s already exists; custos never overwrites a key file: give a new path", path)
	if src, err := os.Stat(fromKey); err == nil && os.SameFile(st, src) {
		msg += " (it is the SQLite registry's own key file)"
	} else if k, err := server.LoadKeys(path); err == nil && k.Equal(keys) {
		msg += ", or remove it: it holds the SQLite registry's keys, a copy such as a move stopped before its commit leaves behind"
	}
	return refuse("--key-file", "%s", msg)
}

// Move copies the SQLite registry opt.From into the PostgreSQL schema of
// opt.To and writes its key file to opt.KeyFile. It refuses (a *Refused)
// a target that holds a registry, an existing key file, a source that is
// not a registry or whose schema is not this custos's. The rows are read in
// one read transaction of the source, so a server may go on writing to it
// (what it writes after the snapshot is not moved), and written in one
// PostgreSQL transaction: a move that fails leaves the target as it was
// (migrated) and no key file.
func Move(ctx context.Context, opt Options) (rep *Report, err error) {
	t0 := time.Now()
	progress := opt.Progress
	if progress == nil {
		progress = func(string) {}
	}
	if !isPostgres(opt.To) {
		return nil, refuse("--to", "give the PostgreSQL registry's URL, postgres://USER@HOST/DATABASE?search_path=SCHEMA, not %q", store.Redact(opt.To))
	}
	path := strings.TrimPrefix(opt.From, "sqlite:")
	if isPostgres(opt.From) || path == "" {
		return nil, refuse("--db", "give the SQLite registry to move (a file path)")
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, refuse("--db", "no registry at %s: check --db", path)
	}
	if opt.KeyFile == "" {
		return nil, refuse("--key-file", "give the file to write the PostgreSQL registry's key file to (it must not exist)")
	}
	fromKey := opt.FromKeyFile
	if fromKey == "" {
		fromKey = path + ".key"
	}
	keys, err := server.LoadKeys(fromKey)
	if err != nil {
		return nil, refuse("--source-key-file", "%v", err)
	}
	if err := keyFileFree(opt.KeyFile, fromKey, keys); err != nil {
		return nil, err
	}

	// Read-only: the move leaves the SQLite registry as it found it. One
	// snapshot: every table as of one commit, whatever a running server
	// writes meanwhile.
	src, err := openSource(ctx, path, path, "is not a registry (no schema): check --db", keys, fromKey)
	if err != nil {
		return nil, err
	}
	defer src.close()
	snap, logKey, size := src.snap, src.logKey, src.size

	pg, err := pgx.Connect(ctx, opt.To)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", store.Redact(opt.To), err)
	}
	defer pg.Close(ctx)
	schema, err := emptyTarget(ctx, pg, opt.To)
	if err != nil {
		return nil, err
	}
	progress(fmt.Sprintf("moving %s (log of %d leaves) to schema %s of %s", path, size, schema, store.Redact(opt.To)))
	dst, err := store.Open(ctx, opt.To)
	if err != nil {
		return nil, err
	}
	_, err = server.Migrate(ctx, server.Config{}, dst)
	dst.Close()
	if err != nil {
		return nil, fmt.Errorf("migrate %s: %w", store.Redact(opt.To), err)
	}

	tables, err := pgTables(ctx, pg)
	if err != nil {
		return nil, err
	}
	if err := sameTables(ctx, snap, tables); err != nil {
		return nil, err
	}
	rebuild, drops, err := constraints(ctx, pg)
	if err != nil {
		return nil, err
	}

	rep = &Report{LogKey: logKey}
	tx, err := pg.Begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback(ctx)
	// Another move into the same schema waits here, then finds the
	// registry this one wrote.
	if _, err := tx.Exec(ctx, "LOCK TABLE log_leaves, settings IN ACCESS EXCLUSIVE MODE"); err != nil {
		return nil, err
	}
	if err := noRegistry(ctx, tx, schema); err != nil {
		return nil, err
	}
	// The migrations seed a few rows (work queued for the projectors);
	// the source holds its own. The schema holds no registry (checked
	// under the lock just above): these rows are all the tables hold.
	names := make([]string, len(tables))
	for i, t := range tables {
		names[i] = pgx.Identifier{t.name}.Sanitize()
	}
	if _, err := tx.Exec(ctx, "TRUNCATE "+strings.Join(names, ", ")); err != nil {
		return nil, err
	}
	// Constraints and indexes are dropped and made again after the rows
	// are in (foreign keys first out, last in): one sort an index rather
	// than an insertion a row.
	for _, d := range drops {
		if _, err := tx.Exec(ctx, d); err != nil {
			return nil, fmt.Errorf("%s: %w", d, err)
		}
	}
	for _, t := range tables {
		t1 := time.Now()
		n, err := copyTable(ctx, snap, tx, t)
		if err != nil {
			return nil, fmt.Errorf("copy %s: %w", t.name, err)
		}
		rep.copied(t.name, n, time.Since(t1), progress)
	}
	t1 := time.Now()
	for _, a := range rebuild {
		if _, err := tx.Exec(ctx, a); err != nil {
			return nil, fmt.Errorf("%s: %w", a, err)
		}
	}
	progress(fmt.Sprintf("  %d keys, indexes and foreign keys made in %v", len(rebuild), time.Since(t1).Round(time.Millisecond)))
	if rep.Sequence, err = setSequences(ctx, tx); err != nil {
		return nil, err
	}
	// The key file is written before the commit: a move whose key file
	// cannot be written leaves no registry without its key behind.
	if err := keys.Save(opt.KeyFile); err != nil {
		return nil, refuse("--key-file", "%v", err)
	}
	if err := tx.Commit(ctx); err != nil {
		os.Remove(opt.KeyFile)
		return nil, err
	}
	// Committed: what fails from here is told, not returned, as the
	// registry and its key file are in place.
	rep.sinceSnapshot(ctx, snap, src.db.Read(), tables, size, "SQLite", progress)
	t1 = time.Now()
	// The moved tables only: VACUUM without tables would go through every
	// schema of the database.
	if _, err := pg.Exec(ctx, "VACUUM (ANALYZE) "+strings.Join(names, ", ")); err != nil {
		progress(fmt.Sprintf("  VACUUM (ANALYZE) failed (%v): autovacuum will analyze the tables; or run it", err))
	} else {
		progress(fmt.Sprintf("  VACUUM (ANALYZE) in %v", time.Since(t1).Round(time.Millisecond)))
	}
	rep.Elapsed = time.Since(t0)
	return rep, nil
}

// source is a registry opened read-only in one snapshot, as Move and Back
// read theirs.
type source struct {
	db     *store.DB
	snap   *store.Tx
	logKey string // the log key the registry records
	size   int64  // its log's size in the snapshot
}

// openSource opens the registry dsn read-only, checks it holds a registry
// of this custos's schema, takes one snapshot and checks that keys (read
// from keyFile) sign as the log key it records. Refusals name the registry
// as name; noSchema says what a database without a schema is.
func openSource(ctx context.Context, dsn, name, noSchema string, keys *server.Keys, keyFile string) (_ *source, err error) {
	db, err := store.OpenReadOnly(ctx, dsn)
	if err != nil {
		return nil, err
	}
	src := &source{db: db}
	defer func() {
		if err != nil {
			src.close()
		}
	}()
	if err := db.CheckSchema(ctx, server.NewProjections().Schemas()); errors.Is(err, store.ErrNotInitialised) {
		return nil, refuse("--db", "%s %s", name, noSchema)
	} else if err != nil {
		return nil, refuse("--db", "%s: %v", name, err)
	}
	if src.snap, err = db.Snapshot(ctx); err != nil {
		return nil, err
	}
	if src.logKey, err = ledger.RecordedKey(ctx, src.snap); err != nil {
		return nil, refuse("--db", "%s: %v", name, err)
	}
	if err := src.snap.QueryRow(ctx, "SELECT size FROM log_state WHERE id = 1").Scan(&src.size); err != nil {
		return nil, fmt.Errorf("%s: the log's size: %w", name, err)
	}
	if keys.LogKey != src.logKey {
		return nil, refuse("--source-key-file", "%s signs as %s, but %s records the log key %s: they are not one registry's", keyFile, keys.LogKey, name, src.logKey)
	}
	return src, nil
}

func (s *source) close() {
	if s.snap != nil {
		s.snap.Rollback()
	}
	s.db.Close()
}

// sinceSnapshot ends the source's snapshot and tells what a server wrote to
// the source after it, which the copy lacks: the leaves (Behind) and the
// tables outside the log it changed (Changed). What cannot be read again
// is told, not returned: the copy is made.
func (rep *Report) sinceSnapshot(ctx context.Context, snap *store.Tx, now store.Queryer, tables []pgTable, size int64, engine string, progress func(string)) {
	var err error
	if rep.Changed, err = changedOutsideLog(ctx, snap, now, tables); err != nil {
		progress(fmt.Sprintf("  could not read the %s tables outside the log again (%v): check that no server wrote to it during the move", engine, err))
	}
	snap.Rollback()
	var size2 int64
	if err := now.QueryRow(ctx, "SELECT size FROM log_state WHERE id = 1").Scan(&size2); err != nil {
		progress(fmt.Sprintf("  could not read the %s log's size again (%v): check that no server wrote to it during the move", engine, err))
	}
	rep.Behind = max(0, size2-size)
}

// copied counts a table copied, and tells progress of a large one.
func (rep *Report) copied(table string, rows int64, took time.Duration, progress func(string)) {
	rep.Tables++
	rep.Rows += rows
	if table == "log_leaves" {
		rep.Leaves = rows
	}
	if rows > 10000 {
		progress(fmt.Sprintf("  %-28s %9d rows in %v", table, rows, took.Round(time.Millisecond)))
	}
}

func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// emptyTarget checks, before anything is written, that the schema of pg
// exists and holds no registry: no tables, or custos's tables without a
// log. It returns the schema's name.
func emptyTarget(ctx context.Context, pg *pgx.Conn, dsn string) (string, error) {
	var schema *string
	if err := pg.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return "", err
	}
	if schema == nil {
		return "", refuse("--to", "the schema its search_path names does not exist in %s: create it first (CREATE SCHEMA name), or name another", store.Redact(dsn))
	}
	var tables, ours int
	if err := pg.QueryRow(ctx, `SELECT COUNT(*), COUNT(*) FILTER (WHERE table_name IN ('schema_versions', 'log_leaves', 'settings'))
		FROM information_schema.tables WHERE table_schema = current_schema()`).Scan(&tables, &ours); err != nil {
		return "", err
	}
	if tables == 0 {
		return *schema, nil
	}
	if ours < 3 {
		return "", refuse("--to", "schema %s holds %d tables that are not a custos registry's: give an empty schema", *schema, tables)
	}
	return *schema, noRegistry(ctx, pg, *schema)
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// noRegistry refuses a schema whose log holds leaves or whose settings
// hold a log key: a registry, which a move never overwrites.
func noRegistry(ctx context.Context, q querier, schema string) error {
	var leaves int64
	var key bool
	if err := q.QueryRow(ctx, "SELECT (SELECT COUNT(*) FROM log_leaves), EXISTS (SELECT 1 FROM settings WHERE name = 'log_key')").Scan(&leaves, &key); err != nil {
		return err
	}
	if leaves > 0 || key {
		return refuse("--to", "schema %s already holds a registry (%d log leaves): custos move never overwrites one; give an empty schema", schema, leaves)
	}
	return nil
}

// pgTable is a table copied: its name, its columns and, read from
// PostgreSQL for Move, their types (Back, reading SQLite's, has none).
type pgTable struct {
	name        string
	cols, types []string
}

// changedOutsideLog lists the tables outside the log whose rows differ
// between the snapshot the copy was made from and the source now (either
// engine: Move's SQLite, Back's PostgreSQL). The log's
// own tables and those a replay rebuilds are left out: leaves written since
// show in Report.Behind, and log verify checks the copy's projections.
func changedOutsideLog(ctx context.Context, snap, now store.Queryer, tables []pgTable) ([]string, error) {
	inLog := map[string]bool{"log_leaves": true, "log_nodes": true, "log_state": true}
	for _, t := range server.NewProjections().ProjectedTables() {
		inLog[t.Name] = true
	}
	var changed []string
	for _, t := range tables {
		if inLog[t.name] {
			continue
		}
		before, err := tableDigest(ctx, snap, t)
		if err != nil {
			return changed, err
		}
		after, err := tableDigest(ctx, now, t)
		if err != nil {
			return changed, err
		}
		if before != after {
			changed = append(changed, t.name)
		}
	}
	return changed, nil
}

// tableDigest is a SHA-256 of a table's rows ordered by every column (as
// both engines can: PostgreSQL has no rowid), read twice from one engine.
func tableDigest(ctx context.Context, q store.Queryer, t pgTable) (string, error) {
	order := make([]string, len(t.cols))
	for i := range order {
		order[i] = strconv.Itoa(i + 1)
	}
	rows, err := q.Query(ctx, "SELECT * FROM "+pgx.Identifier{t.name}.Sanitize()+" ORDER BY "+strings.Join(order, ", "))
	if err != nil {
		return "", err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", err
	}
	vals, ptrs := make([]any, len(cols)), make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	h := sha256.New()
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		for _, v := range vals {
			fmt.Fprintf(h, "%T:%v\x00", v, v)
		}
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil)), rows.Err()
}

// pgTables lists the schema's tables and their columns, but
// schema_versions, which the migration wrote.
func pgTables(ctx context.Context, pg *pgx.Conn) ([]pgTable, error) {
	rows, err := pg.Query(ctx, `SELECT c.table_name, c.column_name, c.data_type
		FROM information_schema.columns c JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' AND c.table_name <> 'schema_versions'
		ORDER BY c.table_name, c.ordinal_position`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ts []pgTable
	for rows.Next() {
		var t, c, typ string
		if err := rows.Scan(&t, &c, &typ); err != nil {
			return nil, err
		}
		if len(ts) == 0 || ts[len(ts)-1].name != t {
			ts = append(ts, pgTable{name: t})
		}
		last := &ts[len(ts)-1]
		last.cols, last.types = append(last.cols, c), append(last.types, typ)
	}
	return ts, rows.Err()
}

// sameTables refuses a source that holds a table the PostgreSQL schema
// lacks: it would not be moved.
func sameTables(ctx context.Context, snap *store.Tx, tables []pgTable) error {
	have := map[string]bool{"schema_versions": true}
	for _, t := range tables {
		have[t.name] = true
	}
	rows, err := snap.Query(ctx, "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
	if err != nil {
		return err
	}
	defer rows.Close()
	var extra []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return err
		}
		if !have[n] {
			extra = append(extra, n)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(extra) > 0 {
		return fmt.Errorf("the SQLite registry holds tables the PostgreSQL schema has not: %s", strings.Join(extra, ", "))
	}
	return nil
}

// constraints returns the statements that make the schema's keys, indexes
// and foreign keys (in that order), and those that drop them (foreign keys
// first).
func constraints(ctx context.Context, pg *pgx.Conn) (rebuild, drops []string, err error) {
	var keys, fks []string
	rows, err := pg.Query(ctx, `SELECT 'ALTER TABLE ' || quote_ident(c.relname) || ' DROP CONSTRAINT ' || quote_ident(k.conname),
			'ALTER TABLE ' || quote_ident(c.relname) || ' ADD CONSTRAINT ' || quote_ident(k.conname) || ' ' || pg_get_constraintdef(k.oid)
		FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
		WHERE k.connamespace = current_schema()::regnamespace AND k.contype IN ('f', 'p', 'u')
		ORDER BY k.contype = 'f' DESC, c.relname, k.conname`)
	if err != nil {
		return nil, nil, err
	}
	for rows.Next() {
		var d, a string
		if err := rows.Scan(&d, &a); err != nil {
			return nil, nil, err
		}
		drops = append(drops, d)
		if strings.Contains(a, " FOREIGN KEY ") {
			fks = append(fks, a)
		} else {
			keys = append(keys, a)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	// The indexes that are not a constraint's, made after the keys.
	rows, err = pg.Query(ctx, `SELECT 'DROP INDEX ' || quote_ident(indexname), indexdef FROM pg_indexes i
		WHERE schemaname = current_schema() AND NOT EXISTS (SELECT 1 FROM pg_constraint k
			WHERE k.connamespace = current_schema()::regnamespace AND k.conname = i.indexname)
		ORDER BY indexname`)
	if err != nil {
		return nil, nil, err
	}
	var indexes []string
	for rows.Next() {
		var d, a string
		if err := rows.Scan(&d, &a); err != nil {
			return nil, nil, err
		}
		drops, indexes = append(drops, d), append(indexes, a)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	return append(append(keys, indexes...), fks...), drops, nil
}

// setSequences sets every sequence that feeds a column (serial or identity)
// past the rows copied, which COPY does not: the next row would otherwise
// take an id a copied row holds. custos's schemas have none today (every id
// is drawn by the writer and logged); a module that adds one is covered.
func setSequences(ctx context.Context, tx pgx.Tx) ([]string, error) {
	// The table's name is qualified by its schema: PostgreSQL may call
	// pg_get_serial_sequence before it filters by schema, on a row of
	// another schema's (information_schema's own views), whose bare name
	// is no relation on the search_path (an error, seen in CI).
	rows, err := tx.Query(ctx, `SELECT table_name, column_name, seq FROM (
			SELECT table_name, column_name, pg_get_serial_sequence(quote_ident(table_schema) || '.' || quote_ident(table_name), column_name) AS seq
			FROM information_schema.columns WHERE table_schema = current_schema()) c
		WHERE seq IS NOT NULL
		ORDER BY table_name, column_name`)
	if err != nil {
		return nil, err
	}
	type seq struct{ table, col, seq string }
	var seqs []seq
	for rows.Next() {
		var s seq
		if err := rows.Scan(&s.table, &s.col, &s.seq); err != nil {
			rows.Close()
			return nil, err
		}
		seqs = append(seqs, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var set []string
	for _, s := range seqs {
		col, table := pgx.Identifier{s.col}.Sanitize(), pgx.Identifier{s.table}.Sanitize()
		if _, err := tx.Exec(ctx, fmt.Sprintf("SELECT setval(CAST($1::text AS regclass), COALESCE((SELECT MAX(%s) FROM %s), 0) + 1, false)", col, table), s.seq); err != nil {
			return nil, fmt.Errorf("set %s: %w", s.seq, err)
		}
		set = append(set, s.seq)
	}
	return set, nil
}

// copyTable copies t's rows from the SQLite snapshot to PostgreSQL with one
// COPY, each value as the PostgreSQL column's type takes it (SQLite hands
// back the types it stored).
func copyTable(ctx context.Context, snap *store.Tx, tx pgx.Tx, t pgTable) (int64, error) {
	quoted := make([]string, len(t.cols))
	for i, c := range t.cols {
		quoted[i] = `"` + c + `"`
	}
	rows, err := snap.Query(ctx, "SELECT "+strings.Join(quoted, ", ")+" FROM "+t.name)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	vals := make([]any, len(t.cols))
	ptrs := make([]any, len(t.cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var convErr error
	n, err := tx.CopyFrom(ctx, pgx.Identifier{t.name}, t.cols, pgx.CopyFromFunc(func() ([]any, error) {
		if !rows.Next() {
			return nil, rows.Err()
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		for i, v := range vals {
			if vals[i], convErr = pgValue(v, t.types[i]); convErr != nil {
				return nil, fmt.Errorf("column %s: %w", t.cols[i], convErr)
			}
		}
		return vals, nil
	}))
	return n, err
}

// pgValue is a SQLite value as a column of PostgreSQL type typ takes it.
func pgValue(v any, typ string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch typ {
	case "text":
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		case int64:
			return strconv.FormatInt(x, 10), nil
		case float64:
			return strconv.FormatFloat(x, 'g', -1, 64), nil
		}
	case "integer", "bigint", "smallint":
		switch x := v.(type) {
		case int64:
			return x, nil
		case string:
			return strconv.ParseInt(x, 10, 64)
		}
	case "double precision":
		switch x := v.(type) {
		case float64:
			return x, nil
		case int64:
			return float64(x), nil
		}
	case "bytea":
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			return []byte(x), nil
		}
	}
	return nil, fmt.Errorf("a %T is no %s", v, typ)
}
