// Package docstest reads the documentation a user follows, the README and
// docs/*.md, for the tests that check what it shows against the code: its
// command lines (cmd/custos), API paths (internal/httpapi) and web page
// paths (internal/web).
package docstest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/i18n/i18ntest"
)

// Doc is one Markdown file: its name (docs/operations.md) and its lines.
type Doc struct {
	Name  string
	Lines []string
}

// Docs returns README.md and every docs/*.md of the repository.
func Docs(t testing.TB) []Doc {
	t.Helper()
	root, err := i18ntest.Root()
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no docs/*.md under %s (%v)", root, err)
	}
	var out []Doc
	for _, f := range append(files, filepath.Join(root, "README.md")) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name, _ := filepath.Rel(root, f)
		out = append(out, Doc{Name: name, Lines: strings.Split(string(b), "\n")})
	}
	return out
}

// PathMatches tells whether a path the documentation names is one a route
// or page pattern serves, segment by segment: a pattern's {parameter}
// stands for any segment, so that the text's placeholders ({id}, SA-…,
// <bank>) and real ids both match it.
func PathMatches(pattern, path string) bool {
	ps, ds := strings.Split(strings.TrimSuffix(pattern, "/"), "/"), strings.Split(strings.TrimSuffix(path, "/"), "/")
	if len(ps) != len(ds) {
		return false
	}
	for i, s := range ds {
		if s != ps[i] && !(strings.HasPrefix(ps[i], "{") && s != "") {
			return false
		}
	}
	return true
}
