package e2e

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	fwitness "github.com/transparency-dev/formats/witness"

	"github.com/custos-project/custos/internal/storetest"

	"github.com/custos-project/custos/internal/apptest"
)

// TestWitness runs a registry and a witness process (custos log watch) as an
// auditor would: the witness pins the log key by the fingerprint the
// operator published, follows the registry as it grows and cosigns each
// checkpoint, and the registry serves the cosigned checkpoint. Then the
// registry's database is rolled back to an older copy (the witness raises
// the rollback alarm), rewritten past the size the witness saw (the fork
// alarm), and replaced by a log rewritten from the start and re-signed with
// a substituted key (the signature alarm); log verify without a pinned key
// refuses to call that a pass, and with the witness's state it finds it.
func TestWitness(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		pg := isPostgres(dsn)
		if pg {
			if _, err := exec.LookPath("pg_dump"); err != nil {
				t.Skip("pg_dump not found: install the PostgreSQL client tools to roll a PostgreSQL registry back")
			}
		}
		reg := initRegistry(t, dsn)
		fp := ""
		for _, line := range strings.Split(mustCLI(t, "log", "key", "--db", dsn, "--key-file", reg.Key), "\n") {
			if f, ok := strings.CutPrefix(line, "fingerprint "); ok {
				fp = f
			}
		}
		if !strings.HasPrefix(fp, "SHA256:") {
			t.Fatalf("custos log key printed no fingerprint")
		}
		addr := freeAddr(t)
		srv := startServer(t, reg, "--addr", addr)

		dir := t.TempDir()
		state := filepath.Join(dir, "witness.json")
		out := mustCLI(t, "log", "watch", srv.URL, "--state", state, "--name", "auditor.example", "--key-fingerprint", fp)
		if !strings.Contains(out, "pinned the log key") || !strings.Contains(out, "ask the registry's operator to register this public key") {
			t.Fatalf("first log watch: %s", out)
		}
		var key struct {
			Verifier string `json:"verifier"`
		}
		readJSON(t, state+".key", &key)
		// The root it prints is the one its state file and the checkpoint
		// note carry, in their base64: an auditor compares them by eye.
		var kept struct {
			Root       string `json:"root"`
			Checkpoint string `json:"checkpoint"`
		}
		readJSON(t, state, &kept)
		if kept.Root == "" || !strings.Contains(out, "root "+kept.Root+" (hex ") || !strings.Contains(kept.Checkpoint, "\n"+kept.Root+"\n") {
			t.Errorf("first log watch printed %q, its state keeps root %q", out, kept.Root)
		}
		// Only a registered witness's cosignature is accepted.
		if out := mustCLI(t, "log", "watch", srv.URL, "--state", state); !strings.Contains(out, "warning: the registry refused the cosignature") {
			t.Errorf("an unregistered witness: %s", out)
		}
		must(t, 201, srv.URL, "POST", "/api/v1/log/witnesses", reg.Admin, map[string]any{"public_key": key.Verifier})

		watch := startWatch(t, srv.URL, state)
		w := newWorld(t, srv.URL, reg.Admin)
		size := waitWitnessed(t, srv.URL, state)

		// What the registry shows auditors: the witness and its cosignature,
		// a cosigned checkpoint any C2SP witness client can check.
		ws := call(srv.URL, "GET", "/api/v1/log/witnesses", "", nil)
		if !strings.Contains(string(ws.Raw), `"name": "auditor.example"`) || !strings.Contains(string(ws.Raw), fmt.Sprintf(`"last_size": %d`, size)) {
			t.Errorf("GET /api/v1/log/witnesses: %s", ws.Raw)
		}
		cp := must(t, 200, srv.URL, "GET", "/api/v1/log/checkpoint", "", nil)
		if cp.str("key_fingerprint") != fp || cp.str("log_key") != reg.PublicKey {
			t.Errorf("the checkpoint's key: %s", cp.Raw)
		}
		cosigned, _ := cp.Body["cosigned"].(map[string]any)
		u, _ := url.Parse(srv.URL)
		fw, err := fwitness.New(key.Verifier, u)
		if err != nil {
			t.Fatal(err)
		}
		if cosigned == nil || !fw.Satisfied([]byte(cosigned["checkpoint"].(string))) {
			t.Errorf("the cosigned checkpoint does not carry the witness's cosignature: %s", cp.Raw)
		}

		// An older copy of the database, then more writes the witness sees.
		var old *registry
		if pg {
			old = backupPostgres(t, reg, func() {})
		} else {
			old = backupSQLite(t, reg, func() {})
		}
		donorID := must(t, 201, srv.URL, "POST", "/api/v1/transplant/donors", w.CoordA, donor(1)).str("id")
		must(t, 201, srv.URL, "POST", "/api/v1/transplant/donors/"+donorID+"/consents", w.CoordA, consent())
		seen := waitWitnessed(t, srv.URL, state)
		if seen <= size {
			t.Fatalf("the witness saw %d leaves after the writes, %d before", seen, size)
		}
		srv.stop()
		verifyLog(t, reg.DSN, reg.PublicKey)

		// Rolled back: the older copy is served at the same address.
		rolled := startServer(t, old, "--addr", addr)
		watch.waitAlarm(t, "rollback")
		stateCopy := filepath.Join(dir, "copy.json")
		copyFile(t, state, stateCopy)
		o, e, code := cli(t, "log", "watch", rolled.URL, "--state", stateCopy, "--no-cosign")
		if code != 1 || !strings.Contains(o, "ALARM (rollback)") || !strings.Contains(o, fmt.Sprintf("it showed %d on", seen)) {
			t.Errorf("log watch of the rolled-back registry: exit %d\n%s%s", code, o, e)
		}
		o, e, code = cli(t, "log", "verify", "--db", old.DSN, "--witness-state", state)
		if code != 1 || !strings.Contains(o, fmt.Sprintf("but a witness saw it with %d: it was rolled back or cut", seen)) {
			t.Errorf("log verify of the rolled-back registry with the witness's state: exit %d\n%s%s", code, o, e)
		}

		// Rewritten: the rolled-back log grows past what the witness saw,
		// signed with the log's own key, but with other entries.
		for i := 0; ; i++ {
			var n struct {
				Size uint64 `json:"size"`
			}
			if err := json.Unmarshal(call(rolled.URL, "GET", "/api/v1/log/checkpoint", "", nil).Raw, &n); err != nil {
				t.Fatal(err)
			}
			if n.Size > seen {
				break
			}
			must(t, 201, rolled.URL, "POST", "/api/v1/principals", reg.Admin,
				map[string]any{"name": fmt.Sprintf("Rewriter %d", i), "role": "auditor", "authority_id": must(t, 200, rolled.URL, "GET", "/api/v1/me", reg.Admin, nil).str("authority_id")})
		}
		watch.waitAlarm(t, "fork")
		rolled.stop()

		// Re-signed: a log rewritten from its first leaf under a new key with
		// the same origin. It is consistent in itself, so log verify without a
		// pinned key cannot tell: it says so and does not pass.
		forged := initRegistry(t, freshDSN(t, pg))
		if forged.PublicKey == reg.PublicKey || !strings.HasPrefix(forged.PublicKey, "custos/XA+") {
			t.Fatalf("the forged registry's key %s", forged.PublicKey)
		}
		fs := startServer(t, forged, "--addr", addr)
		watch.waitAlarm(t, "signature")
		fs.stop()
		o, e, code = cli(t, "log", "verify", "--db", forged.DSN)
		if code != 3 || !strings.HasPrefix(o, "KEY NOT PINNED: ") || strings.Contains(o, "OK") || !strings.Contains(e, "this is not a pass") {
			t.Errorf("log verify without a pinned key: exit %d\n%s%s", code, o, e)
		}
		o, e, code = cli(t, "log", "verify", "--db", forged.DSN, "--key-fingerprint", fp)
		if code != 1 || !strings.Contains(o, "the log was re-signed with another key") {
			t.Errorf("log verify --key-fingerprint of the re-signed log: exit %d\n%s%s", code, o, e)
		}
		o, e, code = cli(t, "log", "verify", "--db", forged.DSN, "--witness-state", state)
		if code != 1 || !strings.Contains(o, "the checkpoint is not signed by the key custos/XA+") {
			t.Errorf("log verify --witness-state of the re-signed log: exit %d\n%s%s", code, o, e)
		}
		if code := watch.stop(t); code != 1 {
			t.Errorf("the witness process exited %d after its alarms, want 1", code)
		}
	})
}

