package pdq

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

// refDir returns the directory of the PDQ reference data, which lives
// outside the module at <repo root>/../shared/reference/pdq. It skips the
// test when the data is absent (CI always has it).
func refDir(tb testing.TB) string {
	tb.Helper()
	dir, err := refDirOnce()
	if err != nil {
		tb.Skipf("PDQ reference data not available (%v); expected at <repo root>/../shared/reference/pdq", err)
	}
	return dir
}

var refDirOnce = sync.OnceValues(func() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
	ref := filepath.Join(dir, "..", "shared", "reference", "pdq")
	if _, err := os.Stat(filepath.Join(ref, "README.md")); err != nil {
		return "", err
	}
	return ref, nil
})

// refPath joins path elements onto the reference directory.
func refPath(tb testing.TB, elem ...string) string {
	tb.Helper()
	return filepath.Join(append([]string{refDir(tb)}, elem...)...)
}

// readCSV reads a reference CSV as maps from header name to value.
func readCSV(tb testing.TB, name string) []map[string]string {
	tb.Helper()
	f, err := os.Open(refPath(tb, "expected", name))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	if len(recs) < 2 {
		tb.Fatalf("%s: no data rows", name)
	}
	var rows []map[string]string
	for _, rec := range recs[1:] {
		row := make(map[string]string, len(rec))
		for i, v := range rec {
			row[recs[0][i]] = v
		}
		rows = append(rows, row)
	}
	return rows
}

func mustAtoi(tb testing.TB, s string) int {
	tb.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

func mustParseHex(tb testing.TB, s string) Hash {
	tb.Helper()
	h, err := ParseHex(s)
	if err != nil {
		tb.Fatal(err)
	}
	return h
}
