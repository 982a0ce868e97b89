package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
)

// TestHashmatchScanHostileNames: scan and hash print a file's path as it is
// when it is plain text, and quoted (Go's %q) when it holds a control
// character, a bidirectional control or bytes that are not UTF-8. A folder
// of uploads is named by whoever uploaded them: before, a name holding
// ESC [2K and a carriage return erased its own match line on the
// terminal, and one holding a newline printed a line of its own.
func TestHashmatchScanHostileNames(t *testing.T) {
	r := newCLIRegistry(t)
	a := apptest.BlocksPNG(t, 1)
	h, err := hashmatch.HashImage(bytes.NewReader(a), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	r.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+r.bank+"/versions", r.Analyst, map[string]any{"adds": []any{
		map[string]any{"entry_id": "img-a", "pdq": h.PDQ.String(), "classification": "A1"}}})
	bankFile, keyFile := r.pull(t, "version 1, 1 entries")

	dir := t.TempDir()
	hidden := "a\x1b[2K\rnothing here.png"
	forged := "b\nmatch  forged.png"
	for name, content := range map[string][]byte{hidden: a, forged: []byte("not an image"), "caf\xe9.png": a, "r\u202egnp.png": a, "plain.png": a} {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, _ := custos(t, 0, "hashmatch", "scan", "--quiet", dir, "--bank", bankFile, "--public-key", keyFile)
	if strings.ContainsAny(out, "\x1b\r\u202e") || !strings.HasPrefix(out, "match") {
		t.Errorf("scan writes a name's control characters as they are:\n%q", out)
	}
	for _, want := range []string{
		`"` + filepath.Join(dir, "a") + `\x1b[2K\rnothing here.png"`,
		`"` + filepath.Join(dir, "b") + `\nmatch  forged.png"`,
		`"` + filepath.Join(dir, "caf") + `\xe9.png"`,
		`"` + filepath.Join(dir, "r") + `\u202egnp.png"`,
		" " + filepath.Join(dir, "plain.png") + " ",
		"scanned 5 files: 4 match, 0 no match, 0 low quality, 0 suppressed, 1 errors",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("scan does not show %s:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "\n"); n != 7 {
		t.Errorf("scan printed %d lines, want 5 files and 2 lines of counts:\n%s", n, out)
	}

	out, errOut := custos(t, 1, "hashmatch", "hash", filepath.Join(dir, hidden), filepath.Join(dir, forged))
	if strings.ContainsAny(out+errOut, "\x1b\r") || !strings.Contains(out, `\x1b[2K\rnothing here.png"`) ||
		!strings.Contains(errOut, `\nmatch  forged.png": `) {
		t.Errorf("hash writes a name's control characters as they are:\n%q\n%q", out, errOut)
	}
}
