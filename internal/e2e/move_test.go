package e2e

import (
	"maps"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/storetest"
)

// TestMoveToPostgres moves a SQLite registry to PostgreSQL as
// docs/operations.md says. custos move run while the server still takes
// writes copies one consistent state (its check passes) and says that the
// copy lacks what came after; run again after the server stopped, into a
// new schema, it copies everything: the PostgreSQL registry, served with
// the new key file, serves every write acknowledged on SQLite, takes new
// ones, and its log verifies under the key the SQLite registry published.
// A second move into a registry, or onto a key file, is refused.
func TestMoveToPostgres(t *testing.T) {
	pgA, pgB := storetest.Postgres(t), storetest.Postgres(t)
	reg := initRegistry(t, storetest.SQLite(t))
	srv := startServer(t, reg)
	w := newWorld(t, srv.URL, reg.Admin)
	donorID, organ := procuredOrgan(t, srv.URL, w.CoordA)
	l := keepRegistering(srv.URL, w.CoordA)

	dir := t.TempDir()
	keyA, keyB := filepath.Join(dir, "a.key"), filepath.Join(dir, "b.key")
	out, errOut, code := cli(t, "move", "--db", reg.DSN, "--source-key-file", reg.Key, "--to", pgA, "--key-file", keyA)
	l.Stop()
	if !strings.Contains(out, "\nOK: ") || !strings.Contains(out, "name index: ") {
		t.Errorf("custos move during writes: the copy did not check out:\n%s%s", out, errOut)
	}
	if code != 0 && !(code == 1 && strings.Contains(errOut, "after the copy's snapshot")) {
		t.Errorf("custos move during writes: exit %d\n%s%s", code, out, errOut)
	}
	t.Logf("move during writes: exit %d: %s", code, strings.TrimSpace(errOut[strings.LastIndex(strings.TrimSpace(errOut), "\n")+1:]))
	for _, u := range l.unexpected {
		t.Errorf("write during the move: %s", u)
	}
	srv.stop()
	l.mu.Lock()
	acked := maps.Clone(l.acked)
	l.mu.Unlock()

	if _, errOut, code := cli(t, "move", "--db", reg.DSN, "--source-key-file", reg.Key, "--to", pgA, "--key-file", filepath.Join(dir, "c.key")); code != 1 || !strings.Contains(errOut, "already holds a registry") {
		t.Errorf("a second move into a registry: exit %d, want a refusal: %s", code, errOut)
	}
	if _, errOut, code := cli(t, "move", "--db", reg.DSN, "--source-key-file", reg.Key, "--to", pgB, "--key-file", keyA); code != 1 || !strings.Contains(errOut, "never overwrites a key file") {
		t.Errorf("a move onto a key file: exit %d, want a refusal: %s", code, errOut)
	}
	// The move of docs/operations.md: the server stopped.
	out = mustCLI(t, "move", "--db", reg.DSN, "--source-key-file", reg.Key, "--to", pgB, "--key-file", keyB)
	if !strings.Contains(out, "\nOK: ") {
		t.Errorf("custos move:\n%s", out)
	}
	moved := &registry{DSN: pgB, Key: keyB, Admin: reg.Admin, PublicKey: reg.PublicKey}
	verifyLog(t, moved.DSN, reg.PublicKey)
	lite := mustCLI(t, "trace", "donor", donorID, "--db", reg.DSN, "--key-file", reg.Key)
	if pg := mustCLI(t, "trace", "donor", donorID, "--db", moved.DSN, "--key-file", moved.Key); pg != lite || !strings.Contains(pg, organ) {
		t.Errorf("custos trace: on SQLite\n%s\non PostgreSQL\n%s", lite, pg)
	}
	rs := startServer(t, moved)
	servesAcked(t, rs.URL, w.Regulator, acked, " in the moved registry")
	body, _ := l.next()
	must(t, 201, rs.URL, "POST", "/api/v1/transplant/recipients", w.CoordA, body)
	rs.stop()
	verifyLog(t, moved.DSN, reg.PublicKey)
	t.Logf("%d writes acknowledged on SQLite, all served from PostgreSQL", len(acked))
}

// TestMoveBackToSQLite is the way back of docs/operations.md ("Back to
// SQLite"): a PostgreSQL registry copied into a new SQLite file. Run while
// the server still takes writes, the copy is one consistent state (its
// check passes) and the move says what it lacks; run again after the
// server stopped, into another file, the SQLite registry serves every
// write acknowledged on PostgreSQL, takes new ones, and its log verifies
// under the key the registry published. An existing file is never
// overwritten.
func TestMoveBackToSQLite(t *testing.T) {
	reg := initRegistry(t, storetest.Postgres(t))
	srv := startServer(t, reg)
	w := newWorld(t, srv.URL, reg.Admin)
	donorID, organ := procuredOrgan(t, srv.URL, w.CoordA)
	l := keepRegistering(srv.URL, w.CoordA)

	dir := t.TempDir()
	during, back := filepath.Join(dir, "during.db"), filepath.Join(dir, "back.db")
	out, errOut, code := cli(t, "move", "--db", reg.DSN, "--source-key-file", reg.Key, "--to", during)
	l.Stop()
	if !strings.Contains(out, "\nOK: ") || !strings.Contains(out, "name index: ") {
		t.Errorf("custos move back during writes: the copy did not check out:\n%s%s", out, errOut)
	}
	if code != 0 && !(code == 1 && strings.Contains(errOut, "after the copy's snapshot")) {
		t.Errorf("custos move back during writes: exit %d\n%s%s", code, out, errOut)
	}
	t.Logf("move back during writes: exit %d: %s", code, strings.TrimSpace(errOut[strings.LastIndex(strings.TrimSpace(errOut), "\n")+1:]))
	for _, u := range l.unexpected {
		t.Errorf("write during the move: %s", u)
	}
	srv.stop()
	l.mu.Lock()
	acked := maps.Clone(l.acked)
	l.mu.Unlock()

	if _, errOut, code := cli(t, "move", "--db", reg.DSN, "--source-key-file", reg.Key, "--to", during, "--key-file", filepath.Join(dir, "x.key")); code != 1 || !strings.Contains(errOut, "never overwrites a registry") {
		t.Errorf("a move back onto a file: exit %d, want a refusal: %s", code, errOut)
	}
	out = mustCLI(t, "move", "--db", reg.DSN, "--source-key-file", reg.Key, "--to", back)
	if !strings.Contains(out, "\nOK: ") {
		t.Errorf("custos move back:\n%s", out)
	}
	moved := &registry{DSN: back, Key: back + ".key", Admin: reg.Admin, PublicKey: reg.PublicKey}
	verifyLog(t, moved.DSN, reg.PublicKey)
	pg := mustCLI(t, "trace", "donor", donorID, "--db", reg.DSN, "--key-file", reg.Key)
	if lite := mustCLI(t, "trace", "donor", donorID, "--db", moved.DSN); lite != pg || !strings.Contains(lite, organ) {
		t.Errorf("custos trace: on PostgreSQL\n%s\non SQLite\n%s", pg, lite)
	}
	rs := startServer(t, moved)
	servesAcked(t, rs.URL, w.Regulator, acked, " in the registry moved back")
	body, _ := l.next()
	must(t, 201, rs.URL, "POST", "/api/v1/transplant/recipients", w.CoordA, body)
	rs.stop()
	verifyLog(t, moved.DSN, reg.PublicKey)
	t.Logf("%d writes acknowledged on PostgreSQL, all served from SQLite", len(acked))
}
