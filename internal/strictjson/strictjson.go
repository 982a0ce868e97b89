// Package strictjson is custos's one reader of JSON from outside: a hash
// list file, a signed bank document, a message or receipt from a peer
// registry, an auditor's state file, a leaf of the log. It reads a document
// as it is written and nothing looser. encoding/json, given a key in another
// case than a field's ("NAME", "ſex" with the long s for "sex", the Kelvin
// sign for k), takes it for the field; given a key twice, it keeps the last
// one; given bytes that are not UTF-8, it turns them into U+FFFD: each
// silently, so that what was read is not what was written. Here each is
// refused, naming the rule and the field.
//
// It is the JSON v2 decoder (github.com/go-json-experiment/json: its own code
// on Go 1.26, an alias of the standard library's encoding/json/v2 once that
// is no longer an experiment), which reads a value in one pass and checks
// the names, their case and UTF-8 as it goes.
//
// The JSON API reads request bodies its own way (internal/httpapi's
// checkJSON before encoding/json), with the same rules and wording; see
// docs/architecture.md, "Input hygiene".
package strictjson

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/custos-project/custos/internal/errs"
)

// Unmarshal decodes the JSON document b into v, refusing, with an
// *errs.Error of code malformed whose field is the path of the value at fault
// (adds[3].video.frames[12].pdq):
//
//   - bytes that are not UTF-8, and half of a UTF-16 surrogate pair alone in
//     a string (rule utf8);
//   - an object that gives one key twice, at any depth (rule duplicate_key);
//   - a key that is not the name of a field of the struct it goes into, in
//     its exact case (rule unknown_field; one that is a field's name in
//     another case is named as such), unless the struct keeps the members it
//     does not name (a jsontext.Value field tagged `json:",embed"`; see
//     CaseVariant);
//   - a value of another JSON type than its field's (rule json_type);
//   - anything that is not one JSON value, or something after it (rule json).
//
// A struct embedded without a JSON name has its fields promoted, as with
// encoding/json (Fields). Nothing in v is to be trusted after a refusal.
func Unmarshal(b []byte, v any) error {
	err := json.Unmarshal(b, v, json.RejectUnknownMembers(true))
	if err == nil {
		return nil
	}
	return refusal(b, reflect.TypeOf(v), err)
}

// refusal turns the decoder's error into custos's refusal.
func refusal(b []byte, t reflect.Type, err error) error {
	var syn *jsontext.SyntacticError
	var sem *json.SemanticError
	switch {
	case errors.As(err, &syn):
		field := Path(t, syn.JSONPointer)
		msg := syn.Err.Error()
		switch {
		case errors.Is(err, jsontext.ErrDuplicateName):
			return errs.New(errs.Malformed, "duplicate_key", field, "the key %q is given twice in one object", syn.JSONPointer.LastToken())
		case strings.HasPrefix(msg, "invalid UTF-8"):
			return errs.New(errs.Malformed, "utf8", field, "the document is not valid UTF-8 (at byte %d)", syn.ByteOffset)
		case strings.HasPrefix(msg, "invalid surrogate pair"):
			return errs.New(errs.Malformed, "utf8", field, "the document holds half of a UTF-16 surrogate pair alone in a string (at byte %d): it is not a character", syn.ByteOffset)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return errs.New(errs.Malformed, "json", "", "the JSON document ends too early")
		case strings.Contains(msg, "after top-level value"):
			return errs.New(errs.Malformed, "json", "", "the document must be one JSON value, with nothing after it (at byte %d)", syn.ByteOffset)
		}
		return errs.New(errs.Malformed, "json", field, "the document is not valid JSON (at byte %d)", syn.ByteOffset)
	case errors.As(err, &sem):
		field := Path(t, sem.JSONPointer)
		if errors.Is(err, json.ErrUnknownName) {
			name := sem.JSONPointer.LastToken()
			if f, ok := folded(sem.GoType, name); ok {
				return errs.New(errs.Malformed, "unknown_field", field, "the field %q is not part of this document: names are written as documented, here %q", name, f)
			}
			return errs.New(errs.Malformed, "unknown_field", field, "the field %q is not part of this document", name)
		}
		var e *errs.Error
		if errors.As(sem.Err, &e) {
			// A type that reads itself refused the value in its own words.
			return e
		}
		if sem.Err != nil && strings.Contains(sem.Err.Error(), "malformed `json` tag") {
			// A fault of the Go type, not of the document: any document
			// reaching it is refused (json:"-," among them, which
			// encoding/json reads as the key "-"; the v2 decoder wants
			// json:"'-'"). An internal error, logged with this detail.
			return fmt.Errorf("strictjson: the Go type %v cannot be decoded into: %w", sem.GoType, sem.Err)
		}
		want := kindOf(sem.GoType)
		got := kindName(sem.JSONKind)
		if sem.JSONKind == '0' {
			got += " " + valueAt(b, sem.ByteOffset)
			if want == "number" && sem.GoType != nil && reflectKindWhole(sem.GoType) {
				// A number where a whole one is wanted, or one out of range.
				if field == "" {
					return errs.New(errs.Malformed, "json_type", "", "the document must be a whole number within range, not %s", valueAt(b, sem.ByteOffset))
				}
				return errs.New(errs.Malformed, "json_type", field, "%s must be a whole number within range, not %s", field, valueAt(b, sem.ByteOffset))
			}
		}
		if want == "" || sem.Err != nil {
			// Not a question of type: a value its type could not read.
			if field == "" {
				return errs.New(errs.Malformed, "json_type", "", "the document is not a value of the expected form")
			}
			return errs.New(errs.Malformed, "json_type", field, "%s is not a value of the expected form", field)
		}
		if field == "" {
			return errs.New(errs.Malformed, "json_type", "", "the document must be a JSON %s, not %s", want, got)
		}
		return errs.New(errs.Malformed, "json_type", field, "%s must be a JSON %s, not %s", field, want, got)
	}
	return errs.New(errs.Malformed, "json", "", "the document is not valid JSON")
}

