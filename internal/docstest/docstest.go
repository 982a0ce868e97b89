// Package docstest reads the documentation a user follows, the README and
// docs/*.md, for the tests that check what it shows against the code: its
// command lines (cmd/custos), API paths (internal/httpapi) and web page
// paths (internal/web).
package docstest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
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

// Served is a route or a page: the method it is served for and its path
// pattern ("/api/v1/transplant/donors/{id}").
type Served struct {
	Method, Pattern string
}

// CheckPaths finds every match of re in the docs (its first group the
// method, possibly empty; its second the path), leaves out those skip
// says are not the kind served lists (and prefixes ending in /), and fails
// t for each path no pattern of served matches, or that no matching one
// serves for the method the text gives. what names served in the failure
// ("route of the API"). It returns how many paths it checked, for the
// caller to tell a reading that broke from docs that are right.
func CheckPaths(t *testing.T, re *regexp.Regexp, served []Served, what string, skip func(path string) bool) int {
	t.Helper()
	checked := 0
	for _, d := range Docs(t) {
		for n, line := range d.Lines {
			for _, m := range re.FindAllStringSubmatch(line, -1) {
				method, path := m[1], strings.TrimRight(m[2], ".:,")
				if strings.HasSuffix(path, "/") || skip(path) {
					continue
				}
				checked++
				found, methodOK := false, false
				for _, s := range served {
					if PathMatches(s.Pattern, path) {
						found = true
						methodOK = methodOK || method == "" || method == s.Method
					}
				}
				where := fmt.Sprintf("%s:%d: %s", d.Name, n+1, strings.TrimSpace(method+" "+path))
				if !found {
					t.Errorf("%s: no %s has this path", where, what)
				} else if !methodOK {
					t.Errorf("%s: no %s serves it for %s", where, what, method)
				}
			}
		}
	}
	return checked
}
