// Package i18ntest is the catalogue check: it finds the messages the source
// and the templates use, the text templates carry outside them, and compares
// them with the catalogues. The suite runs it (internal/server's
// TestCatalogue, internal/web's TestTemplatesHaveNoLiteralText).
package i18ntest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/template/parse"
	"unicode"

	"golang.org/x/text/feature/plural"

	"github.com/custos-project/custos/internal/i18n"
)

// Use is where a message is used: file:line, then CountMark when it is
// written with a count (N, "tn").
type Use = string

// CountMark ends the Use of a message written with a count.
const CountMark = " (with a count)"

// messageCalls are the functions whose argument at the index is a message
// ID: the refusals' formats (errs), the marker i18n.M and the names of the
// roles' actions (auth.NewAction), which a refusal names. Inside its own
// package a function is called by its bare name (NewAction in package
// auth): such a call is read too, when its argument is a literal (the
// package's own wrappers hand theirs on).
var messageCalls = map[string]int{
	"errs.New":       3,
	"errs.Alertf":    3,
	"errs.Invalidf":  2,
	"i18n.M":         0,
	"auth.NewAction": 0,
}

// methodCalls are the methods whose argument at the index is a message
// ID: the Localizer's (and web.Session's) T and N, and the title of a page
// (web.Session.View, the UI's newView).
var methodCalls = map[string]int{"T": 0, "N": 0, "View": 1, "newView": 2}

// commandCalls are the ledger Writer's methods and functions whose
// argument at the index is a command's name, which the alerts pages write
// in the reader's language: a literal name is a message. A function that
// hands one of its parameters on as such a name (a service's helper that
// submits, or refuses, the command its caller names) is one too, for its
// callers (handOns).
var commandCalls = map[string]int{"Submit": 2, "SubmitAhead": 2, "Refused": 2, "CommitKept": 3, "SubmitAs": 3, "SubmitAheadAs": 3}

// Go reads the Go files under root (tests, testdata and vendored code
// aside) and returns the message IDs they use, with where; and the calls
// whose message is not a literal, which the check cannot read (every
// message must be a literal, so that the catalogue can hold it).
func Go(root string) (map[string][]Use, []string, error) {
	used := map[string][]Use{}
	var problems []string
	fset := token.NewFileSet()
	var files []*ast.File
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "testdata", "vendor", ".git", "node_modules", "moduletest":
				return filepath.SkipDir
			}
			if strings.HasSuffix(p, "i18ntest") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files = append(files, f)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	commands := handOns(files)
	for _, f := range files {
		consts := constants(f)
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if i, ok := commandCall(commands, call); ok && i < len(call.Args) {
				if s, ok := commandName(consts, call.Args[i]); ok {
					pos := fset.Position(call.Pos())
					used[s] = append(used[s], fmt.Sprintf("%s:%d", rel(root, pos.Filename), pos.Line))
				}
				return true
			}
			if id, ok := call.Fun.(*ast.Ident); ok {
				// a bare call, inside the function's own package
				if i, ok := messageCalls[f.Name.Name+"."+id.Name]; ok && i < len(call.Args) {
					if s, ok := literal(call.Args[i]); ok {
						pos := fset.Position(call.Pos())
						used[s] = append(used[s], fmt.Sprintf("%s:%d", rel(root, pos.Filename), pos.Line))
					}
				}
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			idx := -1
			if x, ok := sel.X.(*ast.Ident); ok {
				if i, ok := messageCalls[x.Name+"."+sel.Sel.Name]; ok {
					idx = i
				}
			}
			if mi, ok := methodCalls[sel.Sel.Name]; idx < 0 && ok && len(call.Args) > mi {
				// only literals are read, as any other method of those
				// names may take other things.
				if s, ok := literal(call.Args[mi]); ok {
					pos := fset.Position(call.Pos())
					use := fmt.Sprintf("%s:%d", rel(root, pos.Filename), pos.Line)
					if sel.Sel.Name == "N" {
						use += CountMark
					}
					used[s] = append(used[s], use)
				}
				return true
			}
			if idx < 0 || idx >= len(call.Args) {
				return true
			}
			pos := fset.Position(call.Pos())
			where := fmt.Sprintf("%s:%d", rel(root, pos.Filename), pos.Line)
			s, ok := literal(call.Args[idx])
			if !ok {
				problems = append(problems, where+": the message of "+sel.Sel.Name+" is not a literal string, so no catalogue can hold it")
				return true
			}
			used[s] = append(used[s], where)
			return true
		})
	}
	return used, problems, nil
}

