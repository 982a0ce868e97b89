package e2e

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
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
