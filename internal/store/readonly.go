package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"modernc.org/sqlite"
)

// OpenReadOnly opens the database named by dsn for a command that only reads
// it (log verify, log key, mail outbox, backup), so that the command leaves
// the registry as it found it: a SQLite file is opened with mode=ro, never
// created, never switched to WAL, and a hot journal beside it is not rolled
// back; a PostgreSQL database's sessions start with
// default_transaction_read_only on. The DB's writes fail.
//
// A SQLite file in WAL mode needs its shared-memory file (FILE-shm) to be
// read: SQLite creates it, and an empty FILE-wal, when they are not there
// (the database file itself is unchanged). Where they cannot be created (a
// read-only folder or medium) the file is opened immutable, which reads the
// file alone without locks, but only when no write-ahead log or rollback
// journal beside it holds changes that reading it alone would miss.
func OpenReadOnly(ctx context.Context, dsn string) (*DB, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return openPostgres(ctx, dsn, true)
	case dsn == "":
		return nil, errors.New("no database given: pass --db PATH or --db postgres://USER@HOST/DATABASE")
	}
	path := strings.TrimPrefix(dsn, "sqlite:")
	if path == "" {
		return nil, errors.New("empty SQLite path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("SQLite %s: %w", abs, err)
	}
	// mode=ro is the operating system's promise (the file is opened
	// read-only); query_only, SQLite's, also refuses a write to a database
	// attached later.
	base := "file:" + (&url.URL{Path: abs}).EscapedPath() + "?mode=ro&_pragma=busy_timeout(10000)&_pragma=query_only(1)" +
		"&_pragma=mmap_size(" + strconv.Itoa(mmapBytes) + ")"
	r, err := openReadPool(ctx, base)
	if err != nil {
		if !cannotReadHere(err) {
			return nil, fmt.Errorf("open SQLite %s read-only: %w", abs, err)
		}
		if side := sideFiles(abs); side != nil {
			return nil, fmt.Errorf("open SQLite %s read-only (%v): %w", abs, err, side)
		}
		// Nothing beside the file: what it holds is all there is, and a
		// folder or medium custos may not write is one no custos writes
		// to either.
		if r, err = openReadPool(ctx, base+"&immutable=1"); err != nil {
			return nil, fmt.Errorf("open SQLite %s read-only: %w", abs, err)
		}
	}
	return &DB{Dialect: SQLite, Path: abs, DSN: dsn, r: r, w: r, readOnly: true}, nil
}

// openReadPool opens a pool of read connections on the SQLite URI and
// reads the schema once, so that a file SQLite cannot read is said here.
func openReadPool(ctx context.Context, uri string) (*sql.DB, error) {
	r, err := sql.Open("sqlite", uri)
	if err != nil {
		return nil, err
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	var n int
	if err := r.QueryRowContext(ctx, "SELECT COUNT(*) FROM sqlite_schema").Scan(&n); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// SQLite's result codes that openReadOnly tells apart.
const (
	sqliteReadOnly = 8
	sqliteCantOpen = 14
)

// cannotReadHere tells whether err is SQLite failing to open a file for
// reading because it may not create or write the files beside it (a
// read-only folder or medium), or because a hot journal would need rolling
// back, which a read-only connection does not do.
func cannotReadHere(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	c := se.Code() & 0xff
	return c == sqliteCantOpen || c == sqliteReadOnly
}

// sideFiles says why a file SQLite cannot open read-only here must not be
// read alone: a rollback journal beside it (a write that did not finish,
// which reading must roll back) or a write-ahead log that holds writes.
func sideFiles(path string) error {
	if fi, err := os.Stat(path + "-journal"); err == nil && fi.Size() > 0 {
		return fmt.Errorf("%s-journal holds a write that did not finish (the program writing the file stopped), which must be rolled back before the file can be read, "+
			"and a read-only command changes nothing: if the file is a backup, it is not a whole one (take another); "+
			"otherwise copy the file and its journal together to a folder you may write and read the copy", path)
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		return fmt.Errorf("%s-wal holds writes not yet in the file, and SQLite cannot create or open %s-shm here to read them (a read-only folder or medium, or a file of another user): "+
			"read it where its server runs, or copy the file with its -wal to a folder you may write and read the copy", path, path)
	}
	return nil
}
