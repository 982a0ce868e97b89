package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// mustSQLite opens a new SQLite file in dir with a table t of n rows.
func mustSQLite(tb testing.TB, path string, n int) *DB {
	tb.Helper()
	ctx := context.Background()
	db, err := Open(ctx, path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	mustWrite(tb, db, "CREATE TABLE t (x TEXT)")
	for range n {
		mustWrite(tb, db, "INSERT INTO t VALUES (hex(randomblob(64)))")
	}
	return db
}

func mustWrite(tb testing.TB, db *DB, stmt string) {
	tb.Helper()
	ctx := context.Background()
	tx, err := db.BeginWrite(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := tx.Exec(ctx, stmt); err != nil {
		tb.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
}

// folder returns the names in dir with the SHA-256 of each file.
func folder(tb testing.TB, dir string) map[string][32]byte {
	tb.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string][32]byte{}
	for _, e := range es {
		if e.IsDir() {
			out[e.Name()+"/"] = [32]byte{}
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		out[e.Name()] = sha256.Sum256(b)
	}
	return out
}

func count(tb testing.TB, db *DB) int {
	tb.Helper()
	var n int
	if err := db.Read().QueryRow(context.Background(), "SELECT COUNT(*) FROM t").Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

// readOnlyFolder makes dir and its files read-only until the test ends.
// Run as root the modes do not stop writes: the tests also compare every
// file's bytes and the names in the folder before and after.
func readOnlyFolder(tb testing.TB, dir string) {
	tb.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range es {
		if err := os.Chmod(filepath.Join(dir, e.Name()), 0o400); err != nil {
			tb.Fatal(err)
		}
	}
	if err := os.Chmod(dir, 0o500); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.Chmod(dir, 0o700) })
}

// TestOpenReadOnlyChangesNothing opens a backup (a file in rollback-journal
// mode, as VACUUM INTO writes it) read-only in a read-only folder: it reads
// the rows, in several snapshots, refuses a write, and leaves the folder as
// it was, the file's bytes the same, no write-ahead log or shared-memory
// file beside it, the file still in rollback-journal mode.
func TestOpenReadOnlyChangesNothing(t *testing.T) {
	ctx := context.Background()
	src := mustSQLite(t, filepath.Join(t.TempDir(), "custos.db"), 50)
	dir := t.TempDir()
	path := filepath.Join(dir, "backup.db")
	if err := src.Backup(ctx, path); err != nil {
		t.Fatal(err)
	}
	before := folder(t, dir)
	readOnlyFolder(t, dir)

	db, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, db); n != 50 {
		t.Errorf("read %d rows, want 50", n)
	}
	snaps, err := db.Snapshots(ctx, 3, "SELECT COUNT(*) FROM t")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range snaps {
		s.Rollback()
	}
	if _, err := db.Read().Exec(ctx, "INSERT INTO t VALUES ('x')"); err == nil {
		t.Error("a write through a read-only database succeeded")
	}
	var mode string
	if err := db.Read().QueryRow(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "delete" {
		t.Errorf("journal mode %q, %v; want delete", mode, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if after := folder(t, dir); !equalFolders(before, after) {
		t.Errorf("the folder changed: before %v, after %v", names(before), names(after))
	}
}

func equalFolders(a, b map[string][32]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func names(m map[string][32]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestOpenReadOnlyServed reads a registry's file while another connection
// writes it in WAL mode, as log verify reads a registry being served: the
// reader sees every committed write, those still in the write-ahead log
// included.
func TestOpenReadOnlyServed(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "custos.db")
	w := mustSQLite(t, path, 10)
	db, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n := count(t, db); n != 10 {
		t.Errorf("read %d rows, want 10", n)
	}
	mustWrite(t, w, "INSERT INTO t VALUES ('more')")
	if n := count(t, db); n != 11 {
		t.Errorf("after a write, read %d rows, want 11", n)
	}
}

// TestOpenReadOnlyWAL reads a WAL-mode file that no server holds open:
// SQLite makes its shared-memory file and an empty write-ahead log beside
// it to read it, the file itself stays as it was. In a folder custos may
// not write, where it cannot make them, the file is read alone (immutable):
// that part runs only for a user that chmod stops (not root).
func TestOpenReadOnlyWAL(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "custos.db")
	w, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, w, "CREATE TABLE t (x TEXT)")
	for range 10 {
		mustWrite(t, w, "INSERT INTO t VALUES ('x')")
	}
	if err := w.Close(); err != nil { // the last connection checkpoints and removes the log
		t.Fatal(err)
	}
	before := folder(t, dir)
	readOnlyFolder(t, dir)
	db, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatalf("a WAL-mode file no server holds: %v", err)
	}
	if n := count(t, db); n != 10 {
		t.Errorf("read %d rows, want 10", n)
	}
	db.Close()
	after := folder(t, dir)
	if after["custos.db"] != before["custos.db"] {
		t.Error("the database file changed")
	}
	if os.Geteuid() != 0 && !equalFolders(before, after) {
		t.Errorf("in a read-only folder, the folder changed: before %v, after %v", names(before), names(after))
	}
}

// TestSideFiles checks what makes a file that cannot be opened read-only
// where it is unfit to be read alone: a rollback journal or a write-ahead
// log that holds something; empty ones do not.
func TestSideFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "custos.db")
	for _, c := range []struct {
		suffix, content, want string
	}{
		{"-wal", "", ""},
		{"-journal", "", ""},
		{"-wal", "frames", "-wal holds writes not yet in the file"},
		{"-journal", "pages", "-journal holds a write that did not finish"},
	} {
		if err := os.WriteFile(path+c.suffix, []byte(c.content), 0o600); err != nil {
			t.Fatal(err)
		}
		err := sideFiles(path)
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s of %d bytes: %v; want %q", c.suffix, len(c.content), err, c.want)
		}
		os.Remove(path + c.suffix)
	}
}

