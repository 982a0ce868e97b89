package bods

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/assets/bods/bodsgen"
	"github.com/custos-project/custos/internal/errs"
)

// reference is the official BODS 0.4 schema and examples, read in place.
var reference = filepath.Join("..", "..", "..", "..", "shared", "reference", "bods")

func needReference(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(reference, "schema", "statement.json")); err != nil {
		t.Skipf("the BODS reference is not at %s (../shared/reference/bods from the repository root): %v", reference, err)
	}
}

// TestSchemaIsTheReference checks that the embedded schema is what genbods
// writes from shared/reference/bods/schema, byte for byte.
func TestSchemaIsTheReference(t *testing.T) {
	needReference(t)
	src, err := bodsgen.Generate(filepath.Join(reference, "schema"))
	if err != nil {
		t.Fatal(err)
	}
	have, err := os.ReadFile("schema_v04.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(src, have) {
		t.Fatal("schema_v04.go is not what genbods writes from the reference: run go generate ./internal/assets/bods")
	}
}

func example(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(reference, "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var examples = []string{"bods-package.json", "joint-ownership.json", "simple-pep-declaration.json"}

// TestOfficialExamplesValid reads every official example, as a JSON array
// and as JSON Lines.
func TestOfficialExamplesValid(t *testing.T) {
	needReference(t)
	for _, name := range examples {
		raw := example(t, name)
		all, err := ReadAll(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			t.Fatal(err)
		}
		if len(all) != len(list) || len(all) == 0 {
			t.Fatalf("%s: read %d statements of %d", name, len(all), len(list))
		}
		var lines bytes.Buffer
		for _, s := range all {
			lines.Write(s.Raw)
			lines.WriteByte('\n')
		}
		again, err := ReadAll(&lines)
		if err != nil || len(again) != len(all) {
			t.Fatalf("%s as JSON Lines: %d statements, %v", name, len(again), err)
		}
	}
}

// mutate returns the example with statement i changed by fn.
func mutate(t *testing.T, name string, i int, fn func(s map[string]any)) []byte {
	t.Helper()
	var list []map[string]any
	if err := json.Unmarshal(example(t, name), &list); err != nil {
		t.Fatal(err)
	}
	fn(list[i])
	b, err := json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func details(s map[string]any) map[string]any { return s["recordDetails"].(map[string]any) }
func interest(s map[string]any, i int) map[string]any {
	return details(s)["interests"].([]any)[i].(map[string]any)
}

// TestBrokenCopiesRefused breaks copies of the official examples one way
// each; every copy is refused with the rule and the failing JSON path.
func TestBrokenCopiesRefused(t *testing.T) {
	needReference(t)
	cases := []struct {
		name, file string
		i          int
		fn         func(s map[string]any)
		rule, path string
	}{
		{"statementId too short", "bods-package.json", 0, func(s map[string]any) { s["statementId"] = "short" }, "bods_schema", "statements[0].statementId"},
		{"recordId missing", "bods-package.json", 1, func(s map[string]any) { delete(s, "recordId") }, "bods_schema", "statements[1]"},
		{"recordType not in the codelist", "joint-ownership.json", 0, func(s map[string]any) { s["recordType"] = "company" }, "bods_schema", "statements[0].recordType"},
		{"statementDate not a date", "joint-ownership.json", 3, func(s map[string]any) { s["statementDate"] = "2018-13-45" }, "bods_schema", "statements[3].statementDate"},
		{"share over 100", "joint-ownership.json", 5, func(s map[string]any) { interest(s, 0)["share"] = map[string]any{"exact": 150} }, "bods_schema", "statements[5].recordDetails.interests[0].share.exact"},
		{"interest type unknown", "simple-pep-declaration.json", 2, func(s map[string]any) { interest(s, 1)["type"] = "bribe" }, "bods_schema", "statements[2].recordDetails.interests[1].type"},
		{"isComponent missing", "bods-package.json", 2, func(s map[string]any) { delete(details(s), "isComponent") }, "bods_schema", "statements[2].recordDetails"},
		{"subject a number", "bods-package.json", 2, func(s map[string]any) { details(s)["subject"] = 7 }, "bods_schema", "statements[2].recordDetails.subject"},
		{"entity type unknown", "bods-package.json", 0, func(s map[string]any) {
			details(s)["entityType"] = map[string]any{"type": "castle"}
		}, "bods_schema", "statements[0].recordDetails.entityType.type"},
		{"bodsVersion not major.minor", "bods-package.json", 0, func(s map[string]any) {
			s["publicationDetails"].(map[string]any)["bodsVersion"] = "zero"
		}, "bods_schema", "statements[0].publicationDetails.bodsVersion"},
		{"minimum above maximum", "simple-pep-declaration.json", 2, func(s map[string]any) {
			interest(s, 0)["share"] = map[string]any{"minimum": 60, "maximum": 40}
		}, "share_range", "statements[2].recordDetails.interests[0].share"},
		{"statementId repeated", "joint-ownership.json", 4, func(s map[string]any) { s["statementId"] = "1dc0e987-5c57-4a1c-b3ad-61353b66a9b7" }, "duplicate_statement", "statements[4].statementId"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := mutate(t, c.file, c.i, c.fn)
			_, err := ReadAll(bytes.NewReader(b))
			e, ok := errs.As(err)
			if !ok {
				t.Fatalf("accepted or not a refusal: %v", err)
			}
			if e.Rule != c.rule || e.Field != c.path {
				t.Fatalf("refused with %s at %s, want %s at %s (%v)", e.Rule, e.Field, c.rule, c.path, e)
			}
			if !strings.Contains(e.Message, "statement") {
				t.Fatalf("message %q does not say which statement", e.Message)
			}
		})
	}
}

func TestMalformedRefused(t *testing.T) {
	needReference(t)
	good := string(example(t, "bods-package.json"))
	var stmts []json.RawMessage
	if err := json.Unmarshal([]byte(good), &stmts); err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, stmts[0]); err != nil {
		t.Fatal(err)
	}
	one := compact.String() // a good statement, on one line
	cases := []struct{ name, in, rule, path string }{
		{"empty", "  ", "required", "statements"},
		{"not JSON", "hello", "json", "statements"},
		{"truncated array", good[:len(good)/2], "json", ""},
		{"key twice", strings.Replace(good, `"recordStatus": "new",`, `"recordStatus": "new", "recordStatus": "closed",`, 1), "duplicate_key", "statements[0].recordStatus"},
		{"not UTF-8", strings.Replace(good, "Ltd", "L\xfftd", 1), "utf8", "statements[0].publicationDetails.publisher.name"},
		{"comma before the end", "[" + one + ", ]", "json", "statements[1]"},
		{"no comma", "[" + one + " {}]", "json", "statements[1]"},
		{"array does not end", "[\n", "json", "statements"},
		{"two arrays", "[] []", "json", "statements"},
		{"line cut short", one + "\n{\"a\": [1, 2}\n", "json", "statements[1]"},
		{"closing bracket for a statement", one + "\n}\n", "json", "statements[1]"},
		// The first bad statement is named, whatever the fault of a later
		// one of the same batch.
		{"a bad statement before one cut short", one + "\n{}\n{\"a\": [1, 2}\n", "bods_schema", "statements[1]"},
		{"a bad statement before a missing comma", "[" + one + ", {} {}]", "bods_schema", "statements[1]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadAll(strings.NewReader(c.in))
			e, ok := errs.As(err)
			if !ok {
				t.Fatalf("accepted or not a refusal: %v", err)
			}
			if e.Rule != c.rule || (c.path != "" && e.Field != c.path) {
				t.Fatalf("refused with %s at %s, want %s at %s", e.Rule, e.Field, c.rule, c.path)
			}
		})
	}
}