// handOns are commandCalls and the functions of files that hand a
// parameter on as a command's name, by name, with the parameter's index:
// alerts.Service.work's name, auth.Sessions.end's, a helper that refuses
// the command its caller names. A function handing on to such a function
// is one too.
func handOns(files []*ast.File) map[string]int {
	out := maps.Clone(commandCalls)
	for changed := true; changed; {
		changed = false
		for _, f := range files {
			for _, decl := range f.Decls {
				fd, ok := decl.(*ast.FuncDecl)
				if !ok || fd.Body == nil {
					continue
				}
				if _, ok := out[fd.Name.Name]; ok {
					continue
				}
				params := map[string]int{}
				i := 0
				for _, field := range fd.Type.Params.List {
					for _, n := range field.Names {
						params[n.Name] = i
						i++
					}
					if len(field.Names) == 0 {
						i++
					}
				}
				ast.Inspect(fd.Body, func(n ast.Node) bool {
					call, ok := n.(*ast.CallExpr)
					if !ok {
						return true
					}
					if i, ok := commandCall(out, call); ok && i < len(call.Args) {
						if id, ok := call.Args[i].(*ast.Ident); ok {
							if k, ok := params[id.Name]; ok {
								out[fd.Name.Name] = k
								changed = true
								return false
							}
						}
					}
					return true
				})
			}
		}
	}
	return out
}

// commandCall tells whether call names a command (commandCalls), and the
// index of the name: w.Submit(...), ledger.SubmitAs[T](...), SubmitAs[T]
// inside package ledger.
func commandCall(commands map[string]int, call *ast.CallExpr) (int, bool) {
	fun := call.Fun
	if ix, ok := fun.(*ast.IndexExpr); ok {
		fun = ix.X
	}
	var name string
	switch f := fun.(type) {
	case *ast.SelectorExpr:
		name = f.Sel.Name
	case *ast.Ident:
		name = f.Name
	}
	i, ok := commands[name]
	return i, ok
}

// named is a string constant declared in a file, where.
type named struct {
	pos   token.Pos
	value string
}

// constants are a file's string constants by name ("const command =
// "record transplant"", once in each function that names its command).
func constants(f *ast.File) map[string][]named {
	out := map[string][]named{}
	ast.Inspect(f, func(n ast.Node) bool {
		d, ok := n.(*ast.GenDecl)
		if !ok || d.Tok != token.CONST {
			return true
		}
		for _, sp := range d.Specs {
			vs := sp.(*ast.ValueSpec)
			for i, id := range vs.Names {
				if i < len(vs.Values) {
					if s, ok := literal(vs.Values[i]); ok {
						out[id.Name] = append(out[id.Name], named{id.Pos(), s})
					}
				}
			}
		}
		return true
	})
	return out
}

// commandName is a command's name: a literal, or the constant of that name
// declared last before it in the file.
func commandName(consts map[string][]named, e ast.Expr) (string, bool) {
	if s, ok := literal(e); ok {
		return s, true
	}
	id, ok := e.(*ast.Ident)
	if !ok {
		return "", false
	}
	var found *named
	for i, c := range consts[id.Name] {
		if c.pos < id.Pos() || found == nil {
			found = &consts[id.Name][i]
		}
	}
	if found == nil {
		return "", false
	}
	return found.value, true
}

func rel(root, p string) string {
	if r, err := filepath.Rel(root, p); err == nil {
		return r
	}
	return p
}

// literal reads a string literal, or a concatenation of them.
func literal(e ast.Expr) (string, bool) {
	switch v := e.(type) {
	case *ast.BasicLit:
		if v.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(v.Value)
		return s, err == nil
	case *ast.BinaryExpr:
		if v.Op != token.ADD {
			return "", false
		}
		a, ok1 := literal(v.X)
		b, ok2 := literal(v.Y)
		return a + b, ok1 && ok2
	case *ast.ParenExpr:
		return literal(v.X)
	}
	return "", false
}

// TemplateFuncs are the templates' functions whose argument at the index
// is a message ID: "t" and "tn", the label of "field", and "hint".
var TemplateFuncs = map[string]int{"t": 0, "tn": 0, "field": 3, "hint": 0}

