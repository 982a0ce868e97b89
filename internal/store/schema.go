package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Schema is one module's migrations: files named NNN_what.sql at the root of
// FS, numbered from 1 for each module. Databases record what they applied as
// (module, version) rows in schema_versions.
type Schema struct {
	Module string
	FS     fs.FS
	// Adopt maps versions of the global numbering that releases before
	// per-module versions kept in schema_migrations to this module's
	// versions. Migrate records them once, as (module, version) rows, and
	// never runs them again.
	Adopt map[int]int
	// Steps are Go code run right after the migration of the same version,
	// in its transaction: what SQL cannot compute alike on both engines
	// (assets migration 10 fills in each case reference's key, folded with
	// Unicode's tables). A step is part of its migration: a database that
	// records the version has run it.
	Steps map[int]func(ctx context.Context, tx *Tx) error
}

//go:embed migrations/*.sql
var coreFS embed.FS

// CoreSchema is the core's schema: the log, settings, sealed personal data
// and the log of its reads, authorities, principals and alerts. Global
// version 1 of the releases before per-module versions was the core's.
func CoreSchema() Schema {
	sub, err := fs.Sub(coreFS, "migrations")
	if err != nil {
		panic(err)
	}
	return Schema{Module: "core", FS: sub, Adopt: map[int]int{1: 1}}
}

type migration struct {
	version int
	name    string
	sql     string
}

// migrations reads a schema's files in order, refusing names without a
// version and versions that do not run 1, 2, 3...
func (s Schema) migrations() ([]migration, error) {
	if s.FS == nil {
		return nil, nil
	}
	names, err := fs.Glob(s.FS, "*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, n := range names {
		v, err := strconv.Atoi(strings.SplitN(path.Base(n), "_", 2)[0])
		if err != nil || v < 1 {
			return nil, fmt.Errorf("module %s: migration %s: the name must start with its version number (001_...)", s.Module, n)
		}
		b, err := fs.ReadFile(s.FS, n)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: n, sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("module %s: migration %s: versions must run 1, 2, 3... without gaps or repeats", s.Module, m.name)
		}
	}
	return out, nil
}

// Latest is the newest version of the schema this binary holds.
func (s Schema) Latest() int {
	ms, err := s.migrations()
	if err != nil {
		return 0
	}
	return len(ms)
}

// Applied is one migration Migrate applied.
type Applied struct {
	Module  string
	Version int
	Name    string
}

// ddl rewrites portable DDL for the dialect: BLOB is BYTEA on PostgreSQL,
// and a line that starts "-- postgres: " is a statement for PostgreSQL
// only (a storage setting SQLite has no word for, or a function SQLite
// names otherwise): PostgreSQL runs it, SQLite reads a comment; "-- sqlite: "
// is the same for SQLite.
func (db *DB) ddl(s string) string {
	if db.Dialect == Postgres {
		s = strings.ReplaceAll(s, " BLOB", " BYTEA")
		return postgresOnly.ReplaceAllString(s, "")
	}
	return sqliteOnly.ReplaceAllString(s, "")
}

var (
	postgresOnly = regexp.MustCompile(`(?m)^-- postgres: `)
	sqliteOnly   = regexp.MustCompile(`(?m)^-- sqlite: `)
)

// legacyGuard replaces the schema_migrations table of the releases that
// numbered migrations globally by a view that fails when read, with a message
// that says why: such a release opening this database must refuse it loudly
// rather than take it for one of its own and write to it.
var legacyGuard = map[Dialect]string{
	SQLite: `CREATE VIEW schema_migrations (version, name, applied_at) AS
		SELECT custos_schema_versions_are_kept_per_module_run_a_newer_custos(), '', ''`,
	Postgres: `CREATE FUNCTION custos_schema_versions_are_kept_per_module() RETURNS integer LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'this custos registry keeps its schema versions per module (table schema_versions): it was migrated by a newer custos, run that one'; END $$;
		CREATE VIEW schema_migrations (version, name, applied_at) AS
		SELECT custos_schema_versions_are_kept_per_module(), ''::text, ''::text`,
}

// Migrate brings every schema up to date, in the order given (the core's
// first). It is safe to run from several processes at once: PostgreSQL takes
// an advisory lock, SQLite its write lock. A database made by a release that
// numbered migrations globally is first adopted: its schema_migrations rows
// become (module, version) rows. A database holding a module this binary does
// not know, or a newer version of one, is refused and left unchanged. It
// returns the migrations it applied.
func (db *DB) Migrate(ctx context.Context, schemas []Schema) ([]Applied, error) {
	pending, _, err := db.migrate(ctx, schemas, true)
	applied := make([]Applied, len(pending))
	for i, p := range pending {
		applied[i] = p.Applied
	}
	return applied, err
}

