package hashmatch_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

// TestIndexFileSealedByTheRegistryKey follows a bank's index file
// (--hm-index-dir) through a server and a restart. The server opens
// without indexing (the first match does); a server about to serve
// (App.Warm) maps the file its predecessor wrote; a file changed by
// someone who can write the directory but lacks the key file, its header
// checksum recomputed, is refused with a warning, rebuilt from the
// database and never used: the known hash still matches.
func TestIndexFileSealedByTheRegistryKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		dir := t.TempDir()
		logs := &apptest.LogBuffer{}
		w := apptest.NewHashmatchWorldWith(t, dsn, func(cfg *server.Config) {
			cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
			cfg.Hashmatch = hashmatch.Config{IndexDir: dir}
		})
		bank := w.Bank(t, "Known")
		w.Subscribe(t, bank)
		var adds []map[string]any
		for i := range 50 {
			adds = append(adds, map[string]any{"entry_id": fmt.Sprintf("e%02d", i), "pdq": apptest.PDQHex(i + 1), "classification": "A1"})
		}
		w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst, map[string]any{"adds": adds})
		files := func() []string {
			t.Helper()
			m, err := filepath.Glob(filepath.Join(dir, "pdq-*.idx"))
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		// Opened and published to, the server has indexed nothing yet.
		if f := files(); len(f) != 0 || strings.Contains(logs.String(), "hash bank indexed") {
			t.Fatalf("indexed before any match: %v\n%s", f, logs)
		}
		match := func(e *apptest.Env) {
			t.Helper()
			r := e.Must(t, 200, "POST", "/api/v1/hashmatch/match", w.Service, map[string]any{"items": []map[string]any{{"pdq": apptest.PDQHex(7), "quality": 90}}})
			if ms, _ := r.Body["results"].([]any)[0].(map[string]any)["matches"].([]any); len(ms) != 1 {
				t.Fatalf("the known hash: %s", r.Raw)
			}
		}
		match(w.Env)
		f := files()
		if len(f) != 1 || !strings.Contains(logs.String(), `msg="hash bank indexed" bank=`+bank+` generation=1 hashes=50 how=built`) {
			t.Fatalf("the first match: files %v\n%s", f, logs)
		}

		// restart opens a second server on the registry, as one about to
		// serve, and returns it with what it logged.
		restart := func() (*apptest.Env, string) {
			t.Helper()
			l := &apptest.LogBuffer{}
			cfg := w.Cfg
			cfg.Logger = slog.New(slog.NewTextHandler(l, nil))
			app, err := server.Open(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := app.Warm(context.Background()); err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(app.Handler())
			t.Cleanup(func() { srv.Close(); app.Close() })
			return &apptest.Env{App: app, URL: srv.URL, Cfg: cfg, Admin: w.Admin}, l.String()
		}
		e, log := restart()
		if !strings.Contains(log, "how=mapped") || strings.Contains(log, "level=WARN") {
			t.Fatalf("a restart did not map the file:\n%s", log)
		}
		match(e)

		// A hash of the file changed, the header checksum recomputed.
		b, err := os.ReadFile(f[0])
		if err != nil {
			t.Fatal(err)
		}
		b[128+6*32] ^= 0xff // the header is 128 bytes; then the hashes
		binary.LittleEndian.PutUint32(b[60:], crc32.Checksum(b[:60], crc32.MakeTable(crc32.Castagnoli)))
		if err := os.WriteFile(f[0], b, 0o600); err != nil {
			t.Fatal(err)
		}
		e, log = restart()
		if !strings.Contains(log, `level=WARN msg="hash bank index file refused; rebuilt from the database" bank=`+bank) ||
			!strings.Contains(log, "keyed MAC mismatch") || !strings.Contains(log, "how=built") {
			t.Fatalf("a changed file:\n%s", log)
		}
		match(e)
		if rebuilt, err := os.ReadFile(f[0]); err != nil || rebuilt[128+6*32] == b[128+6*32] {
			t.Fatalf("the changed file was not rebuilt: %v", err)
		}
	})
}
