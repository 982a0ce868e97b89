package server

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/i18n/i18ntest"
	"github.com/custos-project/custos/internal/module"
)

// alertSiteTypes are the composite literals whose Rule field becomes the rule
// of an alert: the alert itself (ledger.ProjectAlert) and the trafficking
// screenings' findings, which the transplant registry projects as alerts.
var alertSiteTypes = []string{"Alert", "TraffickingScreening", "AbroadScreening"}

// TestAlertRulesDeclared reads the code for every rule an alert is raised
// with, the rule of each errs.Alertf and the Rule of each alert or screening
// finding written as a literal, resolved where it is a constant, and checks
// that the default deployment declares it (module.Module.AlertRules), so
// that the alerts list filters by it before one is raised; and that every
// declared rule is raised somewhere, so that the list offers none that
// cannot happen, and named in docs/transplant.md's table of them. A rule the reading cannot resolve (a variable) is an error:
// write it as a constant.
func TestAlertRulesDeclared(t *testing.T) {
	root, err := i18ntest.Root()
	if err != nil {
		t.Fatal(err)
	}
	type site struct{ rule, at string }
	var sites []site
	// consts holds the string constants of every package, by "dir.Name" and,
	// for a reference from another package, by "pkg.Name".
	consts := map[string]string{}
	type file struct {
		dir, pkg, name string
		f              *ast.File
	}
	var files []file
	fset := token.NewFileSet()
	for _, top := range []string{"internal", "cmd"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			dir := filepath.Dir(rel)
			files = append(files, file{dir, f.Name.Name, rel, f})
			for _, decl := range f.Decls {
				g, ok := decl.(*ast.GenDecl)
				if !ok || g.Tok != token.CONST {
					continue
				}
				for _, spec := range g.Specs {
					vs := spec.(*ast.ValueSpec)
					for i, n := range vs.Names {
						if i < len(vs.Values) {
							if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
								v, _ := strconv.Unquote(lit.Value)
								consts[dir+"."+n.Name] = v
								consts[f.Name.Name+"."+n.Name] = v
							}
						}
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	resolve := func(fl file, e ast.Expr) (string, bool) {
		switch x := e.(type) {
		case *ast.BasicLit:
			if x.Kind == token.STRING {
				v, err := strconv.Unquote(x.Value)
				return v, err == nil
			}
		case *ast.Ident:
			v, ok := consts[fl.dir+"."+x.Name]
			return v, ok
		case *ast.SelectorExpr:
			if pkg, ok := x.X.(*ast.Ident); ok {
				v, ok := consts[pkg.Name+"."+x.Sel.Name]
				return v, ok
			}
		}
		return "", false
	}
	typeName := func(e ast.Expr) string {
		switch x := e.(type) {
		case *ast.Ident:
			return x.Name
		case *ast.SelectorExpr:
			return x.Sel.Name
		}
		return ""
	}
	for _, fl := range files {
		ast.Inspect(fl.f, func(n ast.Node) bool {
			at := func(p token.Pos) string { return fset.Position(p).String() }
			switch x := n.(type) {
			case *ast.CallExpr:
				sel, ok := x.Fun.(*ast.SelectorExpr)
				if !ok || sel.Sel.Name != "Alertf" || len(x.Args) < 2 {
					return true
				}
				if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != "errs" {
					return true
				}
				rule, ok := resolve(fl, x.Args[1])
				if !ok {
					t.Errorf("%s: the rule of errs.Alertf is not a string constant", at(x.Pos()))
					return true
				}
				sites = append(sites, site{rule, at(x.Pos())})
			case *ast.CompositeLit:
				if !slices.Contains(alertSiteTypes, typeName(x.Type)) {
					return true
				}
				for _, el := range x.Elts {
					kv, ok := el.(*ast.KeyValueExpr)
					if !ok {
						continue
					}
					if k, ok := kv.Key.(*ast.Ident); !ok || k.Name != "Rule" {
						continue
					}
					if rule, ok := resolve(fl, kv.Value); ok {
						sites = append(sites, site{rule, at(kv.Pos())})
					} else if sel, ok := kv.Value.(*ast.SelectorExpr); !ok || sel.Sel.Name != "Rule" {
						// A finding's rule carried on (h.Rule) was read
						// where the finding was made; anything else is not.
						t.Errorf("%s: the Rule of a %s is not a string constant", at(kv.Pos()), typeName(x.Type))
					}
				}
			}
			return true
		})
	}
	if len(sites) < 40 {
		t.Fatalf("only %d places raise an alert: the reading of the code broke", len(sites))
	}
	declared := module.Projections(Modules(DefaultModules())).AlertRules()
	raised := map[string]bool{}
	for _, s := range sites {
		raised[s.rule] = true
		if !slices.Contains(declared, s.rule) {
			t.Errorf("%s: an alert with rule %s, which no module declares in its AlertRules", s.at, s.rule)
		}
	}
	for _, r := range declared {
		if !raised[r] {
			t.Errorf("rule %s is declared to raise alerts, but no code raises one with it", r)
		}
	}
	// The regulator's documentation lists them.
	doc, err := os.ReadFile(filepath.Join(root, "docs", "transplant.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, table, _ := strings.Cut(string(doc), "The rules that raise alerts, by registry")
	table, _, _ = strings.Cut(table, "**A retried refusal")
	for _, r := range declared {
		if !strings.Contains(table, "`"+r+"`") {
			t.Errorf("docs/transplant.md's table of the rules that raise alerts does not name %s", r)
		}
	}
}
