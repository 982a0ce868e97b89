package bods

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/strictjson"
)

// TestDecodeFastPathAgrees: the one-Decode path of decodeValue gives what
// the token-by-token reading gives, and falls back to it (with the path of
// the fault) for a key given twice at any depth, however the text hides
// colons and quotes in strings, and for nesting deeper than maxDepth.
func TestDecodeFastPathAgrees(t *testing.T) {
	good := []string{
		`{"a": "x:y", "b": "quote \" and colon : inside", "c": [{"d": 1.50}, {"d": "\\"}], "e": {"f": {"g": null}}}`,
		`{"k\":ey": true, "empty": {}, "list": [], "n": -0.0e+1}`,
	}
	for _, in := range good {
		fast, compact, err := decodeValue([]byte(in), "s")
		if err != nil {
			t.Fatalf("%s refused: %v", in, err)
		}
		if compact {
			t.Fatalf("%s: said compact", in)
		}
		compacted := compactOf(t, []byte(in))
		if _, compact, err := decodeValue(compacted, "s"); err != nil || !compact {
			t.Fatalf("%s compacted (%s): compact %v, %v", in, compacted, compact, err)
		}
		slow, err := decodeTokens([]byte(in), "s")
		if err != nil {
			t.Fatalf("%s refused token by token: %v", in, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%s: fast %#v, token by token %#v", in, fast, slow)
		}
	}
	deep := strings.Repeat(`{"a":`, maxDepth+1) + "1" + strings.Repeat("}", maxDepth+1)
	bad := []struct{ in, rule, path string }{
		{`{"a": 1, "a": 2}`, "duplicate_key", "s.a"},
		{`{"a": {"b": ":", "b": "\":"}}`, "duplicate_key", "s.a.b"},
		{`{"x": [{"k": 1}, {"k": 1, "k": 2}]}`, "duplicate_key", "s.x[1].k"},
		{deep, "depth", "s" + strings.Repeat(".a", maxDepth+1)},
		{`{"a": 1} {"b": 2}`, "json", "s"},
		{`{"a": }`, "json", "s.a"},
	}
	for _, c := range bad {
		_, _, err := decodeValue([]byte(c.in), "s")
		e, ok := errs.As(err)
		if !ok || e.Rule != c.rule || e.Field != c.path {
			t.Errorf("%.40s: got %v, want %s at %s", c.in, err, c.rule, c.path)
		}
	}
}

func compactOf(t *testing.T, raw []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// FuzzDecodeAgrees: for any text, the one-Decode path and the token-by-token
// reading accept the same values and refuse the same texts, and a text the
// one-Decode path calls compact is its own json.Compact. What is accepted
// strictjson reads too, and what it refuses as no character (rule utf8: a
// lone surrogate, bytes that are not UTF-8) is refused here with that rule,
// unless something before it is refused first.
func FuzzDecodeAgrees(f *testing.F) {
	for _, s := range []string{`{"a": 1}`, `{"a": 1, "a": 2}`, `{"a": {"b": ":", "b": "\":"}}`, `{"x": [{"k": "\\"}, {"k": 1}]}`, `{"a": }`, `[1, 2]`, `"s"`, `{"a":1} x`,
		`{"n": "\ud83d\ude00"}`, `{"n": "\ud800"}`, `{"n": "\udc00\ud800"}`, `{"n\ud800": 1}`, `["\ud800\u0041"]`, "{\"n\": \"\xff\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		fast, compact, ferr := decodeValue(raw, "s")
		slow, serr := decodeTokens(raw, "s")
		if (ferr == nil) != (serr == nil) {
			t.Fatalf("%q: one Decode says %v, token by token %v", raw, ferr, serr)
		}
		if ferr == nil && !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q: one Decode gives %#v, token by token %#v", raw, fast, slow)
		}
		if compact && !bytes.Equal(compactOf(t, raw), raw) {
			t.Fatalf("%q: called compact, but json.Compact gives %q", raw, compactOf(t, raw))
		}
		var v jsontext.Value // numbers as written: any reads them as float64
		serr = strictjson.Unmarshal(raw, &v)
		if ferr == nil && serr != nil {
			t.Fatalf("%q: accepted, but strictjson refuses it: %v", raw, serr)
		}
		if e, ok := errs.As(serr); ok && e.Rule == "utf8" && ferr == nil {
			t.Fatalf("%q: strictjson refuses it as no character, here accepted", raw)
		}
		if e, ok := errs.As(ferr); ferr != nil && (!ok || e.Rule == "") {
			t.Fatalf("%q: refused without a rule: %v", raw, ferr)
		}
	})
}