// Templates reads every *.html under fsys (at any depth) and returns the
// message IDs their "t" and "tn" calls use, and the literal text they
// carry outside them (see Literal).
func Templates(fsys fs.FS) (map[string][]Use, []string, error) {
	used := map[string][]Use{}
	var problems []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".html") {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		trees, err := parseTemplate(p, string(b))
		if err != nil {
			return err
		}
		names := make([]string, 0, len(trees))
		for n := range trees {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			tr := trees[n]
			var skeleton strings.Builder
			walk(tr.Root, func(node parse.Node) {
				switch v := node.(type) {
				case *parse.TextNode:
					skeleton.Write(v.Text)
				case *parse.ActionNode, *parse.TemplateNode:
					skeleton.WriteString("\x00")
				case *parse.CommandNode:
					if id, ok := v.Args[0].(*parse.IdentifierNode); ok {
						if i, ok := TemplateFuncs[id.Ident]; ok && len(v.Args) > i+1 {
							if s, ok := v.Args[i+1].(*parse.StringNode); ok {
								line := strings.Count(string(b[:v.Position()]), "\n") + 1
								use := fmt.Sprintf("%s:%d", p, line)
								if id.Ident == "tn" {
									use += CountMark
								}
								used[s.Text] = append(used[s.Text], use)
							}
						}
					}
				}
			})
			for _, lit := range Literal(skeleton.String()) {
				problems = append(problems, fmt.Sprintf("%s: template %q carries literal text %q: write it with {{t \"…\"}}", p, n, lit))
			}
		}
		return nil
	})
	return used, problems, err
}

func parseTemplate(name, text string) (map[string]*parse.Tree, error) {
	t := parse.New(name)
	t.Mode = parse.SkipFuncCheck | parse.ParseComments
	trees := map[string]*parse.Tree{}
	if _, err := t.Parse(text, "", "", trees); err != nil {
		return nil, err
	}
	return trees, nil
}

// walk visits every node of the tree, in order.
func walk(n parse.Node, f func(parse.Node)) {
	if n == nil {
		return
	}
	f(n)
	switch v := n.(type) {
	case *parse.ListNode:
		if v == nil {
			return
		}
		for _, c := range v.Nodes {
			walk(c, f)
		}
	case *parse.ActionNode:
		walk(v.Pipe, f)
	case *parse.PipeNode:
		if v == nil {
			return
		}
		for _, c := range v.Cmds {
			walk(c, f)
		}
	case *parse.CommandNode:
		for _, a := range v.Args {
			walk(a, f)
		}
	case *parse.IfNode:
		walk(v.Pipe, f)
		walk(v.List, f)
		walk(v.ElseList, f)
	case *parse.RangeNode:
		walk(v.Pipe, f)
		walk(v.List, f)
		walk(v.ElseList, f)
	case *parse.WithNode:
		walk(v.Pipe, f)
		walk(v.List, f)
		walk(v.ElseList, f)
	case *parse.TemplateNode:
		walk(v.Pipe, f)
	}
}

var (
	commentRE = regexp.MustCompile(`(?s)<!--.*?-->`)
	tagRE     = regexp.MustCompile(`(?s)<[a-zA-Z/!][^>]*>`)
	// visibleAttrRE finds the attributes people read or hear.
	visibleAttrRE = regexp.MustCompile(`(?i)\b(placeholder|title|alt|aria-label|aria-description)\s*=\s*"([^"]*)"`)
)

// NotWords are the tokens a page may carry as they are, being names
// rather than words of a language: the product's name, file formats,
// algorithms and units.
var NotWords = []string{"custos", "CSV", "XLSX", "JSON", "PDQ", "vPDQ", "MD5", "SHA-256", "SHA256", "TMK", "PDQF", "ICCS", "API", "UTC", "RFC", "ID", "HTTP", "HTTPS", "URL", "PEM", "TLS", "ed25519"}

// Literal returns the words of a template's text (actions replaced by NUL)
// that are outside any message: text between tags, and the values of the
// attributes people read (placeholder, title, alt, aria-label).
func Literal(skeleton string) []string {
	s := commentRE.ReplaceAllString(skeleton, "")
	var out []string
	s = tagRE.ReplaceAllStringFunc(s, func(tag string) string {
		for _, m := range visibleAttrRE.FindAllStringSubmatch(tag, -1) {
			if w := words(m[2]); w != "" {
				out = append(out, w)
			}
		}
		return "\x00"
	})
	for _, part := range strings.Split(s, "\x00") {
		if w := words(part); w != "" {
			out = append(out, w)
		}
	}
	return out
}

