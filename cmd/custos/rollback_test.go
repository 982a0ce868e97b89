package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/privacy"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
)

// TestVerifyFromWithWitnessState runs custos log verify --from STATE
// --witness-state W, as docs/operations.md tells the auditor to, on a real
// registry: it passes on the untouched log; once the registry is rolled
// back to the size the auditor's state was saved at (the newest leaves, their
// nodes and rows deleted, the older checkpoint put back), --from alone
// passes, and with the state of a witness (custos log watch) that saw the
// log beyond it, it fails naming the rollback.
func TestVerifyFromWithWitnessState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		dir := t.TempDir()
		audit, witnessed := filepath.Join(dir, "audit.json"), filepath.Join(dir, "witness.json")
		keyFile, tokenFile, _, fp := initLogged(t, dsn, dir)
		custos(t, 0, "log", "verify", "--db", dsn, "--key-fingerprint", fp, "--save-state", audit)

		// The registry grows past the auditor's state, and a witness sees it.
		app, err := server.Open(ctx, server.Config{DSN: dsn, KeyFile: keyFile})
		if err != nil {
			t.Fatal(err)
		}
		var size int64
		var root []byte
		var signed string
		if err := app.DB.Read().QueryRow(ctx, "SELECT size, root, checkpoint FROM log_state WHERE id = 1").Scan(&size, &root, &signed); err != nil {
			t.Fatal(err)
		}
		token, err := os.ReadFile(tokenFile)
		if err != nil {
			t.Fatal(err)
		}
		admin, err := auth.Authenticate(ctx, app.DB.Read(), strings.TrimSpace(string(token)))
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if _, err := app.Authorities.CreateAuthority(ctx, admin, auth.NewAuthority{Name: fmt.Sprintf("Rolled back %d", i), Kind: "regulator", Jurisdiction: "XA"}); err != nil {
				t.Fatal(err)
			}
		}
		srv := httptest.NewServer(app.Handler())
		out, _ := custos(t, 0, "log", "watch", srv.URL, "--state", witnessed, "--no-cosign", "--key-fingerprint", fp)
		srv.Close()
		app.Close()
		if !strings.Contains(out, fmt.Sprintf("kept the checkpoint of %d leaves", size+3)) {
			t.Fatalf("log watch: %s", out)
		}
		out, _ = custos(t, 0, "log", "verify", "--db", dsn, "--from", audit, "--witness-state", witnessed)
		if !strings.Contains(out, fmt.Sprintf("\nOK: %d leaves, ", size+3)) {
			t.Errorf("verify --from --witness-state of the untouched log: %s", out)
		}

		// The rollback: the newest leaves, their nodes and rows gone, the
		// older head and checkpoint back.
		db, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		exec := func(q string, args ...any) {
			if _, err := db.Read().Exec(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
		}
		exec("DELETE FROM log_leaves WHERE idx >= ?", size)
		exec("DELETE FROM authorities WHERE name LIKE 'Rolled back %'")
		for level := range 32 {
			exec("DELETE FROM log_nodes WHERE level = ? AND idx >= ?", level, size>>level)
		}
		exec("UPDATE log_state SET size = ?, root = ?, checkpoint = ? WHERE id = 1", size, root, signed)
		db.Close()
		out, _ = custos(t, 0, "log", "verify", "--db", dsn, "--from", audit)
		if !strings.Contains(out, fmt.Sprintf("\nOK: %d leaves, ", size)) {
			t.Errorf("verify --from of the rolled-back log: %s", out)
		}
		out, _ = custos(t, 1, "log", "verify", "--db", dsn, "--from", audit, "--witness-state", witnessed)
		want := fmt.Sprintf("FAIL log_leaves: the log has %d leaves, but a witness saw it with %d: it was rolled back or cut", size, size+3)
		if !strings.Contains(out, want) || strings.Contains(out, "OK: ") {
			t.Errorf("verify --from --witness-state of the rolled-back log:\n%s\nwant %q", out, want)
		}
	})
}

