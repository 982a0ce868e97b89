package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestCheckpointerBoundsTheLog writes far more than restartFrames pages
// through the writer, back to back, and checks that the write-ahead log
// stayed bounded and the pages reached the database file.
func TestCheckpointerBoundsTheLog(t *testing.T) {
	ctx := context.Background()
	db, path := openTemp(t)
	if err := db.NoSync(ctx); err != nil { // the bound, not durability, is tested here
		t.Fatal(err)
	}
	var auto int
	if err := db.w.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&auto); err != nil || auto != restartFrames {
		t.Fatalf("writer's wal_autocheckpoint = %d (%v), want %d", auto, err, restartFrames)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		tx, err := db.BeginWrite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	exec("CREATE TABLE blobs (id INTEGER PRIMARY KEY, b BLOB NOT NULL)")
	const pageSize = 4096
	blob := make([]byte, 16*pageSize)
	written := 0
	maxWAL := int64(0)
	for i := 0; written < 3*restartFrames; i++ {
		exec("INSERT INTO blobs (b) VALUES (?)", blob)
		written += len(blob) / pageSize
		if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > maxWAL {
			maxWAL = fi.Size()
		}
	}
	// The log passes restartFrames by at most the commit that crossed it.
	if limit := int64(2 * restartFrames * (pageSize + 24)); maxWAL > limit {
		t.Errorf("the write-ahead log reached %d bytes after %d pages written, want at most %d", maxWAL, written, limit)
	}
	if maxWAL == 0 {
		t.Fatal("no write-ahead log was ever seen: is the file in WAL mode?")
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if min := int64(written/2) * pageSize; fi.Size() < min {
		t.Errorf("the database file holds %d bytes after %d pages written: the checkpointer copied too little", fi.Size(), written)
	}
}

// TestCheckpointerCopiesBesideTheWriter writes fewer pages than the writer's
// own checkpoint threshold and checks that they reach the database file all
// the same: the checkpointer copied them.
func TestCheckpointerCopiesBesideTheWriter(t *testing.T) {
	ctx := context.Background()
	db, path := openTemp(t)
	const pages = restartFrames / 4
	tx, err := db.BeginWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(ctx, "CREATE TABLE blobs (id INTEGER PRIMARY KEY, b BLOB NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO blobs (b) VALUES (?)", make([]byte, pages*4096)); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var size int64
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if size = fi.Size(); size >= pages*4096 {
			return
		}
	}
	t.Fatalf("the database file holds %d bytes 10 s after a commit of %d pages: nothing checkpointed it", size, pages)
}

// TestReadsAreMapped checks that every SQLite connection reads the file
// through a memory map.
func TestReadsAreMapped(t *testing.T) {
	ctx := context.Background()
	db, _ := openTemp(t)
	for _, c := range []struct {
		name string
		n    func() (int64, error)
	}{
		{"reader", func() (n int64, err error) { return n, db.r.QueryRowContext(ctx, "PRAGMA mmap_size").Scan(&n) }},
		{"writer", func() (n int64, err error) { return n, db.w.QueryRowContext(ctx, "PRAGMA mmap_size").Scan(&n) }},
	} {
		n, err := c.n()
		if err != nil {
			t.Fatal(err)
		}
		if n != mmapBytes {
			t.Errorf("%s connection: mmap_size = %d, want %d", c.name, n, mmapBytes)
		}
	}
}

// openTemp opens a new SQLite file, closed when the test ends.
func openTemp(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.db")
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}