// words returns part, trimmed, when it holds a letter outside the tokens
// that are not words; else "".
func words(part string) string {
	fields := strings.FieldsFunc(part, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' })
	for _, f := range fields {
		if slices.Contains(NotWords, f) || strings.IndexFunc(f, unicode.IsLetter) < 0 {
			continue
		}
		// an HTML entity (&middot;) is not a word either
		if strings.Contains(part, "&"+f+";") {
			continue
		}
		return strings.Join(strings.Fields(part), " ")
	}
	return ""
}

// Report is what the check finds wrong, one line each.
type Report []string

// Check compares the messages used with the catalogue: every message used
// is in one module's en.json, every module's file of every language has
// exactly the messages of its en.json, every message of an en.json is used,
// and each translation has the fmt verbs of its English text.
func Check(cat *i18n.Catalogue, used map[string][]Use) Report {
	var r Report
	// the English files: which module holds each message
	holder := map[string]string{}
	for _, f := range cat.Files() {
		if f.Language != i18n.Default {
			continue
		}
		for id := range f.Entries() {
			holder[id] = f.Module
		}
	}
	ids := make([]string, 0, len(used))
	for id := range used {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	plural := map[string]bool{}
	for _, f := range cat.Files() {
		if f.Language == i18n.Default {
			for id, e := range f.Entries() {
				plural[id] = e.Plural()
			}
		}
	}
	for _, id := range ids {
		if strings.IndexFunc(verbRE.ReplaceAllString(id, ""), unicode.IsLetter) < 0 && !isLayout(id) {
			r = append(r, fmt.Sprintf("message %q (used at %s) has no words: a message is the sentence itself, not a text made elsewhere", id, strings.Join(used[id], ", ")))
		}
		if _, ok := holder[id]; !ok {
			r = append(r, fmt.Sprintf("message %q (used at %s) is in no catalogue's en.json", id, strings.Join(used[id], ", ")))
			continue
		}
		if counted(used[id]) != plural[id] {
			r = append(r, fmt.Sprintf("message %q: written with a count %v, plural forms in %s/en.json %v: they go together", id, counted(used[id]), holder[id], plural[id]))
		}
	}
	for _, f := range cat.Files() {
		mod := f.Module
		var en map[string]i18n.Entry
		for _, g := range cat.Files() {
			if g.Module == mod && g.Language == i18n.Default {
				en = g.Entries()
			}
		}
		for id, e := range f.Entries() {
			if _, ok := en[id]; !ok {
				r = append(r, fmt.Sprintf("%s/%s.json: message %q is not in %s/en.json", mod, f.Language, id, mod))
				continue
			}
			if f.Language == i18n.Default {
				if _, ok := used[id]; !ok {
					r = append(r, fmt.Sprintf("%s/en.json: message %q is used nowhere", mod, id))
				}
			}
			want := verbs(id)
			if en[id].Plural() {
				want = verbs(en[id].Forms[pluralOther])
			}
			for form, text := range e.Forms {
				if got := verbs(text); got != want && !(en[id].Plural() && form != pluralOther && subsetVerbs(got, want)) {
					r = append(r, fmt.Sprintf("%s/%s.json: message %q: the %s form has the verbs %q, the English %q", mod, f.Language, id, i18n.FormName(form), got, want))
				}
			}
		}
		for id := range en {
			if _, ok := f.Entries()[id]; !ok {
				r = append(r, fmt.Sprintf("%s/%s.json: message %q is missing", mod, f.Language, id))
			}
		}
	}
	sort.Strings(r)
	return r
}

const pluralOther = plural.Other

// isLayout tells whether a message is one of the layouts of dates and
// times (i18n.DateLayout…), which have digits, not words.
func isLayout(id string) bool {
	return id == i18n.DateLayout || id == i18n.MinuteLayout || id == i18n.SecondLayout
}

var verbRE = regexp.MustCompile(`%(\[\d+\])?[-+# 0]*\d*(\.\d+)?[a-zA-Z%]`)

// verbs writes the fmt verbs of a text in argument order ("1:s 2:d"),
// explicit indexes read, so that a translation that reorders them still
// matches.
func verbs(text string) string {
	var out []string
	n := 0
	for _, m := range verbRE.FindAllStringSubmatch(text, -1) {
		v := m[0]
		if strings.HasSuffix(v, "%%") || v == "%%" {
			continue
		}
		if m[1] != "" {
			n, _ = strconv.Atoi(strings.Trim(m[1], "[]"))
		} else {
			n++
		}
		out = append(out, fmt.Sprintf("%d:%s", n, v[len(v)-1:]))
	}
	sort.Strings(out)
	return strings.Join(dedupe(out), " ")
}

func dedupe(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// subsetVerbs tells whether a plural form's verbs are some of the other
// form's: "one organ" may leave the count out.
func subsetVerbs(got, want string) bool {
	w := strings.Fields(want)
	for _, g := range strings.Fields(got) {
		if !slices.Contains(w, g) {
			return false
		}
	}
	return true
}

// Root is the repository's root: the nearest folder above the working
// directory with a go.mod.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", fmt.Errorf("no go.mod above %s", dir)
		}
		dir = up
	}
}

