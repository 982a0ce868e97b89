package httpapi

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/strictjson"
)

// checkJSON refuses, in a body that encoding/json would accept into a value
// of type t, what it would accept silently: bytes that are not UTF-8 (which
// it turns into U+FFFD; rule utf8), an object that gives one key twice, at
// any depth (where the last one would win; rule duplicate_key), and a key
// that is not a field's name as written but one encoding/json matches
// without regard to case ("Name", "NAME" or "ſex" for "sex", where
// {"NAME":"a","name":"b"} would keep one of them silently; rule
// unknown_field, as the decoder names a key it does not know). t is the
// type decoded into (nil: no field names checked); the names are those of
// its structs' json tags, at any depth, below which a type that decodes
// itself (json.Unmarshaler) is not looked into. The refusal names the field
// where it is known: the dotted path of the key, with [i] for the items of
// a list ("hashes[2].pdq"). A body that is not JSON passes, for the decoder
// to refuse in its own words.
//
// It reads the body once, byte by byte, without building it: a 64 MiB hash
// list costs one pass and a few slices.
func checkJSON(b []byte, t reflect.Type) error {
	_, err := checkJSONPaths(b, t)
	return err
}

// checkJSONPaths is checkJSON that also returns the paths of the first keys
// of b that no field of their struct has ("items[0].bank"), in the body's
// order, for the refusal of the decoder, which names a key it does not
// know without its place, to name it as the other refusals do.
func checkJSONPaths(b []byte, t reflect.Type) ([]string, error) {
	s := scanner{b: b}
	s.value(0, jsonTarget(t))
	for i, p := range s.unknown {
		s.unknown[i] = strings.TrimPrefix(p, ".")
	}
	return s.unknown, s.err
}

// jsonTarget is what a JSON value decoded into t is checked against: t
// without its pointers, or nil when its names are not checked (an
// interface, a json.Unmarshaler).
func jsonTarget(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() == reflect.Interface || t.Implements(unmarshaler) || reflect.PointerTo(t).Implements(unmarshaler) {
		return nil
	}
	return t
}

var unmarshaler = reflect.TypeFor[json.Unmarshaler]()

// jsonFields maps the JSON names of a struct type's fields
// (strictjson.Fields) to their types.
var jsonFieldCache sync.Map // reflect.Type -> map[string]reflect.Type

func jsonFields(t reflect.Type) map[string]reflect.Type {
	if m, ok := jsonFieldCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := map[string]reflect.Type{}
	for _, f := range strictjson.Fields(t) {
		m[f.Name] = f.Field.Type
	}
	jsonFieldCache.Store(t, m)
	return m
}

type scanner struct {
	b       []byte
	i       int
	err     error
	path    []string   // the names of the values we are in
	keys    [][][]byte // per depth of object, the keys seen so far
	objects int        // how many objects we are in
	bad     bool       // not JSON: stop, the decoder will say why
	// unknown holds the paths of the first keys that no field of their
	// struct has, in the body's order (at most maxUnknown): the decoder
	// refuses the first of them, naming the key alone.
	unknown []string
}

// maxUnknown bounds the unknown keys checkJSON keeps the paths of.
const maxUnknown = 16

// maxDepth matches encoding/json's own nesting limit.
const maxDepth = 10000

func (s *scanner) stop() bool { return s.err != nil || s.bad }

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) field() string {
	var buf bytes.Buffer
	for _, p := range s.path {
		if buf.Len() > 0 && !strings.HasPrefix(p, "[") {
			buf.WriteByte('.')
		}
		buf.WriteString(p)
	}
	return buf.String()
}

// value reads a value that decodes into t (jsonTarget's; nil: anything).
func (s *scanner) value(depth int, t reflect.Type) {
	s.space()
	if s.i >= len(s.b) || depth > maxDepth {
		s.bad = true
		return
	}
	switch c := s.b[s.i]; {
	case c == '{':
		s.object(depth+1, t)
	case c == '[':
		s.array(depth+1, t)
	case c == '"':
		s.str()
	default:
		// A number, true, false or null: its bytes are ASCII, and a byte
		// that is not ends it; what follows is the decoder's to judge.
		for s.i < len(s.b) {
			c := s.b[s.i]
			if c == ',' || c == ']' || c == '}' || c == ' ' || c == '\t' || c == '\n' || c == '\r' {
				return
			}
			if c >= utf8.RuneSelf {
				s.bad = true
				return
			}
			s.i++
		}
	}
}

