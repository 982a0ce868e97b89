package e2e

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/storetest"
)

// TestBackupRestore backs a registry up while it serves writes, restores the
// copy as docs/operations.md says (SQLite: custos backup, then the file and
// the key file; PostgreSQL: pg_dump, then pg_restore into a new database),
// and checks the restored registry: log verify passes with the public key,
// custos trace follows an organ, every write acknowledged before the backup
// began is served, and it takes new writes.
func TestBackupRestore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		start := time.Now()
		pg := isPostgres(dsn)
		if pg {
			for _, tool := range []string{"pg_dump", "pg_restore"} {
				if _, err := exec.LookPath(tool); err != nil {
					t.Skipf("%s not found: install the PostgreSQL client tools (Debian: postgresql-client) to test PostgreSQL backups", tool)
				}
			}
		}
		reg := initRegistry(t, dsn)
		srv := startServer(t, reg)
		w := newWorld(t, srv.URL, reg.Admin)
		donorID, organ := procuredOrgan(t, srv.URL, w.CoordA)

		// Writes keep coming while the backup runs.
		l := keepRegistering(srv.URL, w.CoordA)
		l.mu.Lock()
		before := maps.Clone(l.acked)
		l.mu.Unlock()

		var restored *registry
		if pg {
			restored = backupPostgres(t, reg, l.Stop)
		} else {
			restored = backupSQLite(t, reg, l.Stop)
		}
		for _, u := range l.unexpected {
			t.Errorf("write during the backup: %s", u)
		}
		srv.stop()

		verifyLog(t, restored.DSN, reg.PublicKey)
		args := []string{"trace", "donor", donorID, "--db", restored.DSN}
		if pg {
			args = append(args, "--key-file", restored.Key)
		} // SQLite: the key file was restored beside the database, its default place.
		if out := mustCLI(t, args...); !strings.Contains(out, organ) {
			t.Errorf("custos trace on the restored registry does not show organ %s:\n%s", organ, out)
		}
		rs := startServer(t, restored)
		servesAcked(t, rs.URL, w.Regulator, before, " in the restored registry")
		must(t, 200, rs.URL, "GET", "/api/v1/transplant/trace/organs/"+organ, w.Regulator, nil)
		body, _ := l.next()
		must(t, 201, rs.URL, "POST", "/api/v1/transplant/recipients", w.CoordA, body)
		rs.stop()
		verifyLog(t, restored.DSN, reg.PublicKey)
		t.Logf("%d writes acknowledged before the backup, %d during it; took %v", len(before), len(l.acked)-len(before), time.Since(start).Round(time.Millisecond))
	})
}

// backupSQLite runs custos backup on the live registry, calls stopLoad, and
// restores the copy into a new folder: the file, and the key file beside it.
func backupSQLite(t *testing.T, reg *registry, stopLoad func()) *registry {
	dir := t.TempDir()
	copyPath := filepath.Join(dir, "backup.db")
	out := mustCLI(t, "backup", "--db", reg.DSN, "--to", copyPath)
	stopLoad()
	if !strings.Contains(out, "key file") {
		t.Errorf("custos backup does not remind that the key file is backed up apart: %q", out)
	}
	if _, _, code := cli(t, "backup", "--db", reg.DSN, "--to", copyPath); code == 0 {
		t.Error("custos backup overwrote an existing file")
	}
	restoreDir := t.TempDir()
	db := filepath.Join(restoreDir, "custos.db")
	copyFile(t, copyPath, db)
	copyFile(t, reg.Key, db+".key")
	return &registry{DSN: db, Key: db + ".key", Admin: reg.Admin, PublicKey: reg.PublicKey}
}

// backupPostgres dumps the registry's schema with pg_dump while it serves,
// calls stopLoad, and restores the dump with pg_restore into a new database.
func backupPostgres(t *testing.T, reg *registry, stopLoad func()) *registry {
	if _, errOut, code := cli(t, "backup", "--db", reg.DSN, "--to", filepath.Join(t.TempDir(), "x.db")); code == 0 || !strings.Contains(errOut, "pg_dump") {
		t.Errorf("custos backup on PostgreSQL: exit %d, want a refusal that points to pg_dump: %s", code, errOut)
	}
	u, err := url.Parse(reg.DSN)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	schema := q.Get("search_path")
	q.Del("search_path") // a custos (pgx) parameter, unknown to libpq
	u.RawQuery = q.Encode()
	libpq := u.String()

	dump := filepath.Join(t.TempDir(), "custos.dump")
	run(t, "pg_dump", "--format=custom", "--schema="+schema, "--file="+dump, "--dbname="+libpq)
	stopLoad()

	b := make([]byte, 6)
	rand.Read(b)
	name := "custos_restore_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", os.Getenv(storetest.EnvPostgres))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		t.Skipf("cannot create a database to restore into (the test role needs CREATEDB): %v", err)
	}
	t.Cleanup(func() {
		admin.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		admin.Close()
	})
	u.Path = "/" + name
	run(t, "pg_restore", "--no-owner", "--exit-on-error", "--dbname="+u.String(), dump)

	key := filepath.Join(t.TempDir(), "restored.key")
	copyFile(t, reg.Key, key)
	q = u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return &registry{DSN: u.String(), Key: key, Admin: reg.Admin, PublicKey: reg.PublicKey}
}

func run(t *testing.T, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", name, err, out)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestBackupKilled kills custos backup with SIGKILL while it writes the copy
// (the registry made large enough, with a table of ballast, that the copy
// takes a while): nothing is left under the backup's name, only the
// temporary file named after the killed process; the next backup to the
// same name removes that leftover, since its process no longer runs, says
// so, succeeds, and its copy verifies.
func TestBackupKilled(t *testing.T) {
	reg := initRegistry(t, storetest.SQLite(t))
	db, err := sql.Open("sqlite", reg.DSN)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, s := range []string{"CREATE TABLE ballast (b BLOB)",
		"INSERT INTO ballast SELECT randomblob(4096) FROM (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 16384) SELECT i FROM n)"} {
		if _, err := db.ExecContext(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	dir := t.TempDir()
	to := filepath.Join(dir, "pb.db")
	cmd := exec.Command(bin, "backup", "--db", reg.DSN, "--to", to)
	cmd.Env = cleanEnv()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	partial := filepath.Join(dir, ".pb.db.partial-"+strconv.Itoa(cmd.Process.Pid))
	for deadline := time.Now().Add(30 * time.Second); ; {
		if fi, err := os.Stat(partial); err == nil && fi.Size() > 0 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("custos backup wrote nothing to %s in 30 s", partial)
		}
		time.Sleep(2 * time.Millisecond)
	}
	cmd.Process.Kill()
	if err := cmd.Wait(); err == nil {
		t.Skip("the backup finished before it could be killed: the ballast is too small for this machine")
	}
	if _, err := os.Stat(to); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a killed backup left a file under the backup's name: %v", err)
	}
	if _, err := os.Stat(partial); err != nil {
		t.Errorf("the killed backup's temporary file: %v", err)
	}

	_, errOut, code := cli(t, "backup", "--db", reg.DSN, "--to", to)
	if code != 0 {
		t.Fatalf("the backup after a killed one: exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "note: removed "+partial+", what a backup that did not finish left") {
		t.Errorf("the next backup does not say it removed the killed one's leftover: %q", errOut)
	}
	for _, f := range []string{partial, partial + "-journal"} {
		if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("after the next backup, the killed one's %s: %v", f, err)
		}
	}
	verifyLog(t, to, reg.PublicKey)
}
