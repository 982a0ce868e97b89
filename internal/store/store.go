// Package store opens custos's database, SQLite by default and PostgreSQL for a
// national deployment, and runs the embedded schema migrations. Every difference
// between the two SQL dialects lives in this package: the rest of custos writes
// SQL with '?' placeholders and portable types, and the store rewrites it.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"modernc.org/sqlite"             // registers the "sqlite" driver
)

// Dialect names the SQL engine behind a DB.
type Dialect int

// The supported engines.
const (
	SQLite Dialect = iota
	Postgres
)

func (d Dialect) String() string {
	if d == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// DB is an open custos database. Reads go through a pool of connections; writes
// go through one writer connection (SQLite) or the shared pool (PostgreSQL),
// always inside a transaction started by BeginWrite.
type DB struct {
	Dialect Dialect
	// Path is the SQLite file, empty for PostgreSQL and in-memory databases.
	Path string
	// DSN is the data source as the user gave it.
	DSN string

	r, w *sql.DB
	ckpt *checkpointer // SQLite files only
	// replica is the read replica's pool (UseReplica), nil without one.
	replica *sql.DB
	// replicaAside sends the reads marked for the replica to the primary
	// (SetReplicaInUse).
	replicaAside atomic.Bool
	rebind       sync.Map // query text -> dialect-specific text

	cacheOnce sync.Once
	cache     *stmtCache

	bulk atomic.Pointer[bulk] // a bulk load's group (Bulk), nil without

	readOnly bool // opened by OpenReadOnly: w is the read pool

	closeOnce sync.Once
	closeErr  error
}

// ReadOnly tells whether the DB was opened by OpenReadOnly: its writes
// fail, and whoever opens it does no upkeep that writes.
func (db *DB) ReadOnly() bool { return db.readOnly }

// Open opens the database named by dsn: a file path or "sqlite:PATH" for SQLite,
// "postgres://..." or "postgresql://..." for PostgreSQL. It does not migrate.
func Open(ctx context.Context, dsn string) (*DB, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return openPostgres(ctx, dsn, false)
	case dsn == "":
		return nil, errors.New("no database given: pass --db PATH or --db postgres://USER@HOST/DATABASE")
	default:
		return openSQLite(ctx, strings.TrimPrefix(dsn, "sqlite:"), dsn)
	}
}

// OpenMemory opens a private in-memory SQLite database, used to replay the log
// when verifying it.
func OpenMemory(ctx context.Context) (*DB, error) {
	db, err := sql.Open("sqlite", "file::memory:?_pragma=foreign_keys(1)")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1) // one connection is the whole in-memory database
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return &DB{Dialect: SQLite, DSN: ":memory:", r: db, w: db}, nil
}

func openSQLite(ctx context.Context, path, dsn string) (*DB, error) {
	if path == "" {
		return nil, errors.New("empty SQLite path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if dir := filepath.Dir(abs); dir != "" {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("database folder %s: %w", dir, err)
		}
	}
	// A new file is created here, empty and 0600 like the key file, before
	// SQLite opens it: SQLite would create it readable by everyone the
	// umask allows, and gives its write-ahead log and shared-memory files
	// the database file's mode.
	if err := createPrivate(abs); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("create SQLite %s: %w", abs, err)
	}
	// busy_timeout first so that the following pragmas wait rather than fail;
	// synchronous(FULL) makes each commit durable before it is acknowledged.
	// mmap_size maps the file's first mmapBytes, so that reading a page
	// there costs a memory access rather than a read system call.
	base := "file:" + (&url.URL{Path: abs}).EscapedPath() +
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)" +
		"&_pragma=mmap_size(" + strconv.Itoa(mmapBytes) + ")"
	// The checkpointer copies the log beside the writer, which checkpoints
	// only to bound the log (see checkpointer).
	w, err := sql.Open("sqlite", base+"&_txlock=immediate&_pragma=wal_autocheckpoint("+strconv.Itoa(restartFrames)+")")
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite", base+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	ck, err := sql.Open("sqlite", base)
	if err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	ck.SetMaxOpenConns(1)
	db := &DB{Dialect: SQLite, Path: abs, DSN: dsn, r: r, w: w, ckpt: newCheckpointer(ck)}
	// Switching a new file to WAL takes a lock that SQLite does not wait for
	// under busy_timeout, so processes that open one new file at once (several
	// custos migrate, say) can be told it is busy: try again for a while.
	deadline := time.Now().Add(10 * time.Second)
	for {
		err = w.PingContext(ctx)
		var se *sqlite.Error
		if err == nil || !errors.As(err, &se) || se.Code()&0xff != sqliteBusy || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open SQLite %s: %w%s", abs, err, accessHint(abs))
	}
	return db, nil
}

// accessHint says, after SQLite failed to open a registry's file for
// writing, when the reason is that this process's user may not write the
// file or its folder (where SQLite makes the write-ahead log beside it):
// SQLite itself says only "unable to open database file". The usual cause
// is a registry made or restored as root and served as custos's own user.
func accessHint(abs string) string {
	who := "this process's user"
	if u, err := user.Current(); err == nil {
		who = "the user custos runs as, " + u.Username + ","
	}
	what := ""
	if f, err := os.OpenFile(abs, os.O_RDWR, 0); errors.Is(err, fs.ErrPermission) {
		what = abs
		if st, err := os.Stat(abs); err == nil {
			what += " (mode " + st.Mode().Perm().String() + ")"
		}
	} else if err == nil {
		f.Close()
		dir := filepath.Dir(abs)
		if f, err := os.CreateTemp(dir, ".custos-access-*"); errors.Is(err, fs.ErrPermission) {
			what = "the folder " + dir + ", where SQLite makes the write-ahead log,"
		} else if err == nil {
			f.Close()
			os.Remove(f.Name())
		}
	}
	if what == "" {
		return ""
	}
	return fmt.Sprintf(": %s may not write %s: run custos as the user that owns the registry (sudo -u custos), or give that user the registry's files (chown, as docs/operations.md installs them)", who, what)
}

// mmapBytes is how much of a SQLite file is read through a memory map: the
// most SQLite allows (SQLITE_MAX_MMAP_SIZE, just under 2 GiB). It is address
// space, not memory: the pages stay in the operating system's cache.
const mmapBytes = 0x7fff0000

