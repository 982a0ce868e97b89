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
	"time"
)

// ScratchCache is the smallest page cache OpenScratch gives its writer.
const ScratchCache = 512 << 20

// OpenScratch opens a SQLite file that holds work to be thrown away if
// anything fails, such as the tables log verify replays: no journal, no
// fsync, a page cache of cacheBytes for its one writer (at least
// ScratchCache; SQLite takes the memory as pages are read, not at once),
// and a pool of readers that read it in parallel once the writer has
// committed. A new file is created 0600. It is not a registry: it is never
// opened with Open.
func OpenScratch(ctx context.Context, path string, cacheBytes int64) (*DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if err := createPrivate(abs); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("create SQLite %s: %w", abs, err)
	}
	base := "file:" + (&url.URL{Path: abs}).EscapedPath() +
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(OFF)&_pragma=synchronous(OFF)&_pragma=foreign_keys(1)" +
		"&_pragma=temp_store(MEMORY)&_pragma=mmap_size(" + strconv.Itoa(mmapBytes) + ")"
	w, err := sql.Open("sqlite", base+"&_pragma=cache_size(-"+strconv.FormatInt(max(cacheBytes, ScratchCache)>>10, 10)+")&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite", base+"&_pragma=query_only(1)&_pragma=cache_size(-65536)")
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(16)
	r.SetMaxIdleConns(16)
	db := &DB{Dialect: SQLite, Path: abs, DSN: abs, r: r, w: w}
	if err := w.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open SQLite %s: %w", abs, err)
	}
	return db, nil
}

// ReleaseWriterCache gives back the page cache of a scratch file's writer
// (OpenScratch), as large as the file it filled: SQLite frees the pages one
// by one, seconds for gigabytes, so a caller done writing in bulk does it
// beside its reads rather than at Close. The writer goes on with SQLite's
// default cache.
func (db *DB) ReleaseWriterCache(ctx context.Context) error {
	_, err := db.w.ExecContext(ctx, "PRAGMA cache_size = -2000")
	return err
}

// AvailableMemory is the memory the system can give without swapping
// (MemAvailable in /proc/meminfo), 0 where it is not known.
func AvailableMemory() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "MemAvailable:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// PageCache sets the page cache of a SQLite transaction's connection to
// bytes, for a long read of a file larger than its memory map (mmapBytes),
// and returns what sets it back as it was; the connection stays in its
// pool. On PostgreSQL it does nothing.
func (t *Tx) PageCache(ctx context.Context, bytes int64) (func(), error) {
	if t.db.Dialect != SQLite {
		return func() {}, nil
	}
	var was int64
	if err := t.tx.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&was); err != nil {
		return nil, err
	}
	if _, err := t.tx.ExecContext(ctx, "PRAGMA cache_size = "+strconv.FormatInt(-(bytes>>10), 10)); err != nil {
		return nil, err
	}
	return func() {
		t.tx.ExecContext(context.WithoutCancel(ctx), "PRAGMA cache_size = "+strconv.FormatInt(was, 10))
	}, nil
}

// Snapshots starts n read-only transactions that all see one state of the
// database, for a check that reads several tables at once on as many
// connections. On PostgreSQL the first exports its snapshot and the others
// import it (SET TRANSACTION SNAPSHOT). On SQLite each reader's snapshot
// starts at its first read, so probe, a query of one row, is run in each
// and all must answer the same, else they are started again: probe must read
// something that every write of interest changes (log verify reads the log
// head, which every command moves).
func (db *DB) Snapshots(ctx context.Context, n int, probe string) ([]*Tx, error) {
	if n < 1 {
		n = 1
	}
	if db.Dialect == Postgres {
		first, err := db.Snapshot(ctx)
		if err != nil {
			return nil, err
		}
		txs := []*Tx{first}
		var id string
		if err := first.QueryRow(ctx, "SELECT pg_export_snapshot()").Scan(&id); err != nil {
			first.Rollback()
			return nil, fmt.Errorf("export snapshot: %w", err)
		}
		for len(txs) < n {
			t, err := db.Snapshot(ctx)
			if err == nil {
				_, err = t.tx.ExecContext(ctx, "SET TRANSACTION SNAPSHOT '"+id+"'")
				if err != nil {
					t.Rollback()
				}
			}
			if err != nil {
				rollbackAll(txs)
				return nil, fmt.Errorf("import snapshot: %w", err)
			}
			txs = append(txs, t)
		}
		return txs, nil
	}
	for try := 0; ; try++ {
		var txs []*Tx
		var first []any
		same := true
		for len(txs) < n && same {
			t, err := db.Snapshot(ctx)
			if err != nil {
				rollbackAll(txs)
				return nil, err
			}
			txs = append(txs, t)
			row, err := probeRow(ctx, t, probe)
			if err != nil {
				rollbackAll(txs)
				return nil, err
			}
			if first == nil {
				first = row
			} else {
				same = fmt.Sprint(row...) == fmt.Sprint(first...)
			}
		}
		if same {
			return txs, nil
		}
		rollbackAll(txs)
		if try == 20 {
			return nil, errors.New("the database changed under every attempt to read it in one state from several connections")
		}
		time.Sleep(time.Duration(try+1) * 5 * time.Millisecond)
	}
}

func probeRow(ctx context.Context, t *Tx, probe string) ([]any, error) {
	rows, err := t.Query(ctx, probe)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	vals := make([]any, len(cols))
	if rows.Next() {
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
	}
	return vals, rows.Err()
}

func rollbackAll(txs []*Tx) {
	for _, t := range txs {
		t.Rollback()
	}
}