// initLogged makes a registry with custos init in dir, and reads its log
// key and the key's fingerprint as custos log key prints them.
func initLogged(t *testing.T, dsn, dir string) (keyFile, tokenFile, logKey, fingerprint string) {
	t.Helper()
	keyFile, tokenFile = filepath.Join(dir, "custos.key"), filepath.Join(dir, "admin.token")
	custos(t, 0, "init", "--db", dsn, "--key-file", keyFile, "--jurisdiction", "XA", "--admin-token-file", tokenFile)
	out, _ := custos(t, 0, "log", "key", "--db", dsn, "--key-file", keyFile)
	logKey = strings.SplitN(out, "\n", 2)[0]
	for _, line := range strings.Split(out, "\n") {
		if f, ok := strings.CutPrefix(line, "fingerprint "); ok {
			fingerprint = f
		}
	}
	return keyFile, tokenFile, logKey, fingerprint
}

// TestVerifyRefusesAMissingFolder: custos log verify with --save-state or
// --state-key in a folder that does not exist is a usage error (exit 2,
// naming the flag and the folder), said before the log is read, not a
// failed check (exit 1, which says the log does not match); nothing is
// written.
func TestVerifyRefusesAMissingFolder(t *testing.T) {
	dir := t.TempDir()
	dsn := filepath.Join(dir, "custos.db")
	_, _, _, fp := initLogged(t, dsn, dir)
	missing := filepath.Join(dir, "missing")
	notFolder := filepath.Join(dir, "custos.key")
	for _, c := range []struct {
		flag, folder string
		args         []string
	}{
		{"--save-state", missing, []string{"--save-state", filepath.Join(missing, "audit.json")}},
		{"--save-state", notFolder, []string{"--save-state", filepath.Join(notFolder, "audit.json")}},
		{"--state-key", missing, []string{"--save-state", filepath.Join(dir, "audit.json"), "--state-key", filepath.Join(missing, "state.key")}},
	} {
		_, errOut := custos(t, 2, append([]string{"log", "verify", "--db", dsn, "--key-fingerprint", fp}, c.args...)...)
		if !strings.Contains(errOut, c.flag+": ") || !strings.Contains(errOut, c.folder) {
			t.Errorf("%q: %q, want it to name %s and %s", c.args, errOut, c.flag, c.folder)
		}
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("the missing folder: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "audit.json")); !os.IsNotExist(err) {
		t.Errorf("a refused verify saved its state: %v", err)
	}
}

// TestLogKeyChecksTheMasterKey: custos log key --key-file tests a copy of
// the key file against the registry, as docs/operations.md says to: its log
// key, and its master key by opening a sealed record with it. A copy whose
// log key is the registry's and whose master key is not (it would sign, and
// never open a name) is refused, exit 1; before, log key checked the log key
// only and said OK.
func TestLogKeyChecksTheMasterKey(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dsn := filepath.Join(dir, "custos.db")
	keyFile, _, _, _ := initLogged(t, dsn, dir)
	keys, err := server.LoadKeys(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	vault, err := privacy.NewVault(keys.Master)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vault.Store(ctx, tx, "SU-TEST", privacy.Person{Name: "Synthetic Person"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if out, _ := custos(t, 0, "log", "key", "--db", dsn, "--key-file", keyFile); !strings.Contains(out, "its master key opens the registry's sealed records") {
		t.Errorf("log key with the registry's key file:\n%s", out)
	}
	keys.Master = bytes.Repeat([]byte{7}, privacy.KeySize)
	other := filepath.Join(dir, "other.key")
	if err := keys.Save(other); err != nil {
		t.Fatal(err)
	}
	if _, errOut := custos(t, 1, "log", "key", "--db", dsn, "--key-file", other); !strings.Contains(errOut, "its master key does not open the registry's sealed records") || strings.Contains(errOut, "Synthetic") {
		t.Errorf("log key with another master key: %s", errOut)
	}
}
