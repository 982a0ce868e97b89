// Package apptest starts real custos servers for tests: a registry initialised
// on a real database, served over real HTTP on a loopback port, and a small
// world of authorities, principals and centre authorizations created through
// the API, as a user would.
package apptest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

// Env is a running registry.
type Env struct {
	App   *server.App
	URL   string
	Cfg   server.Config
	Admin string // administrator token
}

// Start initialises a registry on dsn and serves it until t ends.
func Start(t testing.TB, dsn string) *Env {
	t.Helper()
	return StartWith(t, dsn, nil)
}

// StartModules is Start for a deployment of the modules given (the default
// ones when nil).
func StartModules(t testing.TB, dsn string, modules []server.Registry) *Env {
	t.Helper()
	return StartWith(t, dsn, func(cfg *server.Config) { cfg.Modules = modules })
}

// StartWith is Start with the server's configuration changed by tune (when
// not nil) before the registry is initialised.
func StartWith(t testing.TB, dsn string, tune func(*server.Config)) *Env {
	t.Helper()
	ctx := context.Background()
	cfg := server.Config{DSN: dsn, KeyFile: storetest.KeyFile(t), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if tune != nil {
		tune(&cfg)
	}
	token, err := server.Init(ctx, cfg, server.InitOptions{Jurisdiction: "XA", Authority: "Test Transplant Authority"})
	if err != nil {
		t.Fatalf("init: %v", err)
	}
	app, err := server.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	// The connection in each request's context, as custos serve has it,
	// so that a client leaving is seen as it is there.
	srv := httptest.NewUnstartedServer(app.Handler())
	srv.Config.ConnContext = server.ConnContext
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		app.Close()
	})
	return &Env{App: app, URL: srv.URL, Cfg: cfg, Admin: token}
}

// SecondServer opens another server of e's registry on the same
// configuration (database, key file), as a load balancer's second server,
// serves it until the test ends and returns its URL.
func (e *Env) SecondServer(t testing.TB) string {
	t.Helper()
	app, err := server.Open(context.Background(), e.Cfg)
	if err != nil {
		t.Fatalf("open a second server: %v", err)
	}
	srv := httptest.NewUnstartedServer(app.Handler())
	srv.Config.ConnContext = server.ConnContext
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		app.Close()
	})
	return srv.URL
}

// Principal returns the principal token signs in as, for tests that call a
// registry's service directly.
func (e *Env) Principal(t testing.TB, token string) *auth.Principal {
	t.Helper()
	p, err := auth.Authenticate(context.Background(), e.App.DB.Read(), token)
	if err != nil {
		t.Fatalf("authenticate: %v", err)
	}
	return p
}

// LogSize is how many leaves the registry's log has.
func (e *Env) LogSize(t testing.TB) int {
	t.Helper()
	h, _, err := ledger.ReadHead(context.Background(), e.App.DB.Read())
	if err != nil {
		t.Fatal(err)
	}
	return int(h.Size)
}

// CheckpointRoot is the root of the signed checkpoint a registry serves, as
// its note carries it, read apart from custos's own formatting of roots.
type CheckpointRoot struct {
	Size   int
	Base64 string // the note's third line
	Hex    string
}

// Text is how a person is shown the root: the note's line, then its hex.
func (r CheckpointRoot) Text() string { return r.Base64 + " (hex " + r.Hex + ")" }

// ServedRoot reads the signed checkpoint the registry serves (GET
// /api/v1/log/checkpoint) and its root line, what the roots a page, an
// export or an entry shows are compared with; the answer's own root field
// must be that line.
func (e *Env) ServedRoot(t testing.TB) CheckpointRoot {
	t.Helper()
	cp := e.Must(t, 200, "GET", "/api/v1/log/checkpoint", "", nil)
	lines := strings.Split(cp.Str("checkpoint"), "\n")
	if len(lines) < 3 {
		t.Fatalf("the checkpoint served is not a note: %q", cp.Str("checkpoint"))
	}
	size, err := strconv.Atoi(lines[1])
	root, err2 := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || err2 != nil || len(root) != 32 {
		t.Fatalf("the checkpoint served has size line %q and root line %q", lines[1], lines[2])
	}
	if cp.Str("root") != lines[2] || int(cp.Body["size"].(float64)) != size {
		t.Errorf("GET /api/v1/log/checkpoint answers size %v root %q; its checkpoint says %d and %q", cp.Body["size"], cp.Str("root"), size, lines[2])
	}
	return CheckpointRoot{Size: size, Base64: lines[2], Hex: hex.EncodeToString(root)}
}

