// Package privfile writes the files only their owner may read (mode 0600):
// key files, a witness's state, a verifier's state.
package privfile

import (
	"os"
	"path/filepath"
)

// Write writes data, then a newline, to a new file with mode 0600 beside
// path (its name starting with pattern, as os.CreateTemp takes it), syncs
// it, and has place put it at path: os.Rename to replace what is there,
// os.Link to refuse to. The file at path is therefore whole or absent, never
// half-written; the temporary file is removed whatever happens.
func Write(path, pattern string, data []byte, place func(tmp, path string) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), pattern)
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return place(tmp, path)
}