// TestOpenReadOnlyHotJournal reads a copy of a file taken in the middle of a
// write in rollback-journal mode, with its journal: the copy's journal is
// hot. Reading it would roll the write back, which a read-only open does
// not do: it is refused, saying so, and the files are unchanged.
func TestOpenReadOnlyHotJournal(t *testing.T) {
	ctx := context.Background()
	live := filepath.Join(t.TempDir(), "live.db")
	w, err := sql.Open("sqlite", live)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	c, err := w.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, s := range []string{"PRAGMA journal_mode = DELETE", "CREATE TABLE t (x TEXT)",
		"INSERT INTO t SELECT hex(randomblob(64)) FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) SELECT i FROM n)",
		"PRAGMA cache_size = 1", "BEGIN", "UPDATE t SET x = hex(randomblob(64))"} {
		if _, err := c.ExecContext(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "copy.db")
	for _, suffix := range []string{"", "-journal"} {
		b, err := os.ReadFile(live + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path+suffix, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	c.ExecContext(ctx, "ROLLBACK")
	before := folder(t, dir)
	if db, err := OpenReadOnly(ctx, path); err == nil {
		db.Close()
		t.Error("a file with a hot journal was opened read-only")
	} else if !strings.Contains(err.Error(), "-journal holds a write that did not finish") {
		t.Errorf("refusal: %v", err)
	}
	if after := folder(t, dir); !equalFolders(before, after) {
		t.Errorf("the folder changed: before %v, after %v", names(before), names(after))
	}
}

// TestBackupPartial checks that a backup is written under its temporary
// name and put in place whole: a leftover temporary file of a killed run
// neither blocks the next backup nor is taken for one (Partials names it),
// a backup that fails leaves nothing behind, and the backup's name is never
// overwritten.
func TestBackupPartial(t *testing.T) {
	ctx := context.Background()
	db := mustSQLite(t, filepath.Join(t.TempDir(), "custos.db"), 20)
	dir := t.TempDir()
	path := filepath.Join(dir, "pb.db")
	stale := PartialName(path, 999999999)
	if err := os.WriteFile(stale, []byte("half a backup"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := Partials(path); err != nil || !slices.Equal(got, []Partial{{Path: stale, PID: 999999999}}) {
		t.Errorf("Partials = %v, %v; want %v", got, err, stale)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := db.Backup(cancelled, path); err == nil {
		t.Error("a cancelled backup succeeded")
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed backup left %s: %v", path, err)
	}
	if got := names(folder(t, dir)); !slices.Equal(got, []string{filepath.Base(stale)}) {
		t.Errorf("after a failed backup the folder holds %v", got)
	}

	if err := db.Backup(ctx, path); err != nil {
		t.Fatal(err)
	}
	if got := names(folder(t, dir)); !slices.Equal(got, []string{filepath.Base(stale), "pb.db"}) {
		t.Errorf("after a backup the folder holds %v", got)
	}
	b, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, b); n != 20 {
		t.Errorf("the backup holds %d rows, want 20", n)
	}
	b.Close()
	sum := folder(t, dir)["pb.db"]
	if err := db.Backup(ctx, path); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("a second backup to %s: %v", path, err)
	}
	if folder(t, dir)["pb.db"] != sum {
		t.Error("the refused backup changed the first one")
	}

	// A backup of a database opened read-only (custos backup) copies it
	// the same, and leaves it in read-only mode.
	ro, err := OpenReadOnly(ctx, db.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if err := ro.Backup(ctx, filepath.Join(dir, "ro.db")); err != nil {
		t.Fatal(err)
	}
	if _, err := ro.Read().Exec(ctx, "INSERT INTO t VALUES ('x')"); err == nil {
		t.Error("after a backup, a write through the read-only database succeeded")
	}
}

// TestRemoveStalePartials: what backups to a name that did not finish left
// is removed, with its rollback journal, when its process no longer runs;
// the file of a running process is left (a backup running now), and so is
// every file not named exactly as a backup to that name names it: another
// name's, a number written otherwise, a folder, a link.
func TestRemoveStalePartials(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "pb.db")
	dead := PartialName(path, 999999999)
	running := PartialName(path, os.Getppid())
	write := func(name string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte("half a backup"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Base(dead))
	write(filepath.Base(dead) + "-journal")
	write(filepath.Base(running))
	kept := []string{".pb.db.partial-0999999998", ".pb.db.partial-+999999997", ".pb.db.partial-999999996x",
		".pb.db.partial-0", ".pb.db.partial-", "pb.db.partial-999999995", ".pb.dbx.partial-999999994", ".qb.db.partial-999999993"}
	for _, k := range kept {
		write(k)
	}
	if err := os.Mkdir(filepath.Join(dir, ".pb.db.partial-999999992"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "pb.db.partial-999999995"), filepath.Join(dir, ".pb.db.partial-999999991")); err != nil {
		t.Fatal(err)
	}
	before := folder(t, dir)

	removed, err := RemoveStalePartials(path)
	if err != nil || !slices.Equal(removed, []string{dead}) {
		t.Errorf("RemoveStalePartials = %v, %v; want %v", removed, err, []string{dead})
	}
	want := names(before)
	want = slices.DeleteFunc(want, func(n string) bool { return n == filepath.Base(dead) || n == filepath.Base(dead)+"-journal" })
	if got := names(folder(t, dir)); !slices.Equal(got, want) {
		t.Errorf("after RemoveStalePartials the folder holds %v, want %v", got, want)
	}
	left, err := Partials(path)
	if err != nil || !slices.Equal(left, []Partial{{Path: running, PID: os.Getppid(), Running: true}}) {
		t.Errorf("Partials after = %v, %v; want the running process's only", left, err)
	}
	if removed, err := RemoveStalePartials(path); err != nil || len(removed) != 0 {
		t.Errorf("RemoveStalePartials again = %v, %v", removed, err)
	}
}
