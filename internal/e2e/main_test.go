// Package e2e holds process-level tests: they build the custos binary, run it
// as an operator would (custos init, serve, backup, log verify) against SQLite
// and, when CUSTOS_TEST_POSTGRES is set, PostgreSQL, drive it over HTTP, kill
// it, restart it, and check what a registry promises: no acknowledged write
// lost, no refused write kept, one linear log.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/store"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// bin is the custos binary built once for the package.
var bin string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	flag.Parse()
	if testing.Short() {
		fmt.Println("e2e: skipped in -short mode (the tests build and run the custos binary)")
		return 0
	}
	dir, err := os.MkdirTemp("", "custos-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	bin = filepath.Join(dir, "custos")
	// go test puts its own GOROOT/bin first on the test's PATH.
	build := exec.Command("go", "build", "-o", bin, "./cmd/custos")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build ./cmd/custos: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("e2e: no go.mod above the test's folder")
		}
		dir = up
	}
}

// cli runs a custos command to completion and returns its output and exit
// code (-1, with the test marked failed, when it could not run or timed out).
func cli(t testing.TB, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = cleanEnv()
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default: // not started, or killed by the timeout; Errorf: cli runs in goroutines too
		t.Errorf("custos %s: %v", strings.Join(args, " "), err)
		code = -1
	}
	return o.String(), e.String(), code
}

// openStore opens the database at dsn directly, for a test to read what a
// command left in its tables; it is closed when the test ends.
func openStore(t testing.TB, dsn string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// mustCLI runs a custos command and fails the test unless it exits 0.
func mustCLI(t testing.TB, args ...string) string {
	t.Helper()
	out, errOut, code := cli(t, args...)
	if code != 0 {
		t.Fatalf("custos %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// cleanEnv is the environment without custos's own variables, so that every
// command runs on exactly the flags the test gives.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CUSTOS_DB=") && !strings.HasPrefix(kv, "CUSTOS_KEY_FILE=") {
			env = append(env, kv)
		}
	}
	return env
}

// registry is an initialised database with its key file and first token.
type registry struct {
	DSN, Key, Admin string
	PublicKey       string // the log's verifier key, read from the key file
}

// initRegistry runs custos init on dsn with a key file and token file in a
// temporary folder.
func initRegistry(t testing.TB, dsn string) *registry {
	t.Helper()
	return initRegistryOf(t, dsn, "XA")
}

// initRegistryOf is initRegistry for a registry of another jurisdiction.
func initRegistryOf(t testing.TB, dsn, jurisdiction string) *registry {
	t.Helper()
	dir := t.TempDir()
	r := &registry{DSN: dsn, Key: filepath.Join(dir, "custos.key")}
	tokenFile := filepath.Join(dir, "admin.token")
	mustCLI(t, "init", "--db", dsn, "--key-file", r.Key, "--jurisdiction", jurisdiction, "--admin-token-file", tokenFile)
	b, err := os.ReadFile(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	r.Admin = strings.TrimSpace(string(b))
	r.PublicKey = publicKey(t, r.Key)
	return r
}

// publicKey reads the log's verifier key from a key file.
func publicKey(t testing.TB, keyFile string) string {
	t.Helper()
	b, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		LogKey string `json:"log_verifier"`
	}
	if err := json.Unmarshal(b, &k); err != nil || k.LogKey == "" {
		t.Fatalf("key file %s has no log_verifier: %v", keyFile, err)
	}
	return k.LogKey
}

// verifyLog runs custos log verify with the public key and marks the test
// failed (without stopping it, as load may be running) unless the log and
// the tables agree.
func verifyLog(t testing.TB, dsn, pub string) {
	t.Helper()
	out, errOut, code := cli(t, "log", "verify", "--db", dsn, "--public-key", pub)
	if code != 0 || !strings.HasPrefix(out, "OK: ") {
		t.Errorf("custos log verify: exit %d\n%s%s", code, out, errOut)
	}
}

// server is a running custos serve process.
type server struct {
	t      testing.TB
	cmd    *exec.Cmd
	URL    string
	stderr *apptest.LogBuffer
	exited chan struct{}
	err    error // Wait's result, once exited is closed
}

// startServer runs custos serve, with any extra flags, on a free loopback
// port and waits until it says it is listening. The process is killed when
// the test ends.
func startServer(t testing.TB, r *registry, flags ...string) *server {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--db", r.DSN, "--key-file", r.Key, "--addr", "127.0.0.1:0"}, flags...)...)
	cmd.Env = cleanEnv()
	s := &server{t: t, cmd: cmd, stderr: &apptest.LogBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = s.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if i := strings.LastIndex(line, " on http"); strings.HasPrefix(line, "custos serving ") && i > 0 {
				select {
				case ready <- strings.TrimSuffix(line[i+len(" on "):], "/"):
				default:
				}
			}
		}
		io.Copy(io.Discard, out)
		s.err = cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		s.kill()
		if t.Failed() {
			t.Logf("server log:\n%s", tail(s.stderr.String(), 4000))
		}
	})
	select {
	case s.URL = <-ready:
		return s
	case <-s.exited:
		t.Fatalf("custos serve exited before listening: %v\n%s", s.err, s.stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("custos serve did not start in 30s\n%s", s.stderr.String())
	}
	return nil
}

