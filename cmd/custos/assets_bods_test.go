package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/assets/bods"
)

// TestBODSExportCLI: custos assets bods export writes the BODS package to
// its file and prints on stderr the log checkpoint the file reflects and
// its export.made entry, as the HTTP export's headers name them, in the
// line every command-line export prints; the file holds the statements
// only.
func TestBODSExportCLI(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "r.db")
	e := apptest.Start(t, dsn)
	ca := e.Must(t, 201, "POST", "/api/v1/authorities", e.Admin, map[string]any{"name": "Demoland Central Authority", "kind": assets.KindCentralAuthority}).Str("id")
	officer := e.Must(t, 201, "POST", "/api/v1/principals", e.Admin, map[string]any{"name": "Officer", "role": string(assets.RoleCentralAuthority), "authority_id": ca}).Str("token")
	b := &bods.Builder{Prefix: "cli", Date: "2026-03-01", Publisher: "Demoland companies register"}
	file := append(bytes.Join([][]byte{b.Entity("A", "Alpha Holdings Ltd", "DL", ""), b.Person("P", "Pat Example", ""),
		b.Relationship("r1", "A", "P", []float64{60}, "")}, []byte("\n")), '\n')
	e.Must(t, 201, "POST", "/api/v1/assets/bods/imports?source=register.jsonl", officer, file)

	out := filepath.Join(t.TempDir(), "bods.json")
	stdout, errOut := custos(t, 0, "assets", "bods", "export", out, "--db", dsn, "--key-file", e.Cfg.KeyFile, "--token", officer)
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if all, err := bods.ReadAll(bytes.NewReader(got)); err != nil || len(all) != 3 || stdout != "" {
		t.Fatalf("the export: %d statements, %v; stdout %q", len(all), err, stdout)
	}
	checkpointLine(t, e.App.DB.Read(), errOut, string(got))
}