func (s *scanner) object(depth int, t reflect.Type) {
	var fields map[string]reflect.Type // t's, when t is a struct
	var elem reflect.Type              // the values', when t is a map
	if t != nil {
		switch t.Kind() {
		case reflect.Struct:
			fields = jsonFields(t)
		case reflect.Map:
			elem = jsonTarget(t.Elem())
		}
	}
	s.i++ // {
	level := s.objects
	s.objects++
	defer func() { s.objects-- }()
	if len(s.keys) == level {
		s.keys = append(s.keys, nil)
	}
	s.keys[level] = s.keys[level][:0]
	s.space()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return
	}
	for !s.stop() {
		s.space()
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			s.bad = true
			return
		}
		key := s.str()
		if s.stop() {
			return
		}
		for _, k := range s.keys[level] {
			if bytes.Equal(k, key) {
				s.path = append(s.path, string(key))
				s.err = errs.New(errs.Malformed, "duplicate_key", s.field(), "the key %q is given twice in one object", string(key))
				return
			}
		}
		s.keys[level] = append(s.keys[level], key)
		vt := elem
		if fields != nil {
			ft, ok := fields[string(key)]
			if !ok {
				if name := foldedField(fields, string(key)); name != "" {
					s.path = append(s.path, string(key))
					s.err = errs.New(errs.Malformed, "unknown_field", s.field(), "the field %q is not part of this request: names are written as documented, here %q", string(key), name)
					return
				}
				// Unknown in every case: the decoder refuses it, by
				// its bare name; keep where it is, for the refusal to
				// name it as the others do (items[0].bank).
				if len(s.unknown) < maxUnknown {
					s.unknown = append(s.unknown, s.field()+"."+string(key))
				}
			}
			vt = jsonTarget(ft)
		}
		s.space()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			s.bad = true
			return
		}
		s.i++
		s.path = append(s.path, string(key))
		// The keys of the objects inside this value are kept one level
		// down; this level's list must survive them.
		keys := s.keys[level]
		s.value(depth, vt)
		s.keys[level] = keys
		s.path = s.path[:len(s.path)-1]
		if s.stop() || !s.more('}') {
			return
		}
	}
}

// more reads what follows a member or an element: a comma, when more
// follow, or end, the closing bracket; anything else is bad.
func (s *scanner) more(end byte) bool {
	s.space()
	if s.i >= len(s.b) {
		s.bad = true
		return false
	}
	switch s.b[s.i] {
	case ',':
		s.i++
		return true
	case end:
		s.i++
		return false
	}
	s.bad = true
	return false
}

func (s *scanner) array(depth int, t reflect.Type) {
	var elem reflect.Type
	if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
		elem = jsonTarget(t.Elem())
	}
	s.i++ // [
	s.space()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		return
	}
	for n := 0; !s.stop(); n++ {
		s.path = append(s.path, "["+strconv.Itoa(n)+"]")
		s.value(depth, elem)
		s.path = s.path[:len(s.path)-1]
		if s.stop() || !s.more(']') {
			return
		}
	}
}

// str reads a string at s.i and returns its content as it compares as a
// key: the bytes themselves, or, when it has escapes, its decoded form.
func (s *scanner) str() []byte {
	start := s.i
	s.i++ // "
	escaped := false
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			if !escaped {
				return s.b[start+1 : s.i-1]
			}
			if at := loneSurrogate(s.b[start+1 : s.i-1]); at >= 0 {
				// encoding/json would write U+FFFD in its place: the value
				// stored would not be the one sent.
				s.err = errs.New(errs.Malformed, "utf8", s.field(), "the body holds half of a UTF-16 surrogate pair, \\u%s, alone in a string (at byte %d): it is not a character", s.b[start+1+at+2:start+1+at+6], start+1+at)
				return nil
			}
			var v string
			if err := json.Unmarshal(s.b[start:s.i], &v); err != nil {
				s.bad = true
				return nil
			}
			return []byte(v)
		case c == '\\':
			escaped = true
			s.i += 2
		case c < utf8.RuneSelf:
			s.i++
		default:
			r, n := utf8.DecodeRune(s.b[s.i:])
			if r == utf8.RuneError && n <= 1 {
				s.err = errs.New(errs.Malformed, "utf8", s.field(), "the body is not valid UTF-8 (at byte %d)", s.i)
				return nil
			}
			s.i += n
		}
	}
	s.bad = true
	return nil
}

// loneSurrogate returns the offset in raw, a JSON string's escaped content,
// of a \u escape of half a UTF-16 surrogate pair that is not paired (a high
// half not followed by a low one, or a low half alone), or -1.
func loneSurrogate(raw []byte) int {
	high := -1 // offset of a high half waiting for its low half
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			if high >= 0 {
				return high
			}
			continue
		}
		if i+1 < len(raw) && raw[i+1] != 'u' {
			if high >= 0 {
				return high
			}
			i++ // a one-letter escape
			continue
		}
		if i+6 > len(raw) {
			return -1 // malformed: encoding/json refuses it
		}
		v, err := strconv.ParseUint(string(raw[i+2:i+6]), 16, 16)
		if err != nil {
			return -1
		}
		switch {
		case v >= 0xD800 && v < 0xDC00:
			if high >= 0 {
				return high
			}
			high = i
		case v >= 0xDC00 && v < 0xE000:
			if high < 0 {
				return i
			}
			high = -1
		default:
			if high >= 0 {
				return high
			}
		}
		i += 5
	}
	return high
}

// foldedField returns the field of fields that encoding/json would match
// key to without regard to case (its folding: Unicode simple folding, so
// that "ſ" is "s" and "K", the Kelvin sign, "k"), or "".
func foldedField(fields map[string]reflect.Type, key string) string {
	for name := range fields {
		if strings.EqualFold(name, key) {
			return name
		}
	}
	return ""
}