// valueAt returns the JSON number that starts at offset off of b, as
// written (a number is ASCII and never personal data), or "".
func valueAt(b []byte, off int64) string {
	if off < 0 || off >= int64(len(b)) {
		return ""
	}
	end := off
	for end < int64(len(b)) && bytes.IndexByte([]byte("+-.0123456789eE"), b[end]) >= 0 && end-off < 64 {
		end++
	}
	return string(b[off:end])
}

// kindOf names the JSON type a value of Go type t is written as, or "".
func kindOf(t reflect.Type) string {
	if t == nil {
		return ""
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Bool:
		return "boolean"
	case reflect.String:
		return "string"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "" // bytes written as base64 or a type's own
		}
		return "array"
	case reflect.Struct, reflect.Map:
		return "object"
	}
	return ""
}

// reflectKindWhole reports whether t (less its pointers) holds whole
// numbers only.
func reflectKindWhole(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Float32, reflect.Float64:
		return false
	}
	return true
}

// kindName names a JSON kind as refusals do.
func kindName(k jsontext.Kind) string {
	switch k {
	case '"':
		return "string"
	case '0':
		return "number"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	case '{':
		return "object"
	case '[':
		return "array"
	}
	return "value"
}

// Path names the value at ptr, in a document decoded into a value of type
// t, as refusals name fields: the keys joined by dots, with [i] for the
// items of a list (adds[3].video.frames[12].pdq). t tells a list's index
// from a key that looks like one; where it does not know (an interface, a
// type that reads itself), a token of digits is taken for an index.
func Path(t reflect.Type, ptr jsontext.Pointer) string {
	var sb strings.Builder
	for tok := range ptr.Tokens() {
		for t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		index := false
		switch {
		case t == nil || t.Kind() == reflect.Interface || readsItself(t):
			_, err := strconv.ParseUint(tok, 10, 64)
			index, t = err == nil, nil
		case t.Kind() == reflect.Slice || t.Kind() == reflect.Array:
			index, t = true, t.Elem()
		case t.Kind() == reflect.Map:
			t = t.Elem()
		case t.Kind() == reflect.Struct:
			t = fieldType(t, tok)
		default:
			t = nil
		}
		if index {
			sb.WriteString("[" + tok + "]")
			continue
		}
		if sb.Len() > 0 {
			sb.WriteByte('.')
		}
		sb.WriteString(tok)
	}
	return sb.String()
}

