package strictjson_test

import (
	"bytes"
	stdjson "encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/strictjson"
)

type frame struct {
	PDQ     string  `json:"pdq"`
	Quality int     `json:"quality"`
	Seconds float64 `json:"seconds"`
}

type Common struct {
	Note string `json:"note,omitempty"`
}

type doc struct {
	Common
	Name    string             `json:"name"`
	Sex     string             `json:"sex"`
	K       int                `json:"k,omitempty"`
	Frames  []frame            `json:"frames"`
	Video   *frame             `json:"video,omitempty"`
	Signals map[string]string  `json:"signals,omitempty"`
	Lists   map[string][]int   `json:"lists,omitempty"`
	Raw     stdjson.RawMessage `json:"raw,omitempty"`
	Any     any                `json:"any,omitempty"`
	Skip    string             `json:"-"`
}

// TestRefusals: what encoding/json reads silently (a key in another case,
// a key given twice, bytes that are not UTF-8) is refused, with the rule and
// the path of the field, and so is everything encoding/json refuses.
func TestRefusals(t *testing.T) {
	for _, c := range []struct {
		name, in, rule, field, msg string
	}{
		{"a key twice", `{"name":"a","name":"b"}`, "duplicate_key", "name", `the key "name" is given twice`},
		{"a key twice, deep", `{"frames":[{"pdq":"x"},{"pdq":"y","quality":1,"pdq":"z"}]}`, "duplicate_key", "frames[1].pdq", `"pdq"`},
		{"a key twice in a map", `{"signals":{"pdq":"a","pdq":"b"}}`, "duplicate_key", "signals.pdq", `"pdq"`},
		{"a key twice in a raw value", `{"raw":{"a":1,"a":2}}`, "duplicate_key", "raw.a", `"a"`},
		{"a key twice in any", `{"any":{"x":[{"b":1,"b":2}]}}`, "duplicate_key", "any.x[0].b", `"b"`},
		{"a key in capitals", `{"NAME":"a"}`, "unknown_field", "NAME", `here "name"`},
		{"a key with the long s", `{"ſex":"f"}`, "unknown_field", "ſex", `here "sex"`},
		{"a key with the Kelvin sign", `{"\u212a":1}`, "unknown_field", "\u212a", `here "k"`},
		{"an embedded field in another case", `{"Note":"x"}`, "unknown_field", "Note", `here "note"`},
		{"a deep key in another case", `{"frames":[{"PDQ":"x"}]}`, "unknown_field", "frames[0].PDQ", `here "pdq"`},
		{"both cases", `{"NAME":"a","name":"b"}`, "unknown_field", "NAME", `here "name"`},
		{"an unknown key", `{"colour":"red"}`, "unknown_field", "colour", `"colour" is not part of this document`},
		{"a field left out of JSON", `{"Skip":"x"}`, "unknown_field", "Skip", `"Skip" is not part`},
		{"not UTF-8", "{\"name\":\"a\xff\"}", "utf8", "name", "not valid UTF-8 (at byte 10)"},
		{"not UTF-8 in a key", "{\"frames\":[{\"p\xffq\":1}]}", "utf8", "frames[0]", "not valid UTF-8"},
		{"half a surrogate pair", `{"name":"\ud800x"}`, "utf8", "name", "surrogate pair"},
		{"a low half alone", `{"frames":[{"pdq":"\udc00"}]}`, "utf8", "frames[0].pdq", "surrogate pair"},
		{"another type", `{"frames":[{"pdq":"x"},{"quality":"high"}]}`, "json_type", "frames[1].quality", "frames[1].quality must be a JSON number, not string"},
		{"not a whole number", `{"video":{"quality":1.5}}`, "json_type", "video.quality", "must be a whole number within range, not 1.5"},
		{"a number in a list under a numeric key", `{"lists":{"7":[1,"x"]}}`, "json_type", "lists.7[1]", "must be a JSON number, not string"},
		{"not an object", `[1]`, "json_type", "", "the document must be a JSON object, not array"},
		{"something after", `{"name":"a"} {}`, "json", "", "nothing after it"},
		{"cut short", `{"name":"a"`, "json", "", "ends too early"},
		{"empty", ``, "json", "", "ends too early"},
		{"not JSON", `{"name":'a'}`, "json", "name", "not valid JSON"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var v doc
			err := strictjson.Unmarshal([]byte(c.in), &v)
			e, ok := errs.As(err)
			if !ok || e.Code != errs.Malformed || e.Rule != c.rule || e.Field != c.field || !strings.Contains(e.Message, c.msg) {
				t.Errorf("%s: got %#v, want rule %s, field %q, message with %q", c.in, err, c.rule, c.field, c.msg)
			}
		})
	}
	// What the rules leave alone reads as encoding/json reads it.
	in := `{"note":"n","name":"é","sex":"f","k":2,"frames":[{"pdq":"a","quality":90,"seconds":1.5}],"video":null,` +
		`"signals":{"PDQ":"x","pdq":"y"},"raw":{"b":1,"B":2},"any":[1,"two",{"three":3}]}` + "\n"
	var got, want doc
	if err := strictjson.Unmarshal([]byte(in), &got); err != nil {
		t.Fatal(err)
	}
	if err := stdjson.Unmarshal([]byte(in), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read %+v, encoding/json reads %+v", got, want)
	}
}

