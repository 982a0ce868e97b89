package index

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/custos-project/custos/internal/reftest"
)

// referenceDir returns the PDQ regression inputs, read in place from
// ../shared/reference/pdq; the test is skipped when they are absent.
func referenceDir(t *testing.T) string {
	t.Helper()
	return reftest.Path(t, "pdq", "data", "reg-test-input")
}

// readHashes parses one PDQ hex hash per line.
func readHashes(t *testing.T, path string) []Hash {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var hs []Hash
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if sc.Text() == "" {
			continue
		}
		h, err := ParseHex(sc.Text())
		if err != nil {
			t.Fatalf("%s:%d: %v", path, line, err)
		}
		hs = append(hs, h)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return hs
}

// TestReferenceNeedlesHaystack runs the ThreatExchange MIH regression input
// (C++ "test-mih test2 32 needles haystack": 100 needles, 1350 haystack
// hashes) through every path and layout and compares with brute force,
// including r = 32 as in the C++ test.
func TestReferenceNeedlesHaystack(t *testing.T) {
	ref := referenceDir(t)
	hay := readHashes(t, filepath.Join(ref, "haystack.txt"))
	needles := readHashes(t, filepath.Join(ref, "needles.txt"))
	if len(hay) != 1350 || len(needles) != 100 {
		t.Fatalf("read %d haystack and %d needle hashes, want 1350 and 100", len(hay), len(needles))
	}
	ids := make([]uint64, len(hay))
	for i := range ids {
		ids[i] = uint64(i)
	}
	for _, r := range []int{0, 16, 31, 32} {
		want := make([][]Match, len(needles))
		total := 0
		for i, q := range needles {
			want[i] = bruteForce(ids, hay, q, r)
			total += len(want[i])
		}
		t.Logf("r=%d: %d needle-haystack pairs within radius", r, total)
		for _, cfg := range []config{
			{},
			{minIndexed: 1, path: pathMIH},
			{minIndexed: 1, path: pathScan},
		} {
			x := buildWith(t, cfg, ids, hay)
			t.Run(fmt.Sprintf("r=%d/indexed=%v/path=%d", r, x.main.indexed, cfg.path), func(t *testing.T) {
				for i, q := range needles {
					checkSearch(t, x, q, r, want[i])
				}
				got, err := x.SearchBatch(needles, r)
				if err != nil {
					t.Fatal(err)
				}
				for i := range needles {
					compareMatches(t, "SearchBatch", r, sortMatches(got[i]), want[i])
				}
			})
		}
	}
}