// Verify runs log verify over the registry's database, its key pinned, and
// returns the report (an error running it fails t).
func (e *Env) Verify(t testing.TB) *ledger.Report {
	t.Helper()
	rep, err := ledger.Verify(context.Background(), e.App.DB, e.App.Projections, ledger.VerifyOptions{VerifierKey: e.App.Keys.LogKey})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// Response is a decoded API answer.
type Response struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

// Str returns a string field of the body by a dotted path ("error.code").
func (r *Response) Str(path string) string {
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

// CheckAnswer, when not nil, is called with every answer Do and Upload
// get, the request's method and path (its query included) beside it: a
// test package sets it in its TestMain, before any test runs, to check
// each answer against what the API documents (the httpapi tests check it
// against the OpenAPI document).
var CheckAnswer func(t testing.TB, e *Env, method, path string, r *Response)

// Do sends a request with a bearer token; body may be nil, a string (sent
// as is) or a value to encode as JSON.
func (e *Env) Do(t testing.TB, method, path, token string, body any) *Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, e.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := &Response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	_ = json.Unmarshal(raw, &out.Body)
	if CheckAnswer != nil {
		CheckAnswer(t, e, method, path, out)
	}
	return out
}

// Upload posts a file's raw bytes with a bearer token, a content type and
// extra headers (name, value, ...), as the hash-matching upload routes take
// them.
func (e *Env) Upload(t testing.TB, path, token, contentType string, body []byte, headers ...string) *Response {
	t.Helper()
	req, err := http.NewRequest("POST", e.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", contentType)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := &Response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	_ = json.Unmarshal(raw, &out.Body)
	if CheckAnswer != nil {
		CheckAnswer(t, e, "POST", path, out)
	}
	return out
}

// Must sends a request and fails the test unless the status is want.
func (e *Env) Must(t testing.TB, want int, method, path, token string, body any) *Response {
	t.Helper()
	r := e.Do(t, method, path, token, body)
	if r.Status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Raw)
	}
	return r
}

// World is a small registry ready for recording: a regulator, an auditor, two
// centres each with a coordinator, and centre A authorized for procurement and
// transplantation of kidneys and livers from 2020-01-01; centre B is
// authorized for kidney transplantation only.
type World struct {
	*Env
	Regulator, Auditor string // tokens
	CentreA, CentreB   string // ids
	CoordA, CoordB     string // tokens
	RegulatorAuthority string
}

// NewWorld builds a World on a fresh registry.
func NewWorld(t testing.TB, dsn string) *World {
	t.Helper()
	return NewWorldWith(t, dsn, nil)
}

// NewWorldWith is NewWorld with the server's configuration changed by tune
// (when not nil), as StartWith does.
func NewWorldWith(t testing.TB, dsn string, tune func(*server.Config)) *World {
	t.Helper()
	e := StartWith(t, dsn, tune)
	w := &World{Env: e}
	me := e.Must(t, 200, "GET", "/api/v1/me", e.Admin, nil)
	w.RegulatorAuthority = me.Str("authority_id")
	w.Regulator = e.Must(t, 201, "POST", "/api/v1/principals", e.Admin, map[string]any{"name": "Regulator", "role": "regulator", "authority_id": w.RegulatorAuthority}).Str("token")
	w.Auditor = e.Must(t, 201, "POST", "/api/v1/principals", e.Admin, map[string]any{"name": "Auditor", "role": "auditor", "authority_id": w.RegulatorAuthority}).Str("token")
	w.CentreA = e.Must(t, 201, "POST", "/api/v1/transplant/centres", e.Admin, map[string]any{"name": "Centre A", "city": "Port Aster"}).Str("id")
	w.CentreB = e.Must(t, 201, "POST", "/api/v1/transplant/centres", e.Admin, map[string]any{"name": "Centre B", "city": "Northgate"}).Str("id")
	w.CoordA = e.Must(t, 201, "POST", "/api/v1/principals", e.Admin, map[string]any{"name": "Coordinator A", "role": "coordinator", "authority_id": w.CentreA}).Str("token")
	w.CoordB = e.Must(t, 201, "POST", "/api/v1/principals", e.Admin, map[string]any{"name": "Coordinator B", "role": "coordinator", "authority_id": w.CentreB}).Str("token")
	for _, a := range []struct{ centre, activity, organ string }{
		{w.CentreA, "procurement", "kidney"}, {w.CentreA, "procurement", "liver"},
		{w.CentreA, "transplantation", "kidney"}, {w.CentreA, "transplantation", "liver"},
		{w.CentreB, "transplantation", "kidney"},
	} {
		e.Must(t, 201, "POST", "/api/v1/transplant/centres/"+a.centre+"/authorizations", w.Regulator,
			map[string]any{"activity": a.activity, "organ": a.organ, "valid_from": "2020-01-01"})
	}
	return w
}

