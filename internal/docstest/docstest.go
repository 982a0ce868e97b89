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

// Body is a JSON request body the documentation tells a user to send,
// with the operation it goes with: where it is (Doc, Line: its first
// line), the method and the path as the text writes them (placeholders and
// shell variables in segments: /api/v1/transplant/donors/$DONOR/consents),
// and the JSON as written, shell variables in strings ("$ORGAN") left as
// they are: they stand for strings.
type Body struct {
	Doc          string
	Line         int
	Method, Path string
	JSON         string
	// Curl is set for a body curl itself sends (not a shell function
	// wrapping it, whose definition may set headers), ContentType to the
	// media type its command line gives (-H 'Content-Type: ...', or
	// --json's application/json): curl's -d alone sends a form's.
	Curl        bool
	ContentType string
}

// bodyPath is an API path in a word of a command: /api/v1/... or an HMA
// route (/hma/...), up to its query.
var bodyPath = regexp.MustCompile(`(/api/v1/|/hma/)[^\s?#"']*`)

// bodyIntro is the line that introduces a ```json block as a request body:
// it ends by naming the operation in code and "with", as in
// "`POST /api/v1/transplant/trafficking/reports` with".
var bodyIntro = regexp.MustCompile("`(POST|PUT|PATCH|DELETE) ((?:/api/v1|/hma)/[^`\\s]*)` with:?$")

// bodyLine is a request written as one line of a block, the method, the
// path and the body: POST /api/v1/assets/bods/persons/{recordId}/erasure {"ground": "..."}.
var bodyLine = regexp.MustCompile(`^(POST|PUT|PATCH|DELETE) ((?:/api/v1|/hma)/\S*) (\{.*\})\s*$`)

// Bodies returns the JSON request bodies of README.md and docs/*.md, in
// three forms: the body of a command in a fenced block that sends one to
// an API path (-d, --data, --data-raw or --json followed by the JSON, or
// by @- with a here-document; curl or a shell function wrapping it; -X
// gives the method, POST otherwise; a body read from a file, @file, is not
// the text's and is left out); a line of a fenced block that gives the
// method, the path and the body; and a ```json block right after a line
// that ends by naming the operation and "with" (bodyIntro). Other ```json
// blocks are answers, documents and configuration files.
func Bodies(t testing.TB) []Body {
	t.Helper()
	var out []Body
	for _, d := range Docs(t) {
		out = append(out, DocBodies(d)...)
	}
	return out
}

// DocBodies returns the request bodies of one document (see Bodies).
func DocBodies(d Doc) []Body {
	var out []Body
	intro := "" // the last line of text before a fence
	for i := 0; i < len(d.Lines); i++ {
		line := strings.TrimSpace(d.Lines[i])
		if !strings.HasPrefix(line, "```") {
			if line != "" {
				intro = line
			}
			continue
		}
		lang := strings.TrimSpace(strings.TrimPrefix(line, "```"))
		start := i + 1
		end := start
		for end < len(d.Lines) && !strings.HasPrefix(strings.TrimSpace(d.Lines[end]), "```") {
			end++
		}
		block := d.Lines[start:end]
		i = end
		if lang == "json" {
			if m := bodyIntro.FindStringSubmatch(intro); m != nil {
				out = append(out, Body{Doc: d.Name, Line: start + 1, Method: m[1], Path: m[2], JSON: strings.Join(block, "\n")})
			}
			continue
		}
		for n, l := range block {
			if m := bodyLine.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
				out = append(out, Body{Doc: d.Name, Line: start + n + 1, Method: m[1], Path: m[2], JSON: m[3]})
			}
		}
		for _, c := range shellCommands(block) {
			if b, ok := c.body(); ok {
				b.Doc, b.Line = d.Name, start+c.line+1
				out = append(out, b)
			}
		}
		intro = ""
	}
	return out
}

// command is one command of a shell block: its words, unquoted as the
// shell would (variables left as written), the here-document it reads,
// and the line of the block (from 0) where it starts.
type command struct {
	words []string
	stdin string
	line  int
}

