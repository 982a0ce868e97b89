package privfile_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/custos-project/custos/internal/privfile"
)

// TestWrite writes a file, replaces it (os.Rename) and is refused a second
// one in its place (os.Link): the file holds the first or the second
// content whole, with its newline, mode 0600, and no temporary file stays.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	for _, content := range []string{"first", "second"} {
		if err := privfile.Write(path, ".test-*", []byte(content), os.Rename); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(path); err != nil || string(b) != content+"\n" {
			t.Fatalf("the file holds %q, %v; want %q", b, err, content+"\n")
		}
	}
	if err := privfile.Write(path, ".test-*", []byte("third"), os.Link); !errors.Is(err, fs.ErrExist) {
		t.Errorf("linked over an existing file: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if b, _ := os.ReadFile(path); string(b) != "second\n" {
		t.Errorf("after the refused link the file holds %q", b)
	}
	if es, _ := os.ReadDir(dir); len(es) != 1 {
		t.Errorf("the folder holds %d files, want only the state", len(es))
	}
}
