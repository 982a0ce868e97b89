//go:build unix

package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRegistryOfAnotherUser serves a SQLite registry whose file the
// server's user may not open, as after a custos init run as root (sudo
// forgotten) for a server that runs as custos's own user: serve stops, and
// says which user may not write which file and what to do, where SQLite
// alone says "unable to open database file". As root the server runs as
// nobody; as another user the file is made unreadable to its owner.
func TestRegistryOfAnotherUser(t *testing.T) {
	dir, err := os.MkdirTemp("", "custos-owner-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// A folder the other user may enter and write, so that only the
	// registry's file stands in its way.
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "custos.db")
	if _, stderr, code := cli(t, "init", "--db", db, "--jurisdiction", "XA"); code != 0 {
		t.Fatalf("init: exit %d: %s", code, stderr)
	}
	exe := bin
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		// The test's binary is in a folder only root enters: a copy the
		// other user may run.
		exe = filepath.Join(dir, "custos")
		b, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(exe, b, 0o755); err != nil {
			t.Fatal(err)
		}
		cred = &syscall.Credential{Uid: 65534, Gid: 65534} // nobody
	} else if err := os.Chmod(db, 0); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "serve", "--db", db, "--addr", "127.0.0.1:0")
	cmd.Env = cleanEnv()
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	if err == nil {
		t.Fatalf("serve of a registry its user may not open started and ended without an error:\n%s", stderr.String())
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("serve: %v, want exit 1:\n%s", err, stderr.String())
	}
	for _, want := range []string{
		"open SQLite " + db + ": ",
		"may not write " + db + " (mode -",
		"run custos as the user that owns the registry (sudo -u custos), or give that user the registry's files (chown",
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("serve said:\n%s\nwant it to say %q", stderr.String(), want)
		}
	}
}
