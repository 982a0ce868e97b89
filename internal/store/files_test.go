package store

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestFilesArePrivate creates a SQLite registry under a permissive umask and
// checks that the database, its write-ahead log and shared-memory files and
// a backup are each created 0600, like the key file; then that a database
// made readable by others is reported by Exposed.
func TestFilesArePrivate(t *testing.T) {
	old := syscall.Umask(0o002) // the most permissive umask a distribution ships
	t.Cleanup(func() { syscall.Umask(old) })
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "custos.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	tx, err := db.BeginWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "CREATE TABLE t (x TEXT)"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "copy.db")
	if err := db.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm", backup} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(p), err)
		}
		if m := fi.Mode().Perm(); m != 0o600 {
			t.Errorf("%s was created %04o, want 0600", filepath.Base(p), m)
		}
	}
	if err := db.Backup(ctx, backup); err == nil {
		t.Error("a second backup to the same file was written, want it refused")
	}
	if ex, err := db.Exposed(); err != nil || len(ex) != 0 {
		t.Fatalf("Exposed() = %v, %v on private files, want none", ex, err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	ex, err := db.Exposed()
	if err != nil || len(ex) != 1 || ex[0].Path != path || ex[0].Mode != 0o640 {
		t.Fatalf("Exposed() = %v, %v after chmod 0640, want the database file with mode 0640", ex, err)
	}
}