// Hours returns an RFC 3339 time h hours before now, so recorded procedures
// are in the past and in order. Tests keep h under 48: donors die and consent
// two days ago.
func Hours(h int) string {
	return time.Now().UTC().Add(-time.Duration(h) * time.Hour).Format(time.RFC3339)
}

// people counts the people DeceasedDonor and Recipient make, so that each is
// another person: its own national identifier and date of birth, which a
// registration would otherwise refuse as a likely duplicate.
var people atomic.Int64

// person returns the next person's national identifier (XA123456789,
// XA123456790, ...) and a date of birth from 1970-05-01 on.
func person() (nationalID, dateOfBirth string) {
	n := people.Add(1) - 1
	return fmt.Sprintf("XA%09d", 123456789+n), time.Date(1970, 5, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(n)).Format("2006-01-02")
}

// DeceasedDonor is a valid donor registration at centre, of a person not
// registered before.
func DeceasedDonor(centre string) map[string]any {
	nid, dob := person()
	return map[string]any{"kind": "deceased_brain_death", "centre_id": centre, "name": "Test Donor (synthetic)",
		"national_id": nid, "sex": "female", "blood_group": "O", "date_of_birth": dob,
		"cause_of_death": "cerebrovascular accident", "date_of_death": time.Now().UTC().AddDate(0, 0, -2).Format("2006-01-02"),
		"iv_drug_use": "no", "malignancy": "no", "transmissible_disease": "no", "hiv": "negative", "hcv": "negative", "hbv": "negative",
		"organ_function": "normal creatinine"}
}

// Recipient is a valid recipient registration at centre waiting for organ,
// of a person not registered before.
func Recipient(centre, organ string) map[string]any {
	nid, dob := person()
	return map[string]any{"centre_id": centre, "name": "Test Recipient (synthetic)", "national_id": nid + organ,
		"sex": "male", "blood_group": "O", "date_of_birth": dob, "residence": "XA", "organ_needed": organ, "listed_on": "2024-01-01"}
}

// PDQHex returns the i-th of a family of distinct, well-spread synthetic PDQ
// hashes as 64 hex digits, for hash-list tests that need no image.
func PDQHex(i int) string {
	var words [4]uint64
	for w := range words {
		v := uint64(0x9E3779B97F4A7C15) * uint64(i*4+w+1)
		words[w] = v ^ v>>29
	}
	return fmt.Sprintf("%016x%016x%016x%016x", words[0], words[1], words[2], words[3])
}

// Videos writes three short synthetic videos into dir with ffmpeg, skipping
// the test when ffmpeg or ffprobe is not installed: known (20 s of a
// Mandelbrot zoom, 320x240), copy (the same from 3 s to 15 s, scaled down to
// 240x180 and re-encoded at a much lower bitrate, as a re-upload would be)
// and other (10 s of an unrelated test pattern).
func Videos(t testing.TB, dir string) (known, copy, other string) {
	t.Helper()
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (Debian package ffmpeg): video matching not tested end to end", tool)
		}
	}
	known, copy, other = filepath.Join(dir, "known.mp4"), filepath.Join(dir, "copy.mp4"), filepath.Join(dir, "other.mp4")
	for _, args := range [][]string{
		{"-f", "lavfi", "-i", "mandelbrot=size=320x240:rate=10", "-t", "20", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-crf", "28", known},
		{"-ss", "3", "-i", known, "-t", "12", "-vf", "scale=240:180", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-crf", "38", copy},
		{"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10", "-t", "10", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-crf", "28", other},
	} {
		cmd := exec.Command("ffmpeg", append([]string{"-hide_banner", "-loglevel", "error", "-nostdin", "-y"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
		}
	}
	return known, copy, other
}

// Tamper runs one statement on the registry's database in a transaction of
// its own, as whoever can write the database could, outside custos: for
// the tests that show a change behind custos's back is found.
func (e *Env) Tamper(t testing.TB, q string, args ...any) {
	t.Helper()
	ctx := context.Background()
	tx, err := e.App.DB.BeginWrite(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(ctx, q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// Metrics reads the /metrics page of the server at base.
func Metrics(t testing.TB, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
