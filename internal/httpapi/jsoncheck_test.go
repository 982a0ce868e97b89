package httpapi

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/errs"
)

func TestCheckJSON(t *testing.T) {
	for _, c := range []struct {
		body, rule, field string
	}{
		{`{"a":1,"b":"x"}`, "", ""},
		{`{"a":{"b":1},"c":{"b":2}}`, "", ""},
		{`[{"a":1},{"a":2}]`, "", ""},
		{`{"a":[{"x":1,"y":{"x":2}},{"x":3}]}`, "", ""},
		{`{"a":1,"a":2}`, "duplicate_key", "a"},
		{`{"a":1,"\u0061":2}`, "duplicate_key", "a"},
		{`{"o":{"k":1,"k":2}}`, "duplicate_key", "o.k"},
		{`{"l":[1,{"k":{},"k":[]}]}`, "duplicate_key", "l[1].k"},
		{`{"a":{"b":{}},"c":1,"a":0}`, "duplicate_key", "a"},
		{"{\"name\":\"caf\xe9\"}", "utf8", "name"},
		{"{\"l\":[\"ok\",\"\xff\"]}", "utf8", "l[1]"},
		{"{\"\xc3\":1}", "utf8", ""},
		{"{\"name\":\"caf\u00e9 \u202e\"}", "", ""},
		// Half a surrogate pair alone: encoding/json would store U+FFFD.
		{`{"a":"\ud800x"}`, "utf8", "a"},
		{`{"a":"\ud800"}`, "utf8", "a"},
		{`{"l":["\udc00"]}`, "utf8", "l[0]"},
		{`{"a":"\ud800\u0041"}`, "utf8", "a"},
		{`{"a":"\ud800\ud800\udc00"}`, "utf8", "a"},
		{`{"\udfff":1}`, "utf8", ""},
		{`{"a":"\ud83d\ude00 \u00e9"}`, "", ""},
		{`{"a":"x\\ud800"}`, "", ""},
		// Not JSON: left to the decoder.
		{`{"a" 1}`, "", ""},
		{"\xff", "", ""},
	} {
		err := checkJSON([]byte(c.body), nil)
		e, _ := errs.As(err)
		switch {
		case c.rule == "" && err != nil:
			t.Errorf("%q: refused: %v", c.body, err)
		case c.rule != "" && (e == nil || e.Rule != c.rule || e.Field != c.field || e.Code != errs.Malformed):
			t.Errorf("%q: got %+v, want rule %s field %q", c.body, e, c.rule, c.field)
		}
	}
}

// namesT is a request type with what encoding/json matches names through:
// nested structs, lists, maps, pointers, an embedded struct, a value that
// decodes itself and one of any shape.
type namesT struct {
	Name   string              `json:"name"`
	Sex    string              `json:"sex"`
	Kelvin string              `json:"k"`
	Inner  *struct{ X int }    `json:"inner"`
	List   []struct{ Pdq int } `json:"list"`
	Labels map[string]struct {
		Lang string `json:"lang"`
	} `json:"labels"`
	Raw  json.RawMessage `json:"raw"`
	Any  any             `json:"any"`
	Skip string          `json:"-"`
	embeddedT
}

type embeddedT struct {
	Promoted string `json:"promoted"`
}

// TestCheckJSONFieldNames refuses a key encoding/json would match to a
// field without regard to case, at any depth of the type, and leaves the
// rest alone: map keys, values that decode themselves or take anything, and
// keys unknown in every case (the decoder's to refuse).
func TestCheckJSONFieldNames(t *testing.T) {
	typ := reflect.TypeFor[namesT]()
	for _, c := range []struct {
		body, field, want string
	}{
		{`{"name":"a","sex":"f","k":"x","inner":{"X":1},"list":[{"Pdq":1}],"labels":{"FR":{"lang":"fr"}},"raw":{"Any":1},"any":{"NAME":1},"promoted":"p"}`, "", ""},
		{`{"nope":1}`, "", ""},
		{`{"NAME":"a","name":"b"}`, "NAME", "name"},
		{`{"Name":"a"}`, "Name", "name"},
		{`{"ſex":"f"}`, "ſex", "sex"}, // the long s folds to s
		{`{"K":"x"}`, "K", "k"},       // the Kelvin sign folds to k
		{`{"inner":{"x":1}}`, "inner.x", "X"},
		{`{"list":[{"Pdq":1},{"pdq":2}]}`, "list[1].pdq", "Pdq"},
		{`{"labels":{"fr":{"Lang":"fr"}}}`, "labels.fr.Lang", "lang"},
		{`{"Promoted":"p"}`, "Promoted", "promoted"},
		{`{"Skip":"s"}`, "", ""},
	} {
		err := checkJSON([]byte(c.body), typ)
		e, _ := errs.As(err)
		switch {
		case c.field == "" && err != nil:
			t.Errorf("%s: refused: %v", c.body, err)
		case c.field != "" && (e == nil || e.Rule != "unknown_field" || e.Field != c.field || !strings.Contains(e.Message, strconv.Quote(c.want))):
			t.Errorf("%s: got %+v, want unknown_field %q naming %q", c.body, e, c.field, c.want)
		}
	}
	// Through the API's decoder: nothing decoded, the refusal as the
	// decoder's own for an unknown key.
	var v namesT
	err := DecodeBytes([]byte(`{"NAME":"a","name":"b"}`), &v)
	if e, _ := errs.As(err); e == nil || e.Rule != "unknown_field" || e.Code != errs.Malformed || v.Name != "" {
		t.Fatalf("DecodeBytes = %v, decoded %q", err, v.Name)
	}
}