func TestSharesRead(t *testing.T) {
	needReference(t)
	all, err := ReadAll(bytes.NewReader(example(t, "simple-pep-declaration.json")))
	if err != nil {
		t.Fatal(err)
	}
	rel := all[2]
	if rel.RecordType != Relationship || rel.Subject != "841083ba86e3" || rel.InterestedParty != "c9ceb68d7241" {
		t.Fatalf("relationship read as %+v", rel)
	}
	e := EdgeOf(rel)
	if !e.HasShare || e.Lo != 25 || e.Hi != 50 {
		t.Fatalf("share [25, 50) read as %+v", e)
	}
}

// TestPersonNameAsParsed: the name opened from a sealed person statement
// (PersonName) is the one Parse reads from it, for every person of the
// official examples, for a statement in whitespace (which the quick
// decoding gives up on), and "" for text that is not a statement.
func TestPersonNameAsParsed(t *testing.T) {
	needReference(t)
	persons, named := 0, 0
	for _, name := range examples {
		all, err := ReadAll(bytes.NewReader(example(t, name)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, s := range all {
			if s.RecordType != Person {
				continue
			}
			persons++
			if s.Name != "" {
				named++
			}
			var spaced bytes.Buffer
			if err := json.Indent(&spaced, s.Raw, "", "  "); err != nil {
				t.Fatal(err)
			}
			if got, again := PersonName(s.Raw), PersonName(spaced.Bytes()); got != s.Name || again != s.Name {
				t.Errorf("%s %s: PersonName %q, indented %q, Parse %q", name, s.StatementID, got, again, s.Name)
			}
		}
	}
	if persons == 0 || named == 0 {
		t.Fatalf("%d person statements in the official examples, %d named", persons, named)
	}
	for _, bad := range []string{``, `[`, `"x"`, `{"recordDetails": "x"}`, `{"recordDetails": {"names": "x"}}`, `{"recordDetails": {"names": [1]}}`} {
		if got := PersonName([]byte(bad)); got != "" {
			t.Errorf("PersonName(%s) = %q, want \"\"", bad, got)
		}
	}
	if got := PersonName([]byte(`{"recordDetails": {"names": [{"givenName": "Ada", "familyName": "Byron"}, {"fullName": "Other"}]}}`)); got != "Ada Byron" {
		t.Errorf("given and family names: %q", got)
	}
	// Names are read by their exact keys, as Parse indexes them: another
	// member in another case (the schema allows other members) or a key
	// given twice is not taken for them.
	for _, c := range []struct{ raw, want string }{
		{`{"recordDetails": {"names": [{"fullName": "Ada"}]}, "RecordDetails": {"names": [{"fullName": "Other"}]}}`, "Ada"},
		{`{"recordDetails": {"names": [{"fullName": "Ada"}], "NAMES": [{"fullName": "Other"}]}}`, "Ada"},
		{`{"recordDetails": {"names": [{"fullName": "Ada", "FullName": "Other"}]}}`, "Ada"},
		{`{"recordDetails": {"names": [{"fullName": "Ada"}]}, "recordDetails": {"names": [{"fullName": "Other"}]}}`, ""},
	} {
		if got := PersonName([]byte(c.raw)); got != c.want {
			t.Errorf("PersonName(%s) = %q, want %q", c.raw, got, c.want)
		}
	}
}