type open struct {
	ID    string         `json:"ID"`
	Items []openItem     `json:"Items"`
	Other jsontext.Value `json:",embed"`
}

type openItem struct {
	Hash  string         `json:"Hash"`
	Other jsontext.Value `json:",embed"`
}

// TestCaseVariant: a format whose documents carry members custos does not
// read keeps them aside; one of them that is a read member's name in
// another case is refused, naming it.
func TestCaseVariant(t *testing.T) {
	var v open
	if err := strictjson.Unmarshal([]byte(`{"ID":"a","Series":1,"Items":[{"Hash":"h","Size":2},{"hash":"x"}]}`), &v); err != nil {
		t.Fatal(err)
	}
	if err := strictjson.CaseVariant(reflect.TypeFor[open](), v.Other, ""); err != nil {
		t.Errorf("a member custos does not read: %v", err)
	}
	if err := strictjson.CaseVariant(reflect.TypeFor[openItem](), v.Items[0].Other, "Items[0]"); err != nil {
		t.Errorf("a member custos does not read: %v", err)
	}
	err := strictjson.CaseVariant(reflect.TypeFor[openItem](), v.Items[1].Other, "Items[1]")
	if e, ok := errs.As(err); !ok || e.Rule != "unknown_field" || e.Field != "Items[1].hash" || !strings.Contains(e.Message, `here "Hash"`) {
		t.Errorf("a member in another case: %v", err)
	}
	// A key twice among the members kept aside is refused as any other.
	err = strictjson.Unmarshal([]byte(`{"ID":"a","Series":1,"Series":2}`), &v)
	if e, ok := errs.As(err); !ok || e.Rule != "duplicate_key" || e.Field != "Series" {
		t.Errorf("a kept member twice: %v", err)
	}
}

// FuzzUnmarshal: whatever the bytes, Unmarshal refuses with custos's error
// naming one of its rules, or reads what encoding/json reads, and then
// encoding/json would have read the document whole (no key in another case,
// none twice, only UTF-8); what encoding/json writes, it reads back.
func FuzzUnmarshal(f *testing.F) {
	for _, s := range []string{
		`{"name":"a","frames":[{"pdq":"x","quality":1,"seconds":0.5}],"signals":{"a":"b"},"any":{"x":[1,null,true]}}`,
		`{"NAME":"a"}`, `{"name":"a","name":"b"}`, "{\"name\":\"\xff\"}", `{"name":"\ud800"}`, `{"note":"x"}`,
		`{"video":{"quality":1.5}}`, `[]`, `{"raw":{"a":1}}`, `{"lists":{"1":[2]}}`, `{"k":1e3}`,
	} {
		f.Add([]byte(s))
	}
	rules := map[string]bool{"utf8": true, "duplicate_key": true, "unknown_field": true, "json_type": true, "json": true}
	f.Fuzz(func(t *testing.T, b []byte) {
		var got doc
		err := strictjson.Unmarshal(b, &got)
		if err != nil {
			e, ok := errs.As(err)
			if !ok || e.Code != errs.Malformed || !rules[e.Rule] || e.Message == "" {
				t.Fatalf("%q: refused with %#v", b, err)
			}
			return
		}
		var want doc
		dec := stdjson.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("%q: read, but encoding/json refuses it: %v", b, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: read %+v, encoding/json reads %+v", b, got, want)
		}
		out, err := stdjson.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		var again doc
		if err := strictjson.Unmarshal(out, &again); err != nil {
			t.Fatalf("%q: written back as %s, refused: %v", b, out, err)
		}
		if out2, _ := stdjson.Marshal(again); !bytes.Equal(out2, out) {
			t.Fatalf("%q: written back as %s, read and written again as %s", b, out, out2)
		}
	})
}