// readsItself reports whether a value of type t is read by its own method
// (json.RawMessage, a type with UnmarshalJSON or UnmarshalText), whose
// shape the type does not tell.
func readsItself(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return p.Implements(unmarshalerV1) || p.Implements(unmarshalerV2) || p.Implements(textUnmarshaler)
}

var (
	unmarshalerV1   = reflect.TypeFor[interface{ UnmarshalJSON([]byte) error }]()
	unmarshalerV2   = reflect.TypeFor[json.UnmarshalerFrom]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

func fieldType(t reflect.Type, name string) reflect.Type {
	for _, f := range Fields(t) {
		if f.Name == name {
			return f.Field.Type
		}
	}
	return nil
}

// folded returns the JSON name of struct type t's field that key is in
// another case (Unicode simple folding, as encoding/json matches names:
// "ſ" is "s", "K", the Kelvin sign, "k").
func folded(t reflect.Type, key string) (string, bool) {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return "", false
	}
	for _, f := range Fields(t) {
		if f.Name != key && strings.EqualFold(f.Name, key) {
			return f.Name, true
		}
	}
	return "", false
}

// CaseVariant checks the members that a struct of type t kept without
// reading them (its jsontext.Value field tagged `json:",embed"`, the v2
// decoder's embedded fallback: for the formats whose documents carry more
// than custos reads) and refuses one
// whose name is a field's in another case, which encoding/json would have
// read as that field (rule unknown_field). at is the path of the object.
func CaseVariant(t reflect.Type, unknown jsontext.Value, at string) error {
	if len(unknown) == 0 {
		return nil
	}
	dec := jsontext.NewDecoder(bytes.NewReader(unknown))
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '{' {
		return nil
	}
	for dec.PeekKind() == '"' {
		tok, err := dec.ReadToken()
		if err != nil {
			return nil
		}
		name := tok.String()
		if f, ok := folded(t, name); ok {
			field := name
			if at != "" {
				field = at + "." + name
			}
			return errs.New(errs.Malformed, "unknown_field", field, "the field %q is not part of this document: names are written as documented, here %q", name, f)
		}
		if err := dec.SkipValue(); err != nil {
			return nil
		}
	}
	return nil
}

// Field is a field of a struct as JSON reads and writes it.
type Field struct {
	Name    string              // its JSON name
	Field   reflect.StructField // the field
	Owner   reflect.Type        // the struct that declares it
	ByValue bool                // every struct embedded on the way to it by value: always written
}

// Fields lists struct type t's fields by their JSON names, as encoding/json
// and the v2 decoder do: a field tagged json:"-" and an unexported one left
// out, an untagged one under its Go name, one tagged json:"-," under the
// name "-" (as encoding/json writes it; the v2 decoder refuses that tag as
// malformed), and the fields of a struct embedded without a JSON name
// promoted, the shallower of two of one name
// winning (t's own first, then the embedded structs' level by level, each
// level in field order). The JSON API's OpenAPI objects and its check of
// request bodies read them from here too.
func Fields(t reflect.Type) []Field {
	type level struct {
		t       reflect.Type
		byValue bool
	}
	var out []Field
	seen := map[string]bool{}
	for todo := []level{{t, true}}; len(todo) > 0 && len(out) < 1<<16; {
		var next []level
		for _, l := range todo {
			for i := 0; i < l.t.NumField(); i++ {
				f := l.t.Field(i)
				tag := f.Tag.Get("json")
				if tag == "-" {
					continue // left out; "-," is the key "-"
				}
				name, opts, _ := strings.Cut(tag, ",")
				if f.Anonymous && name == "" {
					ft := f.Type
					if ft.Kind() == reflect.Pointer {
						ft = ft.Elem()
					}
					if ft.Kind() == reflect.Struct {
						next = append(next, level{ft, l.byValue && f.Type.Kind() == reflect.Struct})
						continue
					}
				}
				if !f.IsExported() || strings.Contains(","+opts+",", ",embed,") {
					continue
				}
				if name == "" {
					name = f.Name
				}
				if !seen[name] {
					seen[name] = true
					out = append(out, Field{Name: name, Field: f, Owner: l.t, ByValue: l.byValue})
				}
			}
		}
		todo = next
	}
	return out
}
