package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

// TestWarnsOfPlannerStatistics checks that a server opening a SQLite file on
// which someone ran ANALYZE says so, with the remedy, and that one opening a
// file custos made does not.
func TestWarnsOfPlannerStatistics(t *testing.T) {
	ctx := context.Background()
	w := apptest.NewWorld(t, storetest.SQLite(t))
	open := func() string { return startLog(t, w) }
	if out := open(); strings.Contains(out, "sqlite_stat4") {
		t.Fatalf("warned on a file custos made: %s", out)
	}
	write := func(q string) {
		t.Helper()
		tx, err := w.App.DB.BeginWrite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	write("ANALYZE")
	if n, err := w.App.DB.PlannerSamples(ctx); err != nil || n == 0 {
		t.Fatalf("ANALYZE left %d STAT4 samples (err %v); the test needs some", n, err)
	}
	out := open()
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "DELETE FROM sqlite_stat4") {
		t.Fatalf("no warning with the remedy after ANALYZE: %q", out)
	}
	// The remedy the warning gives.
	write("DELETE FROM sqlite_stat4")
	if out := open(); strings.Contains(out, "sqlite_stat4") {
		t.Fatalf("still warned after DELETE FROM sqlite_stat4: %s", out)
	}
}

// TestWarnsOfExposedDatabase checks that a server opening a SQLite file its
// group or other users may read says so, naming the file and its mode, and
// that one opening the 0600 file custos made does not.
func TestWarnsOfExposedDatabase(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	open := func() string { return startLog(t, w) }
	if out := open(); strings.Contains(out, "chmod 0600") {
		t.Fatalf("warned on the file custos made: %s", out)
	}
	path := w.App.DB.Path
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	out := open()
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, "chmod 0600") || !strings.Contains(out, "mode=0644") || !strings.Contains(out, path) {
		t.Fatalf("no warning naming the file and its mode after chmod 0644: %q", out)
	}
}

// startLog opens w's registry once more, as a server starting, and returns
// what it logged.
func startLog(t *testing.T, w *apptest.World) string {
	t.Helper()
	var buf bytes.Buffer
	cfg := w.Cfg
	cfg.Logger = slog.New(slog.NewTextHandler(&buf, nil))
	app, err := server.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	app.Close()
	return buf.String()
}
