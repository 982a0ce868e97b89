package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// bulk groups the write transactions of a bulk load (DB.Bulk) into one
// SQLite transaction each `every` of them.
type bulk struct {
	every int

	mu   sync.Mutex
	tx   *sql.Tx // the group's transaction, nil between groups
	n    int     // write transactions released into it
	open bool    // a write transaction of the group is running
	err  error   // a failed group commit, which fails every later write
}

// Bulk makes the write transactions of a SQLite database commit in groups,
// for one client loading a new file that is thrown away if anything fails
// (the demo): each BeginWrite opens a savepoint in a transaction kept open,
// its Commit releases the savepoint, and every `every` of them, or at end, the
// transaction commits. A transaction's Commit therefore no longer makes it
// durable, or visible to other connections, until its group commits; the
// reads of db.Read() run in the group's transaction (one at a time, as in a
// snapshot), so the client reads what it wrote. Reads of the pool itself
// (ReadPool), snapshots and db.Read().Exec commit the group first. end
// commits what is left and returns to one commit a transaction; nothing else
// may use the database after an error. On PostgreSQL Bulk does nothing.
func (db *DB) Bulk(every int) (end func() error) {
	if db.Dialect != SQLite || db.ckpt == nil {
		return func() error { return nil }
	}
	b := &bulk{every: max(every, 1)}
	db.bulk.Store(b)
	return func() error {
		db.bulk.Store(nil)
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.open {
			return errors.New("bulk load ended inside a write transaction")
		}
		return db.commitGroup(b)
	}
}

// beginBulk starts a write transaction of the group, opening the group's
// transaction when none is.
func (db *DB) beginBulk(ctx context.Context, b *bulk) (*Tx, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return nil, b.err
	}
	if b.open {
		return nil, errors.New("bulk load: a write transaction began inside another")
	}
	if b.tx == nil {
		tx, err := db.w.BeginTx(ctx, nil)
		if err != nil {
			return nil, err
		}
		b.tx = tx
	}
	t := &Tx{db: db, tx: b.tx, cache: db.stmtCache(), spQueued: -1, bulk: b}
	if err := t.script(ctx, "SAVEPOINT bulk"); err != nil {
		return nil, err
	}
	b.open = true
	return t, nil
}

// endBulk ends t, a write transaction of a group: commit releases its
// savepoint (and the group commits when it is full), else it is rolled back.
func (t *Tx) endBulk(commit bool) error {
	b := t.bulk
	b.mu.Lock()
	defer b.mu.Unlock()
	if t.ended {
		return nil
	}
	t.ended, b.open = true, false
	ctx := context.Background()
	if !commit {
		return t.script(ctx, "ROLLBACK TO SAVEPOINT bulk", "RELEASE SAVEPOINT bulk")
	}
	if err := t.script(ctx, "RELEASE SAVEPOINT bulk"); err != nil {
		return err
	}
	if b.n++; b.n < b.every {
		return nil
	}
	return t.db.commitGroup(b)
}

// commitGroup commits the group's transaction, if one is open; b.mu is held.
func (db *DB) commitGroup(b *bulk) error {
	if b.tx == nil {
		return nil
	}
	err := b.tx.Commit()
	b.tx, b.n = nil, 0
	if err != nil {
		b.err = err
	}
	(&Tx{db: db, cache: db.stmtCache()}).prepare()
	db.ckpt.committed()
	return err
}

// bulkRead returns the group's transaction for the reads of db.Read(), or
// nil outside a bulk load or between groups.
func (db *DB) bulkRead() *Tx {
	b := db.bulk.Load()
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tx == nil {
		return nil
	}
	return &Tx{db: db, tx: b.tx, cache: db.stmtCache(), spQueued: -1}
}

// flushBulk commits the group, unless a write transaction of it is running,
// before a read or write that does not go through it.
func (db *DB) flushBulk() {
	b := db.bulk.Load()
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.open {
		_ = db.commitGroup(b) // a failure fails the next write (b.err)
	}
}
