package pdq

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/custos-project/custos/internal/reftest"
)

// refDir returns the PDQ reference data, read in place from
// ../shared/reference/pdq; the test is skipped when it is absent.
func refDir(tb testing.TB) string {
	tb.Helper()
	return reftest.Path(tb, "pdq")
}

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