func TestDecodeRefusesBeforeDecoding(t *testing.T) {
	var v struct {
		Name string `json:"name"`
	}
	err := DecodeBytes([]byte(`{"name":"a","name":"b"}`), &v)
	if e, _ := errs.As(err); e == nil || e.Rule != "duplicate_key" || e.Field != "name" {
		t.Fatalf("duplicate: %v", err)
	}
	if v.Name != "" {
		t.Errorf("decoded %q before refusing", v.Name)
	}
	// A body that is not JSON keeps the decoder's refusal, even with a
	// duplicate before the break.
	err = DecodeBytes([]byte(`{"name":"a","name":"b"`), &v)
	if e, _ := errs.As(err); e == nil || e.Rule != "json" {
		t.Fatalf("broken JSON: %v", err)
	}
}

// FuzzCheckJSON holds checkJSON to what encoding/json says: it never
// panics, refuses only valid JSON, and refuses a body exactly when it has
// invalid UTF-8 in a string or a key given twice in one object.
func FuzzCheckJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":"\ud800x"}`, `{"a":1,"a":2}`, `[{"a":[{"b":1,"b":2}]}]`, "{\"a\":\"\xff\"}", `{"\u0061":1,"a":1}`, `"x"`, `[1,2,"3"]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		// With a type, the refusal is the one without, unless a key in
		// the wrong case comes first.
		typed := checkJSON(b, reflect.TypeFor[namesT]())
		err := checkJSON(b, nil)
		if e, _ := errs.As(typed); e == nil || e.Rule != "unknown_field" {
			if (typed == nil) != (err == nil) || typed != nil && typed.Error() != err.Error() {
				t.Fatalf("typed check of %q: %v, untyped %v", b, typed, err)
			}
		}
		if err == nil || !json.Valid(b) {
			return
		}
		e, _ := errs.As(err)
		if e == nil {
			t.Fatalf("not an errs.Error: %v", err)
		}
		switch e.Rule {
		case "utf8":
			if !hasBadUTF8(b) && !decodesFFFD(b) {
				t.Fatalf("utf8 refusal of valid UTF-8 %q", b)
			}
		case "duplicate_key":
			if !hasDuplicate(b) {
				t.Fatalf("duplicate_key refusal of %q", b)
			}
		default:
			t.Fatalf("rule %s", e.Rule)
		}
	})
}

// decodesFFFD tells whether encoding/json decodes b into a string or key
// holding U+FFFD, as it does for half a surrogate pair alone.
func decodesFFFD(b []byte) bool {
	var v any
	if json.Unmarshal(b, &v) != nil {
		return false
	}
	var walk func(any) bool
	walk = func(v any) bool {
		switch v := v.(type) {
		case string:
			return strings.ContainsRune(v, 0xFFFD)
		case []any:
			return slices.ContainsFunc(v, walk)
		case map[string]any:
			for k, x := range v {
				if strings.ContainsRune(k, 0xFFFD) || walk(x) {
					return true
				}
			}
		}
		return false
	}
	return walk(v)
}

func hasBadUTF8(b []byte) bool {
	for _, c := range string(b) {
		if c == 0xFFFD {
			return true
		}
	}
	return false
}

// hasDuplicate walks the body with encoding/json's tokens.
func hasDuplicate(b []byte) bool {
	dec := json.NewDecoder(bytesReader(b))
	type frame struct {
		obj   bool
		keys  map[string]bool
		isKey bool
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.obj && top.isKey {
			if d, ok := tok.(json.Delim); !ok || d != '}' {
				k := tok.(string)
				if top.keys[k] {
					return true
				}
				top.keys[k] = true
				top.isKey = false
				continue
			}
		}
		if top != nil && top.obj {
			top.isKey = true
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{obj: true, keys: map[string]bool{}, isKey: true})
		case json.Delim('['):
			stack = append(stack, &frame{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return false
			}
			if p := stack[len(stack)-1]; p.obj {
				p.isKey = true
			}
		}
	}
}

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