// sqliteBusy is SQLite's primary result code SQLITE_BUSY.
const sqliteBusy = 5

// openPostgres opens a pool on the PostgreSQL database at dsn. readOnly
// (OpenReadOnly) starts every session with default_transaction_read_only
// on, so that PostgreSQL itself refuses a write through the DB ("cannot
// execute INSERT in a read-only transaction"), as SQLite's mode=ro does.
func openPostgres(ctx context.Context, dsn string, readOnly bool) (*DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	if readOnly {
		cfg.RuntimeParams["default_transaction_read_only"] = "on"
	}
	p := stdlib.OpenDB(*cfg)
	p.SetMaxOpenConns(32)
	p.SetMaxIdleConns(32)
	p.SetConnMaxLifetime(30 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.PingContext(pctx); err != nil {
		p.Close()
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	// A search_path that names no schema that exists leaves no schema to
	// create the tables in, nor to read them from: said here, rather than
	// as PostgreSQL's "no schema has been selected" at the first statement.
	var schema sql.NullString
	if err := p.QueryRowContext(pctx, "SELECT current_schema()").Scan(&schema); err != nil {
		p.Close()
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	if !schema.Valid {
		p.Close()
		return nil, fmt.Errorf("%s: no schema its search_path names exists: create it first (CREATE SCHEMA name, as the owner of the database), or name one that exists", Redact(dsn))
	}
	return &DB{Dialect: Postgres, DSN: dsn, r: p, w: p, readOnly: readOnly}, nil
}

// UseReplica sends the reads of contexts marked by FromReplica to the
// PostgreSQL read replica at dsn (a streaming standby of this database):
// custos serve --db-read. Everything else still reads the primary.
func (db *DB) UseReplica(ctx context.Context, dsn string) error {
	if db.Dialect != Postgres {
		return errors.New("--db-read needs a PostgreSQL --db: a read replica is a PostgreSQL standby of it")
	}
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return fmt.Errorf("--db-read must be a postgres:// URL, got %s", Redact(dsn))
	}
	p, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	p.SetMaxOpenConns(32)
	p.SetMaxIdleConns(32)
	p.SetConnMaxLifetime(30 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.PingContext(pctx); err != nil {
		p.Close()
		return fmt.Errorf("connect to the read replica %s: %w", Redact(dsn), err)
	}
	if db.replica != nil {
		db.replica.Close()
	}
	db.replica = p
	db.replicaAside.Store(false)
	return nil
}

type replicaKey struct{}

// How a context marks its reads for the replica.
const (
	replicaAsked  = 1 // FromReplica: the replica while it is in use
	replicaForced = 2 // OnReplica: the replica, in use or not
)

// FromReplica returns a context under which db.Read() reads the read
// replica, when the database has one (UseReplica) and it is in use
// (SetReplicaInUse): for the reads that may lag the primary by the
// replication delay, traces and lists. Writes, write transactions,
// snapshots and reads under other contexts use the primary.
func FromReplica(ctx context.Context) context.Context {
	return context.WithValue(ctx, replicaKey{}, replicaAsked)
}

// OnReplica returns a context under which db.Read() reads the read
// replica even while it is set aside: for the checks that decide whether
// it is fit to be read.
func OnReplica(ctx context.Context) context.Context {
	return context.WithValue(ctx, replicaKey{}, replicaForced)
}

// SetReplicaInUse says whether the reads of contexts marked by FromReplica
// go to the replica (true, as after UseReplica) or to the primary (a
// replica that fell behind or stopped being one).
func (db *DB) SetReplicaInUse(on bool) { db.replicaAside.Store(!on) }

// ReadPool returns the pool the reads of ctx go to: the replica for a
// context marked by FromReplica when there is one and it is in use, or by
// OnReplica; else the primary's.
func (db *DB) ReadPool(ctx context.Context) *sql.DB {
	db.flushBulk()
	if db.replica != nil {
		switch ctx.Value(replicaKey{}) {
		case replicaForced:
			return db.replica
		case replicaAsked:
			if !db.replicaAside.Load() {
				return db.replica
			}
		}
	}
	return db.r
}

// PostgresIdentity is what tells a PostgreSQL database apart from any
// other: the cluster it belongs to (pg_control_system()'s system
// identifier, which a physical standby shares with its primary), the
// database's name and object id, and the schema custos's tables are in,
// with whether the server is a standby.
type PostgresIdentity struct {
	System      string
	Database    string
	DatabaseOID int64
	Schema      string
	SchemaOID   int64
	InRecovery  bool
}

// Identity reads the PostgreSQL identity of the database the reads of ctx
// go to (the primary's, or the replica's under OnReplica).
func (db *DB) Identity(ctx context.Context) (PostgresIdentity, error) {
	var id PostgresIdentity
	if db.Dialect != Postgres {
		return id, errors.New("not a PostgreSQL database")
	}
	err := db.ReadPool(ctx).QueryRowContext(ctx, `SELECT (SELECT system_identifier FROM pg_control_system())::text,
		current_database(), (SELECT oid FROM pg_database WHERE datname = current_database())::bigint,
		COALESCE(current_schema(), ''), COALESCE((SELECT oid FROM pg_namespace WHERE nspname = current_schema())::bigint, 0), pg_is_in_recovery()`).
		Scan(&id.System, &id.Database, &id.DatabaseOID, &id.Schema, &id.SchemaOID, &id.InRecovery)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42501" {
		return id, fmt.Errorf("%w: custos reads pg_control_system() to tell a standby of this cluster from a copy; "+
			"let its role call it (as a superuser, on the primary: GRANT EXECUTE ON FUNCTION pg_control_system() TO the role)", err)
	}
	return id, err
}

// Close closes every connection. A second Close returns the first's
// answer and closes nothing (a deferred Close after an explicit one).
func (db *DB) Close() error {
	db.closeOnce.Do(func() { db.closeErr = db.close() })
	return db.closeErr
}

func (db *DB) close() error {
	var err error
	if db.ckpt != nil {
		err = db.ckpt.close()
	}
	if db.replica != nil {
		if e := db.replica.Close(); err == nil {
			err = e
		}
	}
	if e := db.r.Close(); err == nil {
		err = e
	}
	if db.w != db.r {
		if e := db.w.Close(); err == nil {
			err = e
		}
	}
	return err
}

// SQL returns the read pool, for callers that prepare statements themselves.
func (db *DB) SQL() *sql.DB { return db.r }

// Bind rewrites a query written with '?' placeholders for this database.
func (db *DB) Bind(q string) string {
	if db.Dialect != Postgres {
		return q
	}
	if v, ok := db.rebind.Load(q); ok {
		return v.(string)
	}
	var b strings.Builder
	n := 0
	inStr := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			inStr = !inStr
			b.WriteByte(c)
		case c == '?' && !inStr:
			n++
			b.WriteString("$" + strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	s := b.String()
	db.rebind.Store(q, s)
	return s
}

// Queryer is what reads need: a DB or a Tx.
type Queryer interface {
	Query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, q string, args ...any) *Row
	Exec(ctx context.Context, q string, args ...any) (sql.Result, error)
	Dialect() Dialect
}

type dbq struct{ db *DB }

// Read returns a Queryer over the read pool.
func (db *DB) Read() Queryer { return dbq{db} }

func (q dbq) Query(ctx context.Context, s string, args ...any) (*sql.Rows, error) {
	if t := snapshotOf(ctx, q.db); t != nil {
		return t.Query(ctx, s, args...)
	}
	return q.db.ReadPool(ctx).QueryContext(ctx, q.db.Bind(s), args...)
}
func (q dbq) QueryRow(ctx context.Context, s string, args ...any) *Row {
	if t := snapshotOf(ctx, q.db); t != nil {
		return t.QueryRow(ctx, s, args...)
	}
	return &Row{row: q.db.ReadPool(ctx).QueryRowContext(ctx, q.db.Bind(s), args...)}
}

// ReadBatch runs read queries that do not depend on one another: on
// PostgreSQL in one round trip (a batch on one connection of the pool that
// ctx reads, each statement prepared once per connection), on SQLite and in
// a snapshot (InSnapshot) one after the other. It stops at the first error.
func (db *DB) ReadBatch(ctx context.Context, qs ...ReadQuery) error {
	if db.Dialect != Postgres || snapshotOf(ctx, db) != nil {
		for _, q := range qs {
			if err := readAll(ctx, db.Read(), q); err != nil {
				return err
			}
		}
		return nil
	}
	conn, err := db.ReadPool(ctx).Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		b := &pgx.Batch{}
		for _, q := range qs {
			b.Queue(db.Bind(q.SQL), q.Args...)
		}
		br := dc.(*stdlib.Conn).Conn().SendBatch(ctx, b)
		defer br.Close()
		for _, q := range qs {
			rows, err := br.Query()
			if err != nil {
				return err
			}
			for rows.Next() {
				if err := q.Row(rows); err != nil {
					rows.Close()
					return err
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return br.Close()
	})
}

func readAll(ctx context.Context, r Queryer, q ReadQuery) error {
	rows, err := r.Query(ctx, q.SQL, q.Args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := q.Row(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Readers is how many reads of db.Read() under ctx may run at once: one in
// a snapshot (InSnapshot), else the read pool's size. A reader that splits
// a large read among goroutines asks it first.
func (db *DB) Readers(ctx context.Context) int {
	if snapshotOf(ctx, db) != nil {
		return 1
	}
	return max(1, db.r.Stats().MaxOpenConnections)
}

type snapshotKey struct{}

// InSnapshot returns a context under which the reads of db.Read() run in the
// snapshot t (from db.Snapshot) instead of the read pool: a function that
// reads many pages of a list, such as an export, sees one state of the
// registry through functions that read db.Read() as usual. The reads run one
// at a time on the snapshot's one connection, so each must finish (its rows
// closed) before the next starts.
func InSnapshot(ctx context.Context, t *Tx) context.Context {
	return context.WithValue(ctx, snapshotKey{}, t)
}

func snapshotOf(ctx context.Context, db *DB) *Tx {
	t, _ := ctx.Value(snapshotKey{}).(*Tx)
	if t == nil || t.db != db {
		return db.bulkRead()
	}
	return t
}
func (q dbq) Exec(ctx context.Context, s string, args ...any) (sql.Result, error) {
	q.db.flushBulk()
	return q.db.w.ExecContext(ctx, q.db.Bind(s), args...)
}
func (q dbq) Dialect() Dialect { return q.db.Dialect }

// Snapshot starts a read-only transaction whose reads all see one state of the
// database, whatever other connections or processes commit meanwhile: REPEATABLE
// READ on PostgreSQL, a read transaction on SQLite (WAL). A check that reads
// many tables, such as log verification, uses it to run on a live registry.
// Rollback ends it.
func (db *DB) Snapshot(ctx context.Context) (*Tx, error) {
	db.flushBulk()
	opts := &sql.TxOptions{ReadOnly: true}
	if db.Dialect == Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := db.r.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &Tx{db: db, tx: tx}, nil
}

// Tx is a write transaction, or a read-only one started by Snapshot.
type Tx struct {
	db    *DB
	tx    *sql.Tx
	cache *stmtCache // SQLite write transactions only
	// bound holds the statements prepared for this transaction: the
	// cache's, each bound once (sql.Tx.StmtContext makes a new one at each
	// call), and those first seen in it.
	bound map[string]*sql.Stmt
	// inSavepoint tells that a savepoint opened for the next Savepoint call
	// is open.
	inSavepoint bool

	// conn is the connection of a PostgreSQL write transaction, on which
	// queued statements are sent together (Pipeline).
	conn      *sql.Conn
	pipelined bool
	queue     []queued
	// spQueued is the index in queue of the SAVEPOINT statement that
	// opened the current savepoint while it is not sent yet, else -1.
	spQueued int
	// failed is the error of queued statements that failed when sent
	// before a read, which then fails as the transaction is aborted: the
	// savepoint reports it with the read's.
	failed error
	// deferRelease, released and deferred: see DeferRelease.
	deferRelease bool
	released     bool
	deferred     error
	// answer is the read ahead that answers the next QueryRow (Answer);
	// aheadWait is how long QueryRow waited for such reads (AheadWait).
	answer    *Ahead
	aheadWait time.Duration
	// inflight is closed when the statements Send sent are done, with
	// their error in inflightErr; inflightPrev tells whether they held a
	// released savepoint's writes.
	inflight     chan struct{}
	inflightErr  error
	inflightPrev bool

	// bulk is the group of a bulk load this write transaction is a
	// savepoint of (DB.Bulk); ended tells it was committed or rolled back.
	bulk  *bulk
	ended bool
}

// queued is a statement of a pipelined transaction waiting to be sent.
type queued struct {
	q    string
	args []any
	res  *queuedResult
}

// BeginWrite starts a write transaction. On SQLite it takes the write lock at
// once (BEGIN IMMEDIATE), so that concurrent writers wait instead of failing.
func (db *DB) BeginWrite(ctx context.Context) (*Tx, error) {
	if db.Dialect == Postgres {
		conn, err := db.w.Conn(ctx)
		if err != nil {
			return nil, err
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			conn.Close()
			return nil, err
		}
		return &Tx{db: db, tx: tx, conn: conn, spQueued: -1}, nil
	}
	if b := db.bulk.Load(); b != nil {
		return db.beginBulk(ctx, b)
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	t := &Tx{db: db, tx: tx, spQueued: -1}
	if db.Dialect == SQLite {
		t.cache = db.stmtCache()
	}
	return t, nil
}

// stmtCache returns the cache of the SQLite writer's statements.
func (db *DB) stmtCache() *stmtCache {
	db.cacheOnce.Do(func() { db.cache = &stmtCache{stmts: map[string]*sql.Stmt{}, pending: map[string]bool{}} })
	return db.cache
}

// stmtCache keeps the statements of SQLite write transactions prepared on the
// writer's one connection, so that each is parsed once rather than once per
// command (parsing was half the writer's CPU). A statement first seen inside
// a transaction is prepared on that transaction for the rest of it, and on
// the connection after the transaction ends, when the connection is free
// again: a long transaction (a replay's) parses each of its statements once
// too. PostgreSQL needs none of this: pgx caches prepared statements per
// connection itself.
type stmtCache struct {
	mu      sync.Mutex
	stmts   map[string]*sql.Stmt
	pending map[string]bool
}

// maxCachedStmts bounds the cache; statements past it simply run unprepared.
const maxCachedStmts = 1024

func (t *Tx) stmt(ctx context.Context, q string) *sql.Stmt {
	if s := t.bound[q]; s != nil {
		return s
	}
	c := t.cache
	if c == nil || strings.Contains(strings.TrimRight(q, "; \n\t"), ";") {
		return nil // multi-statement scripts (migrations) are never cached
	}
	c.mu.Lock()
	s := c.stmts[q]
	if s == nil && len(c.stmts)+len(c.pending) < maxCachedStmts {
		c.pending[q] = true
	}
	c.mu.Unlock()
	if len(t.bound) >= maxCachedStmts {
		return nil
	}
	if s == nil {
		p, err := t.tx.PrepareContext(ctx, q)
		if err != nil {
			return nil // it runs unprepared, and fails there as it would
		}
		s = p
	} else {
		s = t.tx.StmtContext(ctx, s)
	}
	if t.bound == nil {
		t.bound = map[string]*sql.Stmt{}
	}
	t.bound[q] = s
	return s
}

// prepare prepares the statements first seen in a transaction that ended.
func (t *Tx) prepare() {
	c := t.cache
	if c == nil {
		return
	}
	c.mu.Lock()
	var qs []string
	for q := range c.pending {
		qs = append(qs, q)
	}
	clear(c.pending)
	c.mu.Unlock()
	for _, q := range qs {
		s, err := t.db.w.PrepareContext(context.Background(), q)
		if err != nil {
			continue // it will keep running unprepared
		}
		c.mu.Lock()
		if c.stmts[q] == nil {
			c.stmts[q] = s
			s = nil
		}
		c.mu.Unlock()
		if s != nil {
			s.Close()
		}
	}
}

// Pipeline makes a PostgreSQL write transaction queue its statements
// (Exec) and send them together, in one round trip, just before the next
// read (Query, QueryRow), at the end of a Savepoint with its release, at
// Flush, or at Commit: a command's writes cost one trip instead of one each.
// An Exec then returns no error of its own; a failed statement fails the
// Savepoint it was queued in (which undoes it like any failed command), or
// Flush, or Commit; its RowsAffected sends the queue first. SQLite, whose
// statements cost no round trip, runs them at once.
func (t *Tx) Pipeline() {
	t.pipelined = t.conn != nil
}

// DeferRelease makes a pipelined transaction (Pipeline) keep a successful
// Savepoint's writes and release queued, to be sent with the next command's
// first read (or Flush, or Commit) in the same round trip: a command then
// costs one round trip, its read, instead of two. The price is that a write
// that fails is only seen after its savepoint was reported a success: Deferred
// then returns the error, and the caller must roll the transaction back and
// run it again without DeferRelease, where every savepoint learns the fate of
// its own writes. The writer's commands validate before they write, so a
// failing write is a fault, not a refusal, and the rerun is rare.
func (t *Tx) DeferRelease() {
	t.deferRelease = t.pipelined
}

// Deferred returns the error of writes that failed after their savepoint had
// been reported a success (DeferRelease), or nil.
func (t *Tx) Deferred() error { return t.deferred }

// Query runs a query in the transaction.
func (t *Tx) Query(ctx context.Context, s string, args ...any) (*sql.Rows, error) {
	t.answer = nil
	t.settle()
	t.flushBeforeRead(ctx)
	if st := t.stmt(ctx, s); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, t.db.Bind(s), args...)
}

// QueryRow runs a one-row query in the transaction. In a pipelined
// transaction the queued statements and the query go in one round trip.
func (t *Tx) QueryRow(ctx context.Context, s string, args ...any) *Row {
	if row := t.answered(s, args); row != nil {
		return row
	}
	t.settle()
	if t.pipelined && len(t.queue) > 0 {
		row := &Row{}
		q, prev := t.take()
		err := t.conn.Raw(func(dc any) error {
			return sendBatch(ctx, dc.(*stdlib.Conn).Conn(), t.db, q, &rowRead{q: s, args: args, row: row})
		})
		if err != nil {
			t.sendFailed(err, prev)
			row.err = fmt.Errorf("not read: the statements sent before it failed: %w", err)
		}
		return row
	}
	t.flushBeforeRead(ctx)
	if st := t.stmt(ctx, s); st != nil {
		return &Row{row: st.QueryRowContext(ctx, args...)}
	}
	return &Row{row: t.tx.QueryRowContext(ctx, t.db.Bind(s), args...)}
}

// take empties the queue and tells whether it held a released savepoint's
// writes (DeferRelease).
func (t *Tx) take() ([]queued, bool) {
	q, prev := t.queue, t.released
	t.queue, t.spQueued, t.released = nil, -1, false
	return q, prev
}

// sendFailed keeps the error of queued statements that failed: the
// transaction is aborted, and the next savepoint reports it; when the queue
// held a released savepoint's writes, Deferred reports it too.
func (t *Tx) sendFailed(err error, prev bool) {
	t.failed = errors.Join(t.failed, err)
	if prev {
		t.deferred = errors.Join(t.deferred, err)
	}
}

// flushBeforeRead sends the queued statements, so that a read sees them. A
// failure is kept in t.failed: the read that follows then fails (the
// transaction is aborted) and the savepoint reports both.
func (t *Tx) flushBeforeRead(ctx context.Context) {
	if len(t.queue) == 0 {
		return
	}
	q, prev := t.take()
	if err := t.send(ctx, q); err != nil {
		t.sendFailed(err, prev)
	}
}

// Exec runs a statement in the transaction, or queues it (Pipeline).
func (t *Tx) Exec(ctx context.Context, s string, args ...any) (sql.Result, error) {
	if t.pipelined {
		r := &queuedResult{t: t}
		t.queue = append(t.queue, queued{s, args, r})
		return r, nil
	}
	t.settle()
	if st := t.stmt(ctx, s); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, t.db.Bind(s), args...)
}

// Flush sends the queued statements of a pipelined transaction in one
// round trip, and returns the first error among them.
func (t *Tx) Flush(ctx context.Context) error {
	t.settle()
	if len(t.queue) == 0 {
		return nil
	}
	q, prev := t.take()
	err := t.send(ctx, q)
	if err != nil && prev {
		t.deferred = errors.Join(t.deferred, err)
	}
	return err
}

// Send starts sending the queued statements of a pipelined transaction and
// returns at once: PostgreSQL runs them while the caller works on what comes
// next. The transaction's next use of its connection (a read, Flush, Commit)
// waits for them first; their failure is then reported as a failure sent
// before a read is (a released savepoint's writes in Deferred). Nothing is
// sent while statements sent before are still running.
func (t *Tx) Send(ctx context.Context) {
	if t.inflight != nil {
		select {
		case <-t.inflight:
			t.settle()
		default:
			return
		}
	}
	if !t.pipelined || len(t.queue) == 0 {
		return
	}
	q, prev := t.take()
	done := make(chan struct{})
	t.inflight, t.inflightPrev = done, prev
	go func() {
		defer close(done)
		t.inflightErr = t.send(ctx, q)
	}()
}

// settle waits for the statements Send sent and keeps their failure.
func (t *Tx) settle() {
	if t.inflight == nil {
		return
	}
	<-t.inflight
	t.inflight = nil
	if err := t.inflightErr; err != nil {
		t.inflightErr = nil
		t.sendFailed(err, t.inflightPrev)
	}
}

func (t *Tx) send(ctx context.Context, q []queued) error {
	return t.conn.Raw(func(dc any) error {
		return sendBatch(ctx, dc.(*stdlib.Conn).Conn(), t.db, q, nil)
	})
}

// batch is a protocol batch being built on a connection: each statement
// prepared once per connection (pgx keeps what a connection prepared), its
// arguments encoded as pgx encodes them.
type batch struct {
	c   *pgx.Conn
	db  *DB
	m   *pgtype.Map
	b   pgconn.Batch
	buf []byte // the arguments' values, encoded
}

func newBatch(c *pgx.Conn, db *DB) *batch {
	return &batch{c: c, db: db, m: c.TypeMap(), buf: make([]byte, 0, 256)}
}

// add queues statement s with its arguments; a read's rows come back in the
// formats pgx itself asks for, so that they scan as a pgx query's would
// (binary where pgx knows the type).
func (bb *batch) add(ctx context.Context, s string, args []any, read bool) error {
	sql := bb.db.Bind(s)
	// Named by its text, pgx keeps the statement by its text too: no name
	// to compute on every send.
	sd, err := bb.c.Prepare(ctx, sql, sql)
	if err != nil {
		return err
	}
	if len(args) != len(sd.ParamOIDs) {
		return fmt.Errorf("%d arguments for %d parameters: %s", len(args), len(sd.ParamOIDs), s)
	}
	vals := make([][]byte, len(args))
	formats := make([]int16, len(args))
	for i, a := range args {
		oid := sd.ParamOIDs[i]
		formats[i] = bb.m.FormatCodeForOID(oid)
		// Each value is appended to buf, and keeps its own slice of it; an
		// empty value stays a non-nil empty slice (Encode returns nil only
		// for NULL).
		prev := bb.buf
		if bb.buf, err = bb.m.Encode(oid, formats[i], a, bb.buf); err != nil {
			return fmt.Errorf("argument %d of %s: %w", i+1, s, err)
		}
		if bb.buf == nil {
			vals[i], bb.buf = nil, prev // NULL
			continue
		}
		vals[i] = bb.buf[len(prev):len(bb.buf):len(bb.buf)]
	}
	var rf []int16
	if read {
		rf = make([]int16, len(sd.Fields))
		for i, f := range sd.Fields {
			rf[i] = bb.m.FormatCodeForOID(f.DataTypeOID)
		}
	}
	bb.b.ExecPrepared(sd.Name, vals, formats, rf)
	return nil
}

// sendBatch sends the statements q on c in one round trip: each prepared
// once per connection (pgx keeps what a connection prepared), its arguments
// encoded as pgx encodes them, all sent with one Sync (the protocol's batch,
// which pgx's pipeline mode cost more CPU and wake-ups than it saved).
//
// With read, the one-row query it holds is sent last in the same round trip
// and its row kept in read.row; its own failure is the row's error, not
// sendBatch's, which fails only when a queued statement failed.
func sendBatch(ctx context.Context, c *pgx.Conn, db *DB, q []queued, read *rowRead) error {
	bb := newBatch(c, db)
	for _, s := range q {
		if err := bb.add(ctx, s.q, s.args, false); err != nil {
			return err
		}
	}
	if read != nil {
		if err := bb.add(ctx, read.q, read.args, true); err != nil {
			read.row.err = err
			read = nil
		}
	}
	results, err := c.PgConn().ExecBatch(ctx, &bb.b).ReadAll()
	for i, r := range results {
		if i == len(q) && read != nil {
			read.row.set(bb.m, r)
			if r.Err != nil {
				// The read's own failure aborted the transaction; the
				// savepoint it runs in is rolled back by its caller.
				return nil
			}
			break
		}
		if r.Err != nil {
			return errors.Join(err, r.Err)
		}
		q[i].res.n, q[i].res.sent = r.CommandTag.RowsAffected(), true
	}
	if read != nil && len(results) <= len(q) && err == nil {
		read.row.err = errors.New("the read sent with the queued statements had no result")
	}
	if read != nil && len(results) > len(q) {
		// The read's errors are the row's; err holds them too.
		return nil
	}
	return err
}

// rowRead is a one-row query sent after the queued statements.
type rowRead struct {
	q    string
	args []any
	row  *Row
}

// Row is the result of QueryRow: a row of database/sql, or one read with a
// pipelined transaction's queued statements (scanned as pgx scans).
type Row struct {
	row    *sql.Row
	err    error
	m      *pgtype.Map
	fields []pgconn.FieldDescription
	values [][]byte
}

// Scan copies the row's columns into dest; sql.ErrNoRows when there is no
// row.
func (r *Row) Scan(dest ...any) error {
	if r.row != nil {
		return r.row.Scan(dest...)
	}
	if r.err != nil {
		return r.err
	}
	return pgx.ScanRow(r.m, r.fields, r.values, dest...)
}

// set makes r the first row of result res, scanned with m.
func (r *Row) set(m *pgtype.Map, res *pgconn.Result) {
	r.m, r.fields, r.err = m, res.FieldDescriptions, res.Err
	if len(res.Rows) > 0 {
		r.values = res.Rows[0]
	} else if res.Err == nil {
		r.err = sql.ErrNoRows
	}
}

// ErrRow returns a row whose Scan and Err fail with err: what a Queryer
// answers for a query it could not run.
func ErrRow(err error) *Row { return &Row{err: err} }

// Err returns the error of the query, if any, as sql.Row.Err does.
func (r *Row) Err() error {
	if r.row != nil {
		return r.row.Err()
	}
	if errors.Is(r.err, sql.ErrNoRows) {
		return nil
	}
	return r.err
}

// queuedResult is the result of a queued statement.
type queuedResult struct {
	t    *Tx
	sent bool
	n    int64
}

func (r *queuedResult) LastInsertId() (int64, error) {
	return 0, errors.New("LastInsertId is not supported by PostgreSQL")
}

// RowsAffected sends the queue, if the statement is still in it.
func (r *queuedResult) RowsAffected() (int64, error) {
	r.t.settle()
	if !r.sent {
		if err := r.t.Flush(context.Background()); err != nil {
			return 0, err
		}
	}
	return r.n, nil
}

// Dialect tells which SQL engine the transaction runs on.
func (t *Tx) Dialect() Dialect { return t.db.Dialect }

// Commit sends what is queued and commits the transaction.
func (t *Tx) Commit() error {
	if t.bulk != nil {
		return t.endBulk(true)
	}
	t.settle()
	if err := errors.Join(t.failed, t.Flush(context.Background())); err != nil {
		return err
	}
	err := t.tx.Commit()
	t.prepare()
	t.release()
	// Only write transactions commit (Snapshot's end with Rollback).
	if err == nil && t.db.ckpt != nil {
		t.db.ckpt.committed()
	}
	return err
}

// Rollback abandons the transaction; it is safe after Commit.
func (t *Tx) Rollback() error {
	if t.bulk != nil {
		return t.endBulk(false)
	}
	t.settle()
	t.queue = nil
	err := t.tx.Rollback()
	t.prepare()
	t.release()
	return err
}

// release returns a PostgreSQL write transaction's connection to the pool.
func (t *Tx) release() {
	if t.conn != nil {
		t.conn.Close()
		t.conn = nil
	}
}

// Savepoint runs fn inside a savepoint: when fn fails, only its own changes are
// undone and the transaction stays usable.
//
// Savepoints of one transaction follow one another: the one for the next call
// is opened as this one is released, in one round trip on PostgreSQL (the
// statements of the SQLite writer are prepared and cost no trip), so a
// command costs one round trip for its savepoints rather than two. Writes made
// after a successful call and before the next one therefore belong to the
// next call's savepoint, and a failing fn would undo them too; after a failed
// call no savepoint is open, and writes (the writer's alerts) stay.
//
// In a pipelined transaction (Pipeline) fn's writes are sent with the
// release and the next savepoint, in one round trip; when one of them fails,
// fn's savepoint is rolled back and Savepoint returns that error.
func (t *Tx) Savepoint(ctx context.Context, fn func() error) error {
	if !t.inSavepoint {
		if t.pipelined {
			t.spQueued = len(t.queue)
		}
		if _, err := t.Exec(ctx, "SAVEPOINT cmd"); err != nil {
			return err
		}
		t.inSavepoint = true
	}
	err := fn()
	if err == nil && t.pipelined {
		t.queue = append(t.queue, queued{q: "RELEASE SAVEPOINT cmd", res: &queuedResult{t: t}},
			queued{q: "SAVEPOINT cmd", res: &queuedResult{t: t}})
		if t.deferRelease {
			// Sent with the next read: the next savepoint is the last
			// statement queued, and the writes before it are a released
			// savepoint's.
			t.spQueued, t.released = len(t.queue)-1, true
			return nil
		}
		err = t.Flush(ctx)
	}
	if err != nil {
		t.inSavepoint = false
		err = errors.Join(t.failed, err)
		t.failed = nil
		if t.spQueued >= 0 {
			// Nothing since the savepoint was sent: forget fn's writes
			// and the savepoint, keep what was queued before it.
			t.queue, t.spQueued = t.queue[:t.spQueued], -1
			return err
		}
		t.queue = nil
		if rerr := t.script(ctx, "ROLLBACK TO SAVEPOINT cmd", "RELEASE SAVEPOINT cmd"); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	if !t.pipelined {
		if err := t.script(ctx, "RELEASE SAVEPOINT cmd", "SAVEPOINT cmd"); err != nil {
			t.inSavepoint = false
			return err
		}
	}
	return nil
}

// script runs statements that take no parameters: in one round trip on
// PostgreSQL, one by one (each prepared once) on SQLite.
func (t *Tx) script(ctx context.Context, stmts ...string) error {
	if t.db.Dialect == Postgres {
		if err := t.Flush(ctx); err != nil {
			return err
		}
		_, err := t.tx.ExecContext(ctx, strings.Join(stmts, "; "))
		return err
	}
	for _, q := range stmts {
		if _, err := t.Exec(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// PlannerSamples returns how many STAT4 samples SQLite's query planner holds
// (0 on PostgreSQL, and on every file custos made: it never runs ANALYZE).
// Someone who ran ANALYZE or PRAGMA optimize on the file leaves samples
// behind; with them, every statement whose parameter is compared with an
// indexed column is planned again each time it runs, which halved recording
// throughput in the benchmarks (BENCHMARKS.md).
func (db *DB) PlannerSamples(ctx context.Context) (int64, error) {
	if db.Dialect != SQLite {
		return 0, nil
	}
	var tables int
	if err := db.Read().QueryRow(ctx, "SELECT COUNT(*) FROM sqlite_schema WHERE name = 'sqlite_stat4'").Scan(&tables); err != nil || tables == 0 {
		return 0, err
	}
	var n int64
	err := db.Read().QueryRow(ctx, "SELECT COUNT(*) FROM sqlite_stat4").Scan(&n)
	return n, err
}

// ByteOrder tells whether the database sorts text by its bytes, as custos
// asks of a PostgreSQL database (docs/operations.md: LOCALE 'C'), and if not
// which collation it sorts by: lists then come out in another order than on
// SQLite, and an operating system's or ICU's collation update can leave its
// indexes out of order. SQLite always does.
func (db *DB) ByteOrder(ctx context.Context) (ok bool, collation string, err error) {
	if db.Dialect != Postgres {
		return true, "", nil
	}
	// to_jsonb reads the locale provider where the release has one (15 and
	// later) and nothing where it does not.
	var collate, provider, icu string
	if err := db.Read().QueryRow(ctx, `SELECT datcollate, COALESCE(to_jsonb(d)->>'datlocprovider', 'c'), COALESCE(to_jsonb(d)->>'daticulocale', '')
		FROM pg_database d WHERE datname = current_database()`).Scan(&collate, &provider, &icu); err != nil {
		return false, "", err
	}
	if provider != "c" {
		return false, "ICU " + icu, nil
	}
	switch collate {
	case "C", "POSIX", "C.UTF-8", "C.utf8":
		return true, collate, nil
	}
	return false, collate, nil
}

// Backup writes a consistent copy of a SQLite database to path while it is in
// use (VACUUM INTO). PostgreSQL is backed up with pg_dump; see docs/operations.md.
//
// The copy is written under a temporary name beside path (PartialName),
// synced, and linked to path only when it is whole, so that a backup that
// is killed or fails never leaves a file under path that looks like a good
// one; path is never overwritten. A failed backup removes its temporary
// file; a killed one leaves it, under a name no backup is given and that
// the next run does not use (it names the process), and which
// RemoveStalePartials removes once its process no longer runs.
func (db *DB) Backup(ctx context.Context, path string) error {
	if db.Dialect != SQLite || db.Path == "" {
		return errors.New("custos backup copies SQLite databases; back up PostgreSQL with pg_dump (docs/operations.md)")
	}
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%s already exists; custos backup never overwrites", path)
	}
	if st, err := os.Stat(filepath.Dir(path)); err != nil || !st.IsDir() {
		return fmt.Errorf("the folder of %s does not exist: create it first, for custos's user alone (install -d -m 0700)", path)
	}
	tmp := PartialName(path, os.Getpid())
	// A file of this name is from a run of this process id that was
	// killed: no run of it is writing it now, since this process is.
	removePartial(tmp)
	// The copy is created empty and 0600 first (SQLite fills an empty
	// file), so that it is never readable by others, even for a moment.
	if err := createPrivate(tmp); err != nil {
		return fmt.Errorf("create the backup's temporary file: %w", err)
	}
	if err := db.vacuumInto(ctx, tmp); err != nil {
		removePartial(tmp)
		return err
	}
	if err := placeBackup(tmp, path); err != nil {
		removePartial(tmp)
		return err
	}
	return nil
}

// vacuumInto runs VACUUM INTO on the writer connection, which a database
// opened read-only (OpenReadOnly) shares with its readers: there it lifts
// query_only, which refuses VACUUM INTO's writes to the copy, for the
// statement (the file itself stays opened read-only).
func (db *DB) vacuumInto(ctx context.Context, path string) error {
	c, err := db.w.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, "PRAGMA query_only = 0"); err != nil {
		return err
	}
	_, err = c.ExecContext(ctx, "VACUUM INTO ?", path)
	if db.readOnly {
		if _, e := c.ExecContext(context.Background(), "PRAGMA query_only = 1"); e != nil && err == nil {
			err = e
		}
	}
	return err
}

// placeBackup syncs the whole copy tmp and links it to path, refusing a
// path that exists, then removes tmp and syncs the folder, so that path
// names the whole copy once Backup returns, even after a power cut.
func placeBackup(tmp, path string) error {
	if err := syncFile(tmp); err != nil {
		return fmt.Errorf("sync the backup: %w", err)
	}
	err := os.Link(tmp, path)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%s already exists; custos backup never overwrites", path)
	}
	if err != nil {
		// A file system without hard links: rename, after looking once
		// more that nothing took the name meanwhile.
		if _, lerr := os.Lstat(path); lerr == nil {
			return fmt.Errorf("%s already exists; custos backup never overwrites", path)
		}
		if err := os.Rename(tmp, path); err != nil {
			return fmt.Errorf("put the backup in place: %w", err)
		}
	}
	removePartial(tmp)
	if err := syncFile(filepath.Dir(path)); err != nil {
		return fmt.Errorf("sync the backup's folder: %w", err)
	}
	return nil
}

// PartialName is the name under which the backup to path written by
// process pid is written until it is whole: ".NAME.partial-PID" beside it.
func PartialName(path string, pid int) string {
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".partial-"+strconv.Itoa(pid))
}

// Partial is the temporary file of a backup to a path written by another
// process than this one: a backup that did not finish (killed, or the
// machine stopped), or one running now.
type Partial struct {
	Path string
	PID  int // the process that wrote it, from its name
	// Running tells that a process of that number runs on this machine:
	// the backup writing it, or another process that took the number of
	// one that was killed.
	Running bool
}

// Partials lists the temporary files of backups to path: the regular files
// named exactly as PartialName names them for path, by any process but this
// one. None of them is a backup.
func Partials(path string) ([]Partial, error) {
	m, err := filepath.Glob(filepath.Join(filepath.Dir(path), "."+globQuote(filepath.Base(path))+".partial-*"))
	if err != nil {
		return nil, err
	}
	var out []Partial
	for _, f := range m {
		rest := f[strings.LastIndex(f, ".partial-")+len(".partial-"):]
		pid, err := strconv.Atoi(rest)
		if err != nil || pid <= 0 || strconv.Itoa(pid) != rest || pid == os.Getpid() {
			continue
		}
		if fi, err := os.Lstat(f); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		out = append(out, Partial{Path: f, PID: pid, Running: processRunning(pid)})
	}
	return out, nil
}

// RemoveStalePartials removes the temporary files of backups to path
// (Partials) whose process no longer runs on this machine, with their
// rollback journals: what backups that did not finish left, which are no
// backups and may be as large as one. It returns the files it removed; the
// files of running processes are left, and so is a file it cannot remove
// (the first such error is returned). A backup written into a folder
// shared with another machine, or with a container that has processes of
// its own, is told from a stale file by its process number here only:
// give the backups of different machines different names.
func RemoveStalePartials(path string) ([]string, error) {
	ps, err := Partials(path)
	if err != nil {
		return nil, err
	}
	var removed []string
	var first error
	for _, p := range ps {
		if p.Running {
			continue
		}
		if err := os.Remove(p.Path); err != nil {
			if first == nil {
				first = fmt.Errorf("remove what a backup that did not finish left: %w", err)
			}
			continue
		}
		os.Remove(p.Path + "-journal")
		removed = append(removed, p.Path)
	}
	return removed, first
}

// globQuote escapes the characters filepath.Glob reads as a pattern.
func globQuote(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// removePartial removes a backup's temporary file and the rollback journal
// SQLite writes beside it.
func removePartial(tmp string) {
	os.Remove(tmp)
	os.Remove(tmp + "-journal")
}

// syncFile flushes the file or folder at path to stable storage.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if e := f.Close(); err == nil {
		err = e
	}
	return err
}

// createPrivate creates the empty file path with mode 0600, refusing
// (os.ErrExist) one that exists.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	return f.Close()
}

// Exposed returns the files of a SQLite database (the database, its
// write-ahead log and shared-memory files) that the file's group or other
// users may read or write, with their modes: a registry's files should be
// its user's alone (0600). PostgreSQL and in-memory databases have none.
func (db *DB) Exposed() ([]ExposedFile, error) {
	if db.Path == "" {
		return nil, nil
	}
	var out []ExposedFile
	for _, p := range []string{db.Path, db.Path + "-wal", db.Path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if m := fi.Mode().Perm(); m&0o066 != 0 {
			out = append(out, ExposedFile{Path: p, Mode: m})
		}
	}
	return out, nil
}

// ExposedFile is a database file others may read or write (DB.Exposed).
type ExposedFile struct {
	Path string
	Mode os.FileMode
}

// ForeignKeysLater stops the writing connection of a SQLite database from
// checking foreign keys, for a copy into a new file that checks them all at
// its end (PRAGMA foreign_key_check) instead, once its indexes are built: a
// deferred check would look up a parent's children row by row through
// indexes the copy builds only at the end. PostgreSQL: nothing.
func (db *DB) ForeignKeysLater(ctx context.Context) error {
	if db.Dialect != SQLite {
		return nil
	}
	_, err := db.w.ExecContext(ctx, "PRAGMA foreign_keys = OFF")
	return err
}

// NoSync turns off fsync on the writing connections of a SQLite database, for
// bulk generation into a file that is discarded if anything fails.
func (db *DB) NoSync(ctx context.Context) error {
	return db.setSync(ctx, "OFF")
}

func (db *DB) setSync(ctx context.Context, mode string) error {
	if db.Dialect != SQLite {
		return nil
	}
	if _, err := db.w.ExecContext(ctx, "PRAGMA synchronous="+mode); err != nil {
		return err
	}
	if db.ckpt != nil {
		if _, err := db.ckpt.db.ExecContext(ctx, "PRAGMA synchronous="+mode); err != nil {
			return err
		}
	}
	return nil
}

// Checkpoint folds the SQLite write-ahead log into the database file and
// makes it durable.
func (db *DB) Checkpoint(ctx context.Context) error {
	if db.Dialect != SQLite {
		return nil
	}
	if err := db.setSync(ctx, "FULL"); err != nil {
		return err
	}
	_, err := db.w.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}

// Redact returns dsn fit for printing: a PostgreSQL URL without its password.
func Redact(dsn string) string {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	// A password may also be a parameter (pgx takes password= and
	// sslpassword=): masked in place, the others kept as written.
	params := strings.Split(u.RawQuery, "&")
	for i, kv := range params {
		k, _, _ := strings.Cut(kv, "=")
		if name, err := url.QueryUnescape(k); err == nil && (strings.EqualFold(name, "password") || strings.EqualFold(name, "sslpassword")) {
			params[i] = k + "=xxxxx"
		}
	}
	u.RawQuery = strings.Join(params, "&")
	return u.Redacted()
}
