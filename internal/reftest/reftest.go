// Package reftest finds the official reference data (test vectors, schemas,
// sample media) that the project keeps beside the repository, in
// ../shared/reference relative to the folder holding go.mod. Tests read it in
// place and never copy it; where it is absent they skip with a message
// saying where it was expected. CI always has it.
package reftest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var root = sync.OnceValues(func() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "reference"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the test's folder")
		}
		dir = parent
	}
})

// Path returns ../shared/reference/elem... and skips tb when that path does
// not exist.
func Path(tb testing.TB, elem ...string) string {
	tb.Helper()
	r, err := root()
	if err != nil {
		tb.Skipf("reference data not available: %v (expected in ../shared/reference beside the repository)", err)
	}
	p := filepath.Join(append([]string{r}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("reference data not available: %v (it ships in ../shared/reference beside the repository)", err)
	}
	return p
}

// Lookup returns ../shared/reference/elem..., or an error when it does not
// exist, for callers that use the data when present and carry on without it
// (seeding a fuzz corpus, say).
func Lookup(elem ...string) (string, error) {
	r, err := root()
	if err != nil {
		return "", err
	}
	p := filepath.Join(append([]string{r}, elem...)...)
	_, err = os.Stat(p)
	return p, err
}

// PDQPhotoHash returns the hex hash the C++ pdq-photo-hasher gave the
// reference file rel (a path under pdq/data, slash-separated), from
// pdq/expected/cpp-pdq-photo-hasher.csv; it fails tb when rel is not there.
func PDQPhotoHash(tb testing.TB, rel string) string {
	tb.Helper()
	b, err := os.ReadFile(Path(tb, "pdq", "expected", "cpp-pdq-photo-hasher.csv"))
	if err != nil {
		tb.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if f := strings.Split(strings.TrimSpace(line), ","); len(f) > 1 && f[0] == rel {
			return f[1]
		}
	}
	tb.Fatalf("%s not in cpp-pdq-photo-hasher.csv", rel)
	return ""
}