// dash has a field tagged json:"-,": encoding/json (and the JSON API's
// answers, written with its semantics) reads and writes it under the key
// "-"; only json:"-" leaves a field out.
type dash struct {
	//lint:ignore SA5008 the tag under test, as a hand-written type may have it
	Minus string `json:"-,"`
	Left  string `json:"-"`
	Plain string
	Inner struct {
		//lint:ignore SA5008 the tag under test
		Minus int `json:"-,omitempty"`
	} `json:"inner"`
}

// TestFieldsDash: Fields lists a field tagged json:"-," under the name "-",
// the key encoding/json writes it under, so that the JSON API's check of
// request bodies and its OpenAPI objects know the object as written.
func TestFieldsDash(t *testing.T) {
	var names []string
	for _, f := range strictjson.Fields(reflect.TypeFor[dash]()) {
		names = append(names, f.Name+"="+f.Field.Name)
	}
	if got, want := strings.Join(names, " "), "-=Minus Plain=Plain inner=Inner"; got != want {
		t.Fatalf("Fields: %s, want %s", got, want)
	}
	inner := strictjson.Fields(reflect.TypeFor[dash]().Field(3).Type)
	if len(inner) != 1 || inner[0].Name != "-" {
		t.Fatalf("Fields of json:\"-,omitempty\": %+v", inner)
	}
	var d dash
	d.Minus, d.Left, d.Plain, d.Inner.Minus = "m", "l", "p", 1
	out, err := stdjson.Marshal(d)
	if want := `{"-":"m","Plain":"p","inner":{"-":1}}`; err != nil || string(out) != want {
		t.Fatalf("encoding/json writes %s (%v), want %s", out, err, want)
	}
}

// TestDashTagInternal: Unmarshal into a type with a field tagged json:"-,",
// a tag the v2 decoder refuses as malformed, is a fault of custos's Go
// type, not of the document: an internal error (no *errs.Error, so the API
// answers 500 and logs it) naming the Go type and the field, for any
// document that reaches the struct, at the top or nested; a document that
// does not reach it is refused as before.
func TestDashTagInternal(t *testing.T) {
	for _, c := range []struct {
		name string
		in   string
		into any
		typ  string
	}{
		{"top", `{"Plain":"p"}`, new(dash), "strictjson_test.dash"},
		{"empty object", `{}`, new(dash), "strictjson_test.dash"},
		{"nested", `{"d":{"Plain":"p"}}`, new(struct {
			D dash `json:"d"`
		}), "strictjson_test.dash"},
		{"in a list", `[{}]`, new([]dash), "strictjson_test.dash"},
	} {
		err := strictjson.Unmarshal([]byte(c.in), c.into)
		if err == nil {
			t.Errorf("%s: %s decoded", c.name, c.in)
			continue
		}
		if e, ok := errs.As(err); ok || errs.CodeOf(err) != errs.Internal {
			t.Errorf("%s: refused as the document's fault: %#v", c.name, e)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, c.typ) || !strings.Contains(msg, "field Minus") || !strings.Contains(msg, "json") {
			t.Errorf("%s: %q names not the type %s and the field Minus", c.name, msg, c.typ)
		}
	}
	// Not an object where the struct is: the document's fault, as before.
	if e, ok := errs.As(strictjson.Unmarshal([]byte(`[1]`), new([]dash))); !ok || e.Rule != "json_type" || e.Field != "[0]" {
		t.Errorf("a number where the struct is: %#v", e)
	}
}