// counted tells whether a message is written with a count somewhere.
func counted(uses []Use) bool {
	for _, u := range uses {
		if strings.HasSuffix(u, CountMark) {
			return true
		}
	}
	return false
}

// Used reads the messages the repository at root uses: its Go source's
// (Go) and its templates' (Templates, internal/web/templates), with what
// the check finds wrong there (a message that is not a literal, a
// template's literal text).
func Used(root string) (map[string][]Use, []string, error) {
	used, problems, err := Go(root)
	if err != nil {
		return nil, nil, err
	}
	inTemplates, literal, err := Templates(os.DirFS(filepath.Join(root, "internal", "web", "templates")))
	if err != nil {
		return nil, nil, err
	}
	return Merge(used, inTemplates), append(problems, literal...), nil
}

// Merge adds the uses of b to a.
func Merge(a, b map[string][]Use) map[string][]Use {
	for id, uses := range b {
		a[id] = append(a[id], uses...)
	}
	return a
}

// Owner is the module whose catalogue holds a message used at these
// places: the module named by a folder or the start of a file's name
// (internal/transplant/..., web/transplant_pages.go, templates
// transplant/donor.html), when all the uses name the same one; else the
// core's.
func Owner(uses []Use, modules []string) string {
	owner := ""
	for _, u := range uses {
		m := "core"
		for _, seg := range strings.FieldsFunc(strings.SplitN(u, ":", 2)[0], func(r rune) bool { return r == '/' || r == '_' || r == '.' }) {
			if slices.Contains(modules, seg) {
				m = seg
				break
			}
		}
		if owner != "" && owner != m {
			return "core"
		}
		owner = m
	}
	if owner == "" {
		return "core"
	}
	return owner
}

// Sync rewrites the catalogues in dirs (module -> its locales folder on
// disk) to match the messages used: each module's en.json gets the
// messages it owns (Owner), its English plural forms kept and a new
// message's English being its ID; the other languages lose the messages
// en.json no longer has. It is the check's -update; translating the new
// messages is left to people (and the check fails until they do).
func Sync(dirs map[string]string, used map[string][]Use) error {
	var modules []string
	for m := range dirs {
		modules = append(modules, m)
	}
	own := map[string]map[string]bool{}
	for id, uses := range used {
		m := Owner(uses, modules)
		if own[m] == nil {
			own[m] = map[string]bool{}
		}
		own[m][id] = true
	}
	for mod, dir := range dirs {
		names, err := filepath.Glob(filepath.Join(dir, "*.json"))
		if err != nil {
			return err
		}
		for _, p := range names {
			var f fileJSON
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if err := json.Unmarshal(b, &f); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			if f.Language == i18n.Default {
				msgs := map[string]json.RawMessage{}
				for id := range own[mod] {
					if v, ok := f.Messages[id]; ok {
						msgs[id] = v
						continue
					}
					if counted(used[id]) {
						msgs[id], _ = json.Marshal(map[string]string{"one": id, "other": id})
					} else {
						msgs[id], _ = json.Marshal(id)
					}
				}
				f.Messages = msgs
			} else {
				for id := range f.Messages {
					if !own[mod][id] {
						delete(f.Messages, id)
					}
				}
				for id := range f.Machine {
					if !own[mod][id] {
						delete(f.Machine, id)
					}
				}
			}
			if err := writeJSON(p, f); err != nil {
				return err
			}
		}
	}
	return nil
}

// fileJSON is a catalogue file as written.
type fileJSON struct {
	Language string                     `json:"language"`
	Name     string                     `json:"name,omitempty"`
	Messages map[string]json.RawMessage `json:"messages"`
	Machine  map[string]json.RawMessage `json:"machine,omitempty"`
}

// writeJSON writes a catalogue file as the project keeps them: keys in
// order, two spaces, no HTML escapes, a newline at the end.
func writeJSON(p string, f fileJSON) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return err
	}
	return os.WriteFile(p, buf.Bytes(), 0o644)
}
