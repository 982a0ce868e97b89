package bods

import (
	"bytes"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/errs"
)

// TestLoneSurrogate: the \u escape of half of a UTF-16 surrogate pair alone
// is no character. encoding/json reads it as U+FFFD, so that a name would be
// indexed as U+FFFD while the statement stored keeps the escape; the
// importer and every reader of a stored statement refuse it instead (rule
// utf8, as strictjson), naming the statement and the field. A pair is one
// character, read as such on the one-pass path.
func TestLoneSurrogate(t *testing.T) {
	b := &Builder{Prefix: "s", Date: "2026-01-01", Publisher: "p"}
	entity := func(name string) []byte {
		return bytes.Replace(b.Entity("E1", "NAME", "DL", ""), []byte(`"NAME"`), []byte(`"`+name+`"`), 1)
	}
	for _, name := range []string{`A\ud800`, `\udc00B`, `\ud800\u0041`, `\ud800\\u dc00`, `\ud83d`, `\udfff\ud83d`, `\ude00\ud83d`} {
		raw := entity(name)
		_, err := Parse(3, raw)
		if e, ok := errs.As(err); !ok || e.Rule != "utf8" || e.Field != "statements[3].recordDetails.name" {
			t.Errorf("%s: Parse gives %v, want utf8 at statements[3].recordDetails.name", name, err)
		}
		_, err = Derive(raw)
		if e, ok := errs.As(err); !ok || e.Rule != "utf8" || e.Field != "statement.recordDetails.name" {
			t.Errorf("%s: Derive gives %v, want utf8 at statement.recordDetails.name", name, err)
		}
		file := bytes.Join([][]byte{b.Entity("E0", "Fine Ltd", "DL", ""), raw}, []byte("\n"))
		_, err = ReadAll(bytes.NewReader(file))
		if e, ok := errs.As(err); !ok || e.Rule != "utf8" || e.Field != "statements[1].recordDetails.name" {
			t.Errorf("%s: the import gives %v, want utf8 at statements[1].recordDetails.name", name, err)
		}
		if err != nil && strings.Contains(err.Error(), name) || strings.Contains(err.Error(), "\ufffd") {
			t.Errorf("%s: the refusal quotes the name: %v", name, err)
		}
	}
	// A key holding one is refused as well, at the object holding it.
	key := bytes.Replace(b.Entity("E1", "X", "DL", ""), []byte(`"recordDetails":{`), []byte(`"recordDetails":{"n\udbff":1,`), 1)
	if _, err := Parse(0, key); !isRule(err, "utf8") || !bytes.Contains(key, []byte(`\udbff`)) {
		t.Errorf("a key with a lone surrogate: %v", err)
	}

	// A pair is the character it encodes, on the one-pass path, and the
	// statement stored keeps its escapes, as given.
	raw := entity(`Caf\u00e9 \ud83d\ude00 Ltd`)
	if _, _, ok := scanValue(raw); !ok {
		t.Fatal("a surrogate pair left the one-pass path")
	}
	s, err := Parse(0, raw)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "Café 😀 Ltd" || !bytes.Equal(s.Raw, raw) {
		t.Fatalf("name %q, raw %s", s.Name, s.Raw)
	}
	d, err := Derive(s.Raw)
	if err != nil || d.Name != s.Name {
		t.Fatalf("derived %+v: %v", d, err)
	}
}

func isRule(err error, rule string) bool {
	e, ok := errs.As(err)
	return ok && e.Rule == rule
}
