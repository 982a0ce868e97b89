package store

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// checkpointer folds SQLite's write-ahead log back into the database file on
// a connection of its own. SQLite's automatic checkpoint runs inside the
// commit that takes the log past its threshold, so the single writer would
// copy those pages and wait for the database file's fsync while every queued
// command waits behind it; here that work runs beside the writer instead.
//
// A passive checkpoint never blocks the writer, but the log starts over from
// its beginning only when a write transaction begins with every frame
// copied, which a busy writer, appending while the checkpoint runs, seldom
// sees. So the writer keeps SQLite's automatic checkpoint, at restartFrames
// rather than 1,000: when the log reaches that size, the writer copies what
// the checkpointer has not yet copied (little, as a rule) and the log starts
// over. A checkpointer that waited for the writer instead (a RESTART
// checkpoint) would starve while the writer runs back to back.
type checkpointer struct {
	db      *sql.DB
	kick    chan struct{}
	stop    chan struct{}
	stopped sync.WaitGroup
}

const (
	// checkpointEvery spaces checkpoints while commits keep arriving: each
	// one ends with an fsync of the database file.
	checkpointEvery = 50 * time.Millisecond
	// restartFrames bounds the log, as the writer's automatic checkpoint
	// threshold: about 32 MiB of 4 KiB pages.
	restartFrames = 8192
)

func newCheckpointer(db *sql.DB) *checkpointer {
	c := &checkpointer{db: db, kick: make(chan struct{}, 1), stop: make(chan struct{})}
	c.stopped.Add(1)
	go c.loop()
	return c
}

// committed tells the checkpointer that the log grew. It never blocks.
func (c *checkpointer) committed() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *checkpointer) loop() {
	defer c.stopped.Done()
	for {
		select {
		case <-c.kick:
		case <-c.stop:
			return
		}
		c.run()
		select {
		case <-time.After(checkpointEvery):
		case <-c.stop:
			return
		}
	}
}

// run checkpoints once. A failure is left for the next commit to retry: the
// log keeps every committed page until a checkpoint copies it, so nothing is
// lost meanwhile.
func (c *checkpointer) run() {
	_, _ = c.db.ExecContext(context.Background(), "PRAGMA wal_checkpoint(PASSIVE)")
}

// close stops the checkpointer and closes its connection.
func (c *checkpointer) close() error {
	close(c.stop)
	c.stopped.Wait()
	return c.db.Close()
}