// body is the request body command c sends and its operation, if it sends
// one written in the text to an API path.
func (c command) body() (Body, bool) {
	var b Body
	method, body, found := "", "", false
	for i := 0; i < len(c.words); i++ {
		w := c.words[i]
		switch {
		case (w == "-X" || w == "--request") && i+1 < len(c.words):
			method = c.words[i+1]
			i++
		case (w == "-d" || w == "--data" || w == "--data-raw" || w == "--json") && i+1 < len(c.words):
			body, found = c.words[i+1], true
			if w == "--json" {
				b.ContentType = "application/json"
			}
			i++
		case (w == "-H" || w == "--header") && i+1 < len(c.words):
			if name, value, ok := strings.Cut(c.words[i+1], ":"); ok && strings.EqualFold(strings.TrimSpace(name), "Content-Type") {
				b.ContentType = strings.TrimSpace(value)
			}
			i++
		case b.Path == "" && bodyPath.MatchString(w):
			b.Path = bodyPath.FindString(w)
		}
	}
	if body == "@-" {
		body = c.stdin
	}
	if !found || b.Path == "" || body == "" || strings.HasPrefix(body, "@") {
		return b, false
	}
	if method == "" {
		method = "POST"
	}
	b.Method, b.JSON, b.Curl = method, body, c.words[0] == "curl"
	return b, true
}

// shellCommands splits the lines of a shell block into commands as the
// shell reads them, enough for the docs: single quotes keep everything,
// double quotes keep all but \" \\ \$ and \ at a line's end, a backslash
// at a line's end continues the line, a newline, ;, |, &&, ||, ( and )
// outside quotes end a command ($(...) included), # starts a comment, and
// <<WORD (<<'WORD', <<-WORD) reads the lines up to WORD as the command's
// here-document.
func shellCommands(lines []string) []command {
	text := strings.Join(lines, "\n") + "\n"
	var out []command
	var cur command
	var w strings.Builder
	inWord := false
	// The here-documents awaiting their lines: the delimiter and the
	// command that reads it (its index in out once flushed).
	type pending struct {
		delim string
		cmd   int
	}
	var heredoc []pending
	lineNo := 0
	flushWord := func() {
		if inWord {
			cur.words = append(cur.words, w.String())
			w.Reset()
			inWord = false
		}
	}
	flushCmd := func() {
		flushWord()
		if len(cur.words) > 0 {
			out = append(out, cur)
		}
		cur = command{line: lineNo}
	}
	rs := []rune(text)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == '\'':
			inWord = true
			for i++; i < len(rs) && rs[i] != '\''; i++ {
				if rs[i] == '\n' {
					lineNo++
				}
				w.WriteRune(rs[i])
			}
		case r == '"':
			inWord = true
			for i++; i < len(rs) && rs[i] != '"'; i++ {
				switch {
				case rs[i] == '\\' && i+1 < len(rs) && strings.ContainsRune("\"\\$`", rs[i+1]):
					i++
					w.WriteRune(rs[i])
				case rs[i] == '\\' && i+1 < len(rs) && rs[i+1] == '\n':
					i++
					lineNo++
				default:
					if rs[i] == '\n' {
						lineNo++
					}
					w.WriteRune(rs[i])
				}
			}
		case r == '\\' && i+1 < len(rs):
			i++
			if rs[i] == '\n' {
				lineNo++
				flushWord()
			} else {
				inWord = true
				w.WriteRune(rs[i])
			}
		case r == '#' && !inWord:
			for i+1 < len(rs) && rs[i+1] != '\n' {
				i++
			}
		case r == '<' && i+1 < len(rs) && rs[i+1] == '<':
			flushWord()
			i += 2
			if i < len(rs) && rs[i] == '-' {
				i++
			}
			for i < len(rs) && rs[i] == ' ' {
				i++
			}
			var d strings.Builder
			for ; i < len(rs) && !strings.ContainsRune(" \n;|&)", rs[i]); i++ {
				if rs[i] != '\'' && rs[i] != '"' {
					d.WriteRune(rs[i])
				}
			}
			i--
			heredoc = append(heredoc, pending{d.String(), len(out)})
		case r == '\n':
			lineNo++
			flushCmd()
			// The here-documents start on the next line.
			for _, h := range heredoc {
				var doc []string
				for i+1 < len(rs) {
					j := i + 1
					for j < len(rs) && rs[j] != '\n' {
						j++
					}
					l := string(rs[i+1 : j])
					i = j
					lineNo++
					if strings.TrimLeft(l, "\t") == h.delim {
						break
					}
					doc = append(doc, l)
				}
				if h.cmd < len(out) {
					out[h.cmd].stdin = strings.Join(doc, "\n")
				}
			}
			heredoc = nil
			cur.line = lineNo
		case r == ';' || r == '|' || r == '&' || r == '(' || r == ')':
			flushCmd()
		case r == ' ' || r == '\t':
			flushWord()
		default:
			inWord = true
			w.WriteRune(r)
		}
	}
	flushCmd()
	return out
}
