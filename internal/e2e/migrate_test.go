package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	custos "github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

// TestConcurrentMigrateAndInit starts several custos processes on one new
// database at once, as several servers' start-up scripts would: four custos
// migrate, which must apply each embedded migration exactly once between
// them; then three custos init sharing one key file, of which exactly one
// creates the registry while the others either find it initialised or fail
// cleanly, leaving one log that verifies and one administrator.
func TestConcurrentMigrateAndInit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		start := time.Now()
		applied := regexp.MustCompile(`(?m)^applied (\d+) migrations; schema at (.+)$`)
		want := 0
		for _, sc := range custos.NewProjections().Schemas() {
			want += sc.Latest()
		}
		outs := parallel(t, 4, func(int) []string { return []string{"migrate", "--db", dsn} })
		total := 0
		for _, o := range outs {
			if o.code != 0 {
				t.Fatalf("custos migrate: exit %d: %s %s", o.code, o.stdout, o.stderr)
			}
			m := applied.FindStringSubmatch(o.stdout)
			if m == nil {
				t.Fatalf("custos migrate said %q", o.stdout)
			}
			n, _ := strconv.Atoi(m[1])
			total += n
		}
		if total != want {
			t.Errorf("the migrate processes applied %d migrations between them, want each of %d once", total, want)
		}

		dir := t.TempDir()
		key := filepath.Join(dir, "custos.key")
		outs = parallel(t, 3, func(i int) []string {
			return []string{"init", "--db", dsn, "--key-file", key, "--jurisdiction", "XA", "--admin-token-file", filepath.Join(dir, fmt.Sprintf("admin%d.token", i))}
		})
		created := 0
		for i, o := range outs {
			_, err := os.Stat(filepath.Join(dir, fmt.Sprintf("admin%d.token", i)))
			switch {
			case o.code == 0 && err == nil:
				created++
			case o.code == 0 && strings.Contains(o.stdout, "is initialised"):
			case o.code == 1 && err != nil:
				t.Logf("init %d lost the race: %s", i, strings.TrimSpace(o.stderr))
			default:
				t.Errorf("custos init %d: exit %d (token file: %v): %s %s", i, o.code, err, o.stdout, o.stderr)
			}
		}
		if created != 1 {
			t.Fatalf("%d concurrent inits created a registry, want exactly 1", created)
		}
		// Later runs on the existing registry only migrate.
		out := mustCLI(t, "init", "--db", dsn, "--key-file", key, "--jurisdiction", "XA")
		if !strings.Contains(out, "is initialised") {
			t.Errorf("custos init on an existing registry: %q", out)
		}
		verifyLog(t, dsn, publicKey(t, key))

		ctx := context.Background()
		db := openStore(t, dsn)
		var versions, distinct, admins int
		if err := db.Read().QueryRow(ctx, "SELECT COUNT(*), COUNT(DISTINCT module || '/' || version) FROM schema_versions").Scan(&versions, &distinct); err != nil {
			t.Fatal(err)
		}
		if versions != want || distinct != versions {
			t.Errorf("schema_versions holds %d rows (%d distinct), want %d", versions, distinct, want)
		}
		if err := db.Read().QueryRow(ctx, "SELECT COUNT(*) FROM principals WHERE role = 'admin'").Scan(&admins); err != nil {
			t.Fatal(err)
		}
		if admins != 1 {
			t.Errorf("%d administrators, want 1", admins)
		}
		t.Logf("took %v", time.Since(start).Round(time.Millisecond))
	})
}

type cliResult struct {
	stdout, stderr string
	code           int
}

// parallel runs n custos commands at once and returns their results in order.
func parallel(t *testing.T, n int, args func(i int) []string) []cliResult {
	t.Helper()
	out := make([]cliResult, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o, e, c := cli(t, args(i)...)
			out[i] = cliResult{o, e, c}
		}()
	}
	wg.Wait()
	return out
}

// TestWrongKeyFileRefused starts a server on a registry with another
// registry's key file, as a misconfigured extra server would be: its writes
// are refused (nothing is signed with the wrong key), the right server still
// writes, and log verify passes with the registry's public key.
func TestWrongKeyFileRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		reg := initRegistry(t, dsn)
		other := initRegistry(t, storetest.SQLite(t))
		// The server refuses to start with another registry's key file.
		_, stderr, code := cli(t, "serve", "--db", dsn, "--key-file", other.Key, "--addr", "127.0.0.1:0")
		if code == 0 || !strings.Contains(stderr, "does not belong to this registry") {
			t.Errorf("serve with another registry's key file: exit %d, stderr:\n%s", code, tail(stderr, 2000))
		}
		// So do the commands that write.
		_, stderr, code = cli(t, "trace", "donor", "DN-X", "--db", dsn, "--key-file", other.Key)
		if code == 0 || !strings.Contains(stderr, "does not belong to this registry") {
			t.Errorf("trace with another registry's key file: exit %d, stderr:\n%s", code, tail(stderr, 2000))
		}
		right := startServer(t, reg)
		must(t, 201, right.URL, "POST", "/api/v1/transplant/centres", reg.Admin, map[string]any{"name": "Centre R", "city": "Port Aster"})
		right.stop()
		verifyLog(t, dsn, reg.PublicKey)
	})
}