// Pending is a migration a database lacks, as Plan tells it: what its file's
// opening comment says it does, and whether Go code runs after its SQL (a
// step reads or writes rows, so its time grows with the registry).
type Pending struct {
	Applied
	About string
	Step  bool
}

// Plan tells the migrations Migrate would apply, in its order, and changes
// nothing: it takes the same lock and makes the same checks (a database
// newer than this binary, or holding a module it lacks, is refused alike),
// then rolls back. A database of the releases that numbered migrations
// globally is planned as adopted. It also returns the newest version of each
// module the database holds (as adopted).
func (db *DB) Plan(ctx context.Context, schemas []Schema) ([]Pending, map[string]int, error) {
	return db.migrate(ctx, schemas, false)
}

// about is a migration's opening comment, its "-- " taken off: the lines
// before its first statement, the dialect-only lines ("-- postgres: ",
// "-- sqlite: ") left out.
func (m migration) about() string {
	var lines []string
	for _, l := range strings.Split(m.sql, "\n") {
		l = strings.TrimRight(l, "\r")
		if !strings.HasPrefix(l, "--") {
			break
		}
		if postgresOnly.MatchString(l) || sqliteOnly.MatchString(l) {
			continue
		}
		lines = append(lines, strings.TrimSpace(strings.TrimPrefix(l, "--")))
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// migrate applies the migrations the database lacks, or with apply false
// only lists them and rolls back. It returns the migrations and the newest
// version of each module the database held before them.
func (db *DB) migrate(ctx context.Context, schemas []Schema, apply bool) ([]Pending, map[string]int, error) {
	all := map[string][]migration{}
	for _, s := range schemas {
		ms, err := s.migrations()
		if err != nil {
			return nil, nil, err
		}
		if _, dup := all[s.Module]; dup {
			return nil, nil, fmt.Errorf("module %s is listed twice", s.Module)
		}
		all[s.Module] = ms
	}
	tx, err := db.BeginWrite(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer tx.Rollback()
	if db.Dialect == Postgres {
		// Transaction-scoped, so it is released however the migration ends.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(7243019)"); err != nil {
			return nil, nil, fmt.Errorf("migration lock: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_versions (
		module TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL, applied_at TEXT NOT NULL,
		PRIMARY KEY (module, version))`); err != nil {
		return nil, nil, err
	}
	now := time.Now().UTC().Format(time.RFC3339)
	kind, err := relationKind(ctx, tx, "schema_migrations")
	if err != nil {
		return nil, nil, err
	}
	if kind == "table" {
		if err := adopt(ctx, tx, schemas, all, now); err != nil {
			return nil, nil, err
		}
	}
	if kind != "view" {
		if _, err := tx.Exec(ctx, legacyGuard[db.Dialect]); err != nil {
			return nil, nil, fmt.Errorf("guard against older releases: %w", err)
		}
	}
	done, err := schemaRows(ctx, tx)
	if err != nil {
		return nil, nil, err
	}
	if err := checkNewer(done, schemas); err != nil {
		return nil, nil, err
	}
	held := map[string]int{}
	for m, vs := range done {
		held[m] = newest(vs)
	}
	var applied []Pending
	for _, s := range schemas {
		for _, m := range all[s.Module] {
			if done[s.Module][m.version] {
				continue
			}
			p := Pending{Applied: Applied{Module: s.Module, Version: m.version, Name: m.name}, About: m.about(), Step: s.Steps[m.version] != nil}
			if !apply {
				applied = append(applied, p)
				continue
			}
			if _, err := tx.Exec(ctx, db.ddl(m.sql)); err != nil {
				return nil, nil, fmt.Errorf("migration %s/%s: %w", s.Module, m.name, err)
			}
			if step := s.Steps[m.version]; step != nil {
				if err := step(ctx, tx); err != nil {
					return nil, nil, fmt.Errorf("migration %s/%s: %w", s.Module, m.name, err)
				}
			}
			if _, err := tx.Exec(ctx, "INSERT INTO schema_versions (module, version, name, applied_at) VALUES (?, ?, ?, ?)",
				s.Module, m.version, m.name, now); err != nil {
				return nil, nil, err
			}
			applied = append(applied, p)
		}
	}
	if !apply {
		return applied, held, nil // the deferred Rollback undoes the adoption and the guard
	}
	return applied, held, tx.Commit()
}

// adopt turns the global versions of schema_migrations into (module, version)
// rows and drops the table. A global version no module adopts is refused: it
// was made by a release this binary does not know.
func adopt(ctx context.Context, tx *Tx, schemas []Schema, all map[string][]migration, now string) error {
	rows, err := tx.Query(ctx, "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		return err
	}
	global, err := Rows(rows, func(r Scanner, v *int) error { return r.Scan(v) })
	if err != nil {
		return err
	}
	for _, g := range global {
		found := false
		for _, s := range schemas {
			v, ok := s.Adopt[g]
			if !ok {
				continue
			}
			if v < 1 || v > len(all[s.Module]) {
				return fmt.Errorf("module %s adopts global schema version %d as its version %d, which it does not have", s.Module, g, v)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO schema_versions (module, version, name, applied_at) VALUES (?, ?, ?, ?)",
				s.Module, v, all[s.Module][v-1].name, now); err != nil {
				return fmt.Errorf("adopt global schema version %d: %w", g, err)
			}
			found = true
			break
		}
		if !found {
			return fmt.Errorf("schema_migrations holds version %d, which no module of this custos knows: the database was made by a newer release", g)
		}
	}
	_, err = tx.Exec(ctx, "DROP TABLE schema_migrations")
	return err
}

// relationKind tells whether name is a "table", a "view" or absent ("").
func relationKind(ctx context.Context, q Queryer, name string) (string, error) {
	query := "SELECT type FROM sqlite_master WHERE name = ? AND type IN ('table', 'view')"
	if q.Dialect() == Postgres {
		query = `SELECT CASE table_type WHEN 'VIEW' THEN 'view' ELSE 'table' END FROM information_schema.tables
			WHERE table_schema = current_schema() AND table_name = ?`
	}
	var kind string
	err := q.QueryRow(ctx, query, name).Scan(&kind)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return kind, err
}

// schemaRows reads schema_versions: the versions applied, by module.
func schemaRows(ctx context.Context, q Queryer) (map[string]map[int]bool, error) {
	rows, err := q.Query(ctx, "SELECT module, version FROM schema_versions")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	done := map[string]map[int]bool{}
	for rows.Next() {
		var m string
		var v int
		if err := rows.Scan(&m, &v); err != nil {
			return nil, err
		}
		if done[m] == nil {
			done[m] = map[int]bool{}
		}
		done[m][v] = true
	}
	return done, rows.Err()
}

func newest(vs map[int]bool) int {
	n := 0
	for v := range vs {
		n = max(n, v)
	}
	return n
}

// checkNewer refuses a database that holds a module this binary does not know,
// or a newer version of one it knows.
func checkNewer(done map[string]map[int]bool, schemas []Schema) error {
	known := map[string]int{}
	for _, s := range schemas {
		known[s.Module] = s.Latest()
	}
	var mods []string
	for m := range done {
		mods = append(mods, m)
	}
	sort.Strings(mods)
	for _, m := range mods {
		latest, ok := known[m]
		if !ok {
			return fmt.Errorf("the database holds the %s module (schema version %d), which this custos does not have: run the custos that made it, or a newer one", m, newest(done[m]))
		}
		if v := newest(done[m]); v > latest {
			return fmt.Errorf("the database's %s schema is at version %d, newer than this custos knows (%d): run the custos that migrated it, or a newer one", m, v, latest)
		}
	}
	return nil
}

// ErrNotInitialised is returned by CheckSchema for a database with no schema.
var ErrNotInitialised = errors.New("the database is not initialised")

// CheckSchema tells whether the database's schema is exactly the one the
// given schemas make: ErrNotInitialised for an empty database, an error that
// says to run custos migrate when it is older, and one that says to run a
// newer custos when it is newer or holds an unknown module.
func (db *DB) CheckSchema(ctx context.Context, schemas []Schema) error {
	q := db.Read()
	kind, err := relationKind(ctx, q, "schema_migrations")
	if err != nil {
		return err
	}
	if kind == "table" {
		return errors.New("the database was made by an earlier custos that numbered its schema globally: run custos migrate")
	}
	if k, err := relationKind(ctx, q, "schema_versions"); err != nil {
		return err
	} else if k == "" {
		return ErrNotInitialised
	}
	done, err := schemaRows(ctx, q)
	if err != nil {
		return err
	}
	if len(done) == 0 {
		return ErrNotInitialised
	}
	if err := checkNewer(done, schemas); err != nil {
		return err
	}
	for _, s := range schemas {
		for v := 1; v <= s.Latest(); v++ {
			if !done[s.Module][v] {
				return fmt.Errorf("the database's %s schema lacks version %d of %d: run custos migrate", s.Module, v, s.Latest())
			}
		}
	}
	return nil
}

// SchemaVersions returns each module's newest schema version in the database.
func (db *DB) SchemaVersions(ctx context.Context) (map[string]int, error) {
	done, err := schemaRows(ctx, db.Read())
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for m, vs := range done {
		out[m] = newest(vs)
	}
	return out, nil
}