// freshDSN is an empty database of the engine under test.
func freshDSN(t *testing.T, pg bool) string {
	if pg {
		return storetest.Postgres(t)
	}
	return filepath.Join(t.TempDir(), "forged.db")
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// waitWitnessed waits until the witness's state holds the registry's
// current checkpoint and the registry holds its cosignature; it returns the
// size.
func waitWitnessed(t *testing.T, base, state string) uint64 {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var head, seen struct {
			Size     uint64 `json:"size"`
			Cosigned *struct {
				Size uint64 `json:"size"`
			} `json:"cosigned"`
		}
		if err := json.Unmarshal(call(base, "GET", "/api/v1/log/checkpoint", "", nil).Raw, &head); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(state)
		_ = json.Unmarshal(b, &seen)
		if seen.Size == head.Size && head.Cosigned != nil && head.Cosigned.Size == head.Size {
			return head.Size
		}
		if time.Now().After(deadline) {
			t.Fatalf("the witness did not cosign the checkpoint of %d leaves in 30s (it kept %d)", head.Size, seen.Size)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// watchProcess is a running custos log watch --every.
type watchProcess struct {
	cmd    *exec.Cmd
	stderr *apptest.LogBuffer
	exited chan struct{}
	err    error
}

func startWatch(t *testing.T, base, state string) *watchProcess {
	t.Helper()
	cmd := exec.Command(bin, "log", "watch", base, "--state", state, "--every", "150ms")
	cmd.Env = cleanEnv()
	p := &watchProcess{cmd: cmd, stderr: &apptest.LogBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("witness log:\n%s", tail(p.stderr.String(), 4000))
		}
	})
	return p
}

// waitAlarm waits for the witness's ALARM log line of this kind.
func (p *watchProcess) waitAlarm(t *testing.T, kind string) {
	t.Helper()
	want := `"msg":"ALARM","alarm":"` + kind + `"`
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(p.stderr.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("the witness raised no %s alarm in 30s:\n%s", kind, tail(p.stderr.String(), 3000))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop ends the witness with SIGTERM and returns its exit status.
func (p *watchProcess) stop(t *testing.T) int {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		t.Fatal("the witness did not stop in 20s after SIGTERM")
	}
	return p.cmd.ProcessState.ExitCode()
}
