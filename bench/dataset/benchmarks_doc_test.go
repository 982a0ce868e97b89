package dataset

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

var (
	// benchFuncRE finds a Go benchmark's declaration.
	benchFuncRE = regexp.MustCompile(`(?m)^func (Benchmark\w+)\(`)
	// namedRE finds a benchmark BENCHMARKS.md names as a function.
	namedRE = regexp.MustCompile(`\bBenchmark[A-Z]\w*`)
	// patternRE finds the pattern of a -bench or -test.bench flag, quoted
	// or not.
	patternRE = regexp.MustCompile("-(?:test\\.)?bench[= ]+(?:'([^']*)'|\"([^\"]*)\"|([^\\s`]+))")
	// tokenRE is a plain name, as a pattern's top level gives it.
	tokenRE = regexp.MustCompile(`^\w+$`)
)

// TestBenchmarksNamedExist reads every Go benchmark BENCHMARKS.md names,
// as BenchmarkX or as the top level of a -bench pattern (the names before
// its first '/', each alternative of it), and checks that a benchmark of
// the repository declares it: a benchmarker reproducing a figure runs
// these lines, and a benchmark renamed or deleted must not leave them
// behind. Sub-benchmarks (after the '/') are not checked.
func TestBenchmarksNamedExist(t *testing.T) {
	root := filepath.Join("..", "..")
	doc, err := os.ReadFile(filepath.Join(root, "BENCHMARKS.md"))
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]bool{}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range benchFuncRE.FindAllSubmatch(src, -1) {
			declared[string(m[1])] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Each name BENCHMARKS.md gives, by the line it is first on.
	names := map[string]int{}
	add := func(name string, line int) {
		if _, ok := names[name]; !ok {
			names[name] = line
		}
	}
	for i, line := range strings.Split(string(doc), "\n") {
		for _, n := range namedRE.FindAllString(line, -1) {
			add(n, i+1)
		}
		for _, m := range patternRE.FindAllStringSubmatch(line, -1) {
			pattern := m[1] + m[2] + m[3]
			top, _, _ := strings.Cut(pattern, "/")
			for _, alt := range strings.Split(top, "|") {
				alt = strings.TrimSuffix(strings.TrimPrefix(alt, "^"), "$")
				if !tokenRE.MatchString(alt) {
					continue // "." or a regular expression: not a name
				}
				add(alt, i+1)
			}
		}
	}
	// The document names a few dozen: finding few means the reading above
	// broke, not that every name is there.
	if len(names) < 20 {
		t.Fatalf("only %d benchmark names found in BENCHMARKS.md", len(names))
	}
	sorted := make([]string, 0, len(names))
	for name := range names {
		sorted = append(sorted, name)
	}
	sort.Strings(sorted)
	var missing []string
	for _, name := range sorted {
		line := names[name]
		found := false
		for d := range declared {
			// The top level of -bench matches anywhere in the name.
			if strings.Contains(d, name) {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, name)
			t.Errorf("BENCHMARKS.md:%d names the benchmark %s, which no _test.go declares", line, name)
		}
	}
	t.Logf("%d benchmark names checked against %d benchmarks declared; missing: %v", len(names), len(declared), missing)
}