// kill stops the process at once with SIGKILL, as a power cut or OOM would.
func (s *server) kill() {
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// stop asks the process to shut down (SIGTERM) and fails unless it exits 0.
func (s *server) stop() {
	s.t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		if s.err != nil {
			s.t.Fatalf("custos serve exited with %v after SIGTERM\n%s", s.err, tail(s.stderr.String(), 4000))
		}
	case <-time.After(20 * time.Second):
		s.kill()
		s.t.Fatalf("custos serve did not stop in 20s after SIGTERM")
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// httpClient is shared by the load generators: many connections per host so
// that concurrent requests really are concurrent.
var httpClient = &http.Client{
	Timeout: 30 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64, DisableCompression: true,
		TLSClientConfig: &tls.Config{RootCAs: testCA.pool}},
}

// reply is an API answer; err is set when no answer came (connection broken).
type reply struct {
	Status int
	Body   map[string]any
	Raw    []byte
	Err    error
}

func (r reply) str(path string) string {
	var v any = r.Body
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[k]
	}
	s, _ := v.(string)
	return s
}

// call sends a request; it never fails the test, so goroutines may use it.
func call(base, method, path, token string, body any) reply {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return reply{Err: err}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		return reply{Err: err}
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return reply{Err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		// The status came but the body broke off: the outcome is unknown.
		return reply{Err: err}
	}
	out := reply{Status: resp.StatusCode, Raw: raw}
	_ = json.Unmarshal(raw, &out.Body)
	return out
}

// must sends a request and fails the test unless the status is want.
func must(t testing.TB, want int, base, method, path, token string, body any) reply {
	t.Helper()
	r := call(base, method, path, token, body)
	if r.Err != nil {
		t.Fatalf("%s %s: %v", method, path, r.Err)
	}
	if r.Status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Raw)
	}
	return r
}

// world is the small registry the tests record in: two centres with a
// coordinator each, centre A authorized to procure and transplant kidneys.
type world struct {
	Regulator        string
	CentreA, CentreB string
	CoordA, CoordB   string
}

// newWorld creates the world through the API of a running server, as
// apptest.NewWorld does in process.
func newWorld(t testing.TB, base, admin string) *world {
	t.Helper()
	w := &world{}
	me := must(t, 200, base, "GET", "/api/v1/me", admin, nil)
	auth := me.str("authority_id")
	w.Regulator = must(t, 201, base, "POST", "/api/v1/principals", admin, map[string]any{"name": "Regulator", "role": "regulator", "authority_id": auth}).str("token")
	w.CentreA = must(t, 201, base, "POST", "/api/v1/transplant/centres", admin, map[string]any{"name": "Centre A", "city": "Port Aster"}).str("id")
	w.CentreB = must(t, 201, base, "POST", "/api/v1/transplant/centres", admin, map[string]any{"name": "Centre B", "city": "Northgate"}).str("id")
	w.CoordA = must(t, 201, base, "POST", "/api/v1/principals", admin, map[string]any{"name": "Coordinator A", "role": "coordinator", "authority_id": w.CentreA}).str("token")
	w.CoordB = must(t, 201, base, "POST", "/api/v1/principals", admin, map[string]any{"name": "Coordinator B", "role": "coordinator", "authority_id": w.CentreB}).str("token")
	for _, activity := range []string{"procurement", "transplantation"} {
		must(t, 201, base, "POST", "/api/v1/transplant/centres/"+w.CentreA+"/authorizations", w.Regulator,
			map[string]any{"activity": activity, "organ": "kidney", "valid_from": "2020-01-01"})
	}
	return w
}

// recipient is a recipient registration whose date of birth is unique to n:
// the personal data is sealed, but the date of birth is projected in clear,
// so it marks each request in the tables. invalid makes listed_on a future
// day, which the registry refuses inside the write transaction (422).
func recipient(n int, invalid bool) (body map[string]any, dob string) {
	dob = time.Date(1930, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n).Format("2006-01-02")
	listed := "2024-01-01"
	if invalid {
		listed = time.Now().UTC().AddDate(1, 0, 0).Format("2006-01-02")
	}
	return map[string]any{"name": fmt.Sprintf("E2E Recipient %d (synthetic)", n), "national_id": fmt.Sprintf("XAE2E%06d", n),
		"sex": "female", "blood_group": "A", "date_of_birth": dob, "residence": "XA", "organ_needed": "kidney", "listed_on": listed}, dob
}

// donor is a valid deceased donor registration for the coordinator's centre.
func donor(n int) map[string]any {
	return map[string]any{"kind": "deceased_brain_death", "name": fmt.Sprintf("E2E Donor %d (synthetic)", n),
		"national_id": fmt.Sprintf("XAE2ED%06d", n), "sex": "male", "blood_group": "O", "date_of_birth": "1970-05-01",
		"cause_of_death": "cerebrovascular accident", "date_of_death": time.Now().UTC().AddDate(0, 0, -2).Format("2006-01-02"),
		"iv_drug_use": "no", "malignancy": "no", "transmissible_disease": "no", "hiv": "negative", "hcv": "negative", "hbv": "negative",
		"organ_function": "normal creatinine"}
}

// consent is the family authorization of a deceased donation, given yesterday.
func consent() map[string]any {
	return map[string]any{"kind": "family_authorization", "given_on": time.Now().UTC().AddDate(0, 0, -1).Format("2006-01-02"),
		"assessed_by": "Dr E2E", "voluntary": true, "informed": true}
}

// procurement retrieves one kidney from a donor an hour ago.
func procurement(donorID string) map[string]any {
	return map[string]any{"donor_id": donorID, "procured_at": time.Now().UTC().Add(-time.Hour).Format(time.RFC3339), "organs": []string{"kidney"}}
}
