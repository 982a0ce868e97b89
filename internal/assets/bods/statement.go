package bods

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/strictjson"
)

// Record types and statuses (the recordType and recordStatus codelists).
const (
	Entity       = "entity"
	Person       = "person"
	Relationship = "relationship"

	StatusNew     = "new"
	StatusUpdated = "updated"
	StatusClosed  = "closed"
)

// Statement is one BODS statement: the fields custos indexes, and the
// statement itself as it was given (compact JSON), which is what is stored
// and exported.
type Statement struct {
	StatementID        string
	RecordID           string
	RecordType         string
	RecordStatus       string // "new" where the statement gives none
	StatementDate      string
	DeclarationSubject string
	// Name is an entity's name or a person's first full name; Kind is
	// the entity type or the person type.
	Name string
	Kind string
	// Subject and InterestedParty are a relationship's record ids ("" when
	// the statement gives an unspecified record instead).
	Subject         string
	InterestedParty string
	Interests       []Interest
	// PublicationDate is publicationDetails.publicationDate, and Starts
	// the interests' startDate, one per interest ("" where none is given):
	// with StatementDate, the dates Ahead checks.
	PublicationDate string
	Starts          []string
	Raw             json.RawMessage
	// Public is, for a person, the statement without its personal data
	// (PersonPublic); nil for an entity or a relationship, whose Raw is
	// public.
	Public json.RawMessage
}

// PersonPublic is a person statement without its personal data: every
// field of the statement but its annotations (free text about it), and of
// its recordDetails only isComponent and personType, which the schema
// requires (so it is still a valid BODS statement). Names, identifiers,
// nationalities, places and dates of birth and death, tax residencies,
// addresses, political exposure and unspecifiedPersonDetails are left out.
func PersonPublic(obj map[string]any) (json.RawMessage, error) {
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		if k != "annotations" && k != "recordDetails" {
			out[k] = v
		}
	}
	d, _ := obj["recordDetails"].(map[string]any)
	out["recordDetails"] = map[string]any{"isComponent": d["isComponent"], "personType": d["personType"]}
	return json.Marshal(out)
}

// Interest is one interest of a relationship.
type Interest struct {
	Type   string `json:"type,omitempty"`
	Direct string `json:"direct,omitempty"`
	// BO is beneficialOwnershipOrControl.
	BO    bool   `json:"bo,omitempty"`
	Share *Share `json:"share,omitempty"`
}

// Share is a percentage as BODS gives it: exact, or a range whose bounds
// are inclusive (minimum, maximum) or exclusive. Bounds not given are open.
type Share struct {
	Exact            *float64 `json:"exact,omitempty"`
	Minimum          *float64 `json:"minimum,omitempty"`
	Maximum          *float64 `json:"maximum,omitempty"`
	ExclusiveMinimum *float64 `json:"exclusiveMinimum,omitempty"`
	ExclusiveMaximum *float64 `json:"exclusiveMaximum,omitempty"`
}

// Range is the share as a closed interval of percentages [Lo, Hi] (an
// exclusive bound is taken as the bound itself: a range's ends, not a
// claim of equality).
func (s *Share) Range() (lo, hi float64, ok bool) {
	if s == nil {
		return 0, 0, false
	}
	if s.Exact != nil {
		return *s.Exact, *s.Exact, true
	}
	lo, hi = 0, 100
	any := false
	if s.Minimum != nil {
		lo, any = *s.Minimum, true
	} else if s.ExclusiveMinimum != nil {
		lo, any = *s.ExclusiveMinimum, true
	}
	if s.Maximum != nil {
		hi, any = *s.Maximum, true
	} else if s.ExclusiveMaximum != nil {
		hi, any = *s.ExclusiveMaximum, true
	}
	return lo, hi, any
}

// Parse checks one statement (its JSON; n is its position in the file, from
// 0, for the error's path) and returns it. A statement must be UTF-8, give
// no key twice in an object, and meet the BODS 0.4 schema; a refusal names
// the failing JSON path ("statements[3].recordDetails.interests[0].share").
// A statement given compact is its own Raw: the caller leaves raw as it is.
func Parse(n int, raw []byte) (*Statement, error) {
	base := fmt.Sprintf("statements[%d]", n)
	// Bytes that are not UTF-8, like half of a surrogate pair alone, are
	// refused by the decoder (rule utf8, malformed), naming where.
	v, compact, err := decodeValue(raw, base)
	if err != nil {
		return nil, err
	}
	sc, err := statementSchema()
	if err != nil {
		return nil, err
	}
	if err := sc.Validate(v); err != nil {
		ve, ok := err.(*jsonschema.ValidationError)
		if !ok {
			return nil, err
		}
		leaf := deepest(ve)
		return nil, schemaError(n, jsonPath(base, v, leaf.InstanceLocation), leaf.ErrorKind)
	}
	obj := v.(map[string]any)
	if !compact {
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return nil, errs.New(errs.Malformed, "json", base, "statement %d is not JSON", n)
		}
		raw = buf.Bytes()
	}
	return fields(n, base, obj, raw)
}

// Derive reads the fields custos indexes from a statement as stored (one
// Parse checked when it was imported, or a person's PersonPublic), without
// checking it against the schema again: log verify compares them with the
// columns stored beside the statement, which the ownership graph reads.
func Derive(raw []byte) (*Statement, error) {
	const base = "statement"
	v, _, err := decodeValue(raw, base)
	if err != nil {
		return nil, err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errs.New(errs.Malformed, "json", base, "a statement is one JSON object")
	}
	return fields(0, base, obj, raw)
}

// fields is the statement obj (raw, compact) as custos indexes it.
func fields(n int, base string, obj map[string]any, raw []byte) (*Statement, error) {
	s := &Statement{
		StatementID:        str(obj["statementId"]),
		RecordID:           str(obj["recordId"]),
		RecordType:         str(obj["recordType"]),
		RecordStatus:       str(obj["recordStatus"]),
		StatementDate:      str(obj["statementDate"]),
		DeclarationSubject: str(obj["declarationSubject"]),
		Raw:                raw[:len(raw):len(raw)],
	}
	if pub, ok := obj["publicationDetails"].(map[string]any); ok {
		s.PublicationDate = str(pub["publicationDate"])
	}
	if s.RecordStatus == "" {
		s.RecordStatus = StatusNew
	}
	if s.RecordID == "" {
		return nil, errs.Invalidf("required", base+".recordId", "statement %d has an empty recordId", n)
	}
	d, _ := obj["recordDetails"].(map[string]any)
	switch s.RecordType {
	case Entity:
		s.Name = str(d["name"])
		if t, ok := d["entityType"].(map[string]any); ok {
			s.Kind = str(t["type"])
		}
	case Person:
		var err error
		if s.Public, err = PersonPublic(obj); err != nil {
			return nil, err
		}
		s.Kind = str(d["personType"])
		s.Name = personName(d)
	case Relationship:
		s.Subject = str(d["subject"])
		s.InterestedParty = str(d["interestedParty"])
		if list, ok := d["interests"].([]any); ok {
			for i, it := range list {
				m, _ := it.(map[string]any)
				in := Interest{Type: str(m["type"]), Direct: str(m["directOrIndirect"])}
				in.BO, _ = m["beneficialOwnershipOrControl"].(bool)
				if sh, ok := m["share"].(map[string]any); ok {
					share, err := readShare(sh, fmt.Sprintf("%s.recordDetails.interests[%d].share", base, i), n)
					if err != nil {
						return nil, err
					}
					in.Share = share
				}
				s.Interests = append(s.Interests, in)
				s.Starts = append(s.Starts, str(m["startDate"]))
			}
		}
	}
	return s, nil
}

// Ahead refuses statement n (its position in the file, from 0) when it
// says it was declared (statementDate) or published
// (publicationDetails.publicationDate), or that one of its interests
// began (startDate), on a day after last (YYYY-MM-DD): rule
// dates_in_order, naming the field's path, never the date given. A
// date-time is read by the day it writes. An interest's endDate is not
// checked: an interest may be declared with the day it is to end.
func (s *Statement) Ahead(n int, last string) error {
	base := fmt.Sprintf("statements[%d]", n)
	after := func(date string) bool { return len(date) >= len(last) && date[:len(last)] > last }
	ahead := func(path string) error {
		return errs.Invalidf("dates_in_order", path, "statement %d gives %s after %s: a statement's dates are at most a day ahead of its import", n, path, last)
	}
	if after(s.StatementDate) {
		return ahead(base + ".statementDate")
	}
	if after(s.PublicationDate) {
		return ahead(base + ".publicationDetails.publicationDate")
	}
	for i, d := range s.Starts {
		if after(d) {
			return ahead(fmt.Sprintf("%s.recordDetails.interests[%d].startDate", base, i))
		}
	}
	return nil
}

// personName is a person's first full name (or given and family names).
func personName(d map[string]any) string {
	if names, ok := d["names"].([]any); ok && len(names) > 0 {
		nm, _ := names[0].(map[string]any)
		return nameOf(nm)
	}
	return ""
}

// nameOf is the name a name object gives: its full name, or its given and
// family names.
func nameOf(nm map[string]any) string {
	if n := str(nm["fullName"]); n != "" {
		return n
	}
	return strings.TrimSpace(str(nm["givenName"]) + " " + str(nm["familyName"]))
}

// PersonName is the name of the person of a statement (JSON) as Parse
// reads it: for a person statement opened from its sealed row. It reads
// the names as Parse does, by their exact keys: the schema lets a statement
// carry other members, and encoding/json would have taken one named
// "RecordDetails" or "NAMES" (the last of the two) for the one Parse
// indexed, showing another name than the index holds.
func PersonName(raw []byte) string {
	// Only the first of the names is decoded (into a map, as Parse has
	// it): the rest of the statement is kept unread, not built.
	var st struct {
		RecordDetails struct {
			Names []jsontext.Value `json:"names"`
			Other jsontext.Value   `json:",embed"`
		} `json:"recordDetails"`
		Other jsontext.Value `json:",embed"`
	}
	if strictjson.Unmarshal(raw, &st) != nil || len(st.RecordDetails.Names) == 0 {
		return ""
	}
	var first map[string]any
	if strictjson.Unmarshal(st.RecordDetails.Names[0], &first) != nil {
		return ""
	}
	return nameOf(first)
}

func readShare(m map[string]any, path string, n int) (*Share, error) {
	var sh Share
	for k, p := range map[string]**float64{"exact": &sh.Exact, "minimum": &sh.Minimum, "maximum": &sh.Maximum,
		"exclusiveMinimum": &sh.ExclusiveMinimum, "exclusiveMaximum": &sh.ExclusiveMaximum} {
		num, ok := m[k].(json.Number)
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(string(num), 64)
		if err != nil || math.IsNaN(f) {
			return nil, errs.Invalidf("bods_schema", path+"."+k, "statement %d has a share that is not a number", n)
		}
		*p = &f
	}
	lo, hi, ok := sh.Range()
	if ok && lo > hi {
		return nil, errs.Invalidf("share_range", path, "statement %d gives a share whose minimum is above its maximum", n)
	}
	return &sh, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// deepest is the cause furthest into the instance (the first of those):
// the value that is wrong rather than the object holding it.
func deepest(ve *jsonschema.ValidationError) *jsonschema.ValidationError {
	best := ve
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			if len(e.InstanceLocation) > len(best.InstanceLocation) || len(best.Causes) > 0 {
				best = e
			}
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return best
}

// schemaError is the refusal of statement n for a schema rule broken at
// path. It names the statement, the path and the rule, and what the
// schema wants (a pattern, a format, a codelist, a bound, the properties
// it requires), never the value given: a person statement's value is
// personal data (a birth date, a name), which no error message repeats.
func schemaError(n int, path string, k jsonschema.ErrorKind) error {
	const rule = "bods_schema"
	switch k := k.(type) {
	case *kind.Pattern:
		return errs.Invalidf(rule, path, "statement %d does not meet the BODS 0.4 schema at %s: the value does not match the pattern %s", n, path, k.Want)
	case *kind.Format:
		return errs.Invalidf(rule, path, "statement %d does not meet the BODS 0.4 schema at %s: the value is not a valid %s", n, path, k.Want)
	case *kind.Enum:
		return errs.Invalidf(rule, path, "statement %d does not meet the BODS 0.4 schema at %s: the value is not one of %s", n, path, displayAll(k.Want))
	case *kind.Const:
		return errs.Invalidf(rule, path, "statement %d does not meet the BODS 0.4 schema at %s: the value is not one of %s", n, path, displayAll([]any{k.Want}))
	case *kind.Type:
		return errs.Invalidf(rule, path, "statement %d does not meet the BODS 0.4 schema at %s: the value is not of type %s", n, path, strings.Join(k.Want, ", "))
	case *kind.Minimum:
		return errs.Invalidf(rule, path, "statement %d does not meet the BODS 0.4 schema at %s: the value is outside the bound %s %s", n, path, "minimum", bound(k.Want))
	case *kind.ExclusiveMinimum:
		return errs.Invalidf(rule, path, "statement %d does not meet the BODS 0.4 schema at %s: the value is outside the bound %s %s", n, path, "exclusiveMinimum", bound(k.Want))
	case *kind.Maximum:
		return errs.Invalidf(rule, path, "statement %d does not meet the BODS 0.4 schema at %s: the value is outside the bound %s %s", n, path, "maximum", bound(k.Want))
	case *kind.ExclusiveMaximum:
		return errs.Invalidf(rule, path, "statement %d does not meet the BODS 0.4 schema at %s: the value is outside the bound %s %s", n, path, "exclusiveMaximum", bound(k.Want))
	case *kind.Required:
		return errs.Invalidf(rule, path, "statement %d does not meet the BODS 0.4 schema at %s: it lacks %s", n, path, strings.Join(k.Missing, ", "))
	case *kind.AdditionalProperties:
		return errs.Invalidf(rule, path, "statement %d does not meet the BODS 0.4 schema at %s: it holds a property the schema does not allow", n, path)
	}
	kw := "schema"
	if k != nil {
		if p := k.KeywordPath(); len(p) > 0 {
			kw = p[len(p)-1]
		}
	}
	return errs.Invalidf(rule, path, "statement %d does not meet the BODS 0.4 schema at %s (rule %s)", n, path, kw)
}

// bound writes a schema's bound as a number (100, 0.5).
func bound(r *big.Rat) string {
	if r == nil {
		return "?"
	}
	if r.IsInt() {
		return r.Num().String()
	}
	return strings.TrimRight(r.FloatString(6), "0")
}

// displayAll writes the values of a codelist the schema gives.
func displayAll(vs []any) string {
	out := make([]string, 0, len(vs))
	for _, v := range vs {
		b, err := json.Marshal(v)
		if err != nil {
			return "the schema's values"
		}
		out = append(out, string(b))
	}
	return strings.Join(out, ", ")
}

// jsonPath writes an instance location as a dotted path with [i] for the
// items of arrays, reading the value to tell an index from a key.
func jsonPath(base string, v any, loc []string) string {
	var b strings.Builder
	b.WriteString(base)
	cur := v
	for _, seg := range loc {
		switch c := cur.(type) {
		case []any:
			b.WriteString("[" + seg + "]")
			if i, err := strconv.Atoi(seg); err == nil && i >= 0 && i < len(c) {
				cur = c[i]
			} else {
				cur = nil
			}
		case map[string]any:
			b.WriteString("." + seg)
			cur = c[seg]
		default:
			b.WriteString("." + seg)
			cur = nil
		}
	}
	return b.String()
}

// decodeValue decodes one JSON value as the validator wants it (numbers as
// json.Number), refusing an object that gives a key twice (encoding/json
// would keep the last silently) and the \u escape of half of a UTF-16
// surrogate pair alone in a string (encoding/json would read U+FFFD, while
// the statement stored keeps the escape: strictjson refuses it too), with
// the path. The common case is one pass of scanValue; only when it gives up
// (bad JSON, a key twice, too deep, a lone surrogate) is the value read
// again token by token to name the path of what is wrong. compact tells
// that the text has no whitespace outside its strings (it is its own
// json.Compact).
func decodeValue(raw []byte, base string) (v any, compact bool, err error) {
	if v, compact, ok := scanValue(raw); ok {
		return v, compact, nil
	}
	v, err = decodeTokens(raw, base)
	return v, false, err
}

// decodeTokens is decodeValue token by token, naming the path of a
// duplicate key, of too deep a nesting, of a lone surrogate or of bad
// JSON. It reads with the JSON v2 tokenizer (as strictjson), which refuses
// text that is not UTF-8 and lone surrogates; a key given twice it leaves
// to readValue, which names it in the importer's words.
func decodeTokens(raw []byte, base string) (any, error) {
	dec := jsontext.NewDecoder(bytes.NewReader(raw), jsontext.AllowDuplicateNames(true))
	v, err := readValue(dec, base, 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		return nil, errs.New(errs.Malformed, "json", base, "a statement is one JSON object")
	}
	return v, nil
}

const maxDepth = 64

func readValue(dec *jsontext.Decoder, path string, depth int) (any, error) {
	if depth > maxDepth {
		return nil, errs.Invalidf("depth", path, "a statement nests deeper than %d levels", maxDepth)
	}
	tok, err := dec.ReadToken()
	if err != nil {
		return nil, notJSON(path, err)
	}
	switch tok.Kind() {
	case '{':
		m := map[string]any{}
		for dec.PeekKind() != '}' {
			kt, err := dec.ReadToken()
			if err != nil {
				return nil, notJSON(path, err)
			}
			k := kt.String()
			if _, dup := m[k]; dup {
				return nil, errs.New(errs.Malformed, "duplicate_key", path+"."+k, "the key %q is given twice in one object", k)
			}
			v, err := readValue(dec, path+"."+k, depth+1)
			if err != nil {
				return nil, err
			}
			m[k] = v
		}
		if _, err := dec.ReadToken(); err != nil {
			return nil, notJSON(path, err)
		}
		return m, nil
	case '[':
		a := []any{}
		for i := 0; dec.PeekKind() != ']'; i++ {
			v, err := readValue(dec, fmt.Sprintf("%s[%d]", path, i), depth+1)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		if _, err := dec.ReadToken(); err != nil {
			return nil, notJSON(path, err)
		}
		return a, nil
	case '"':
		return tok.String(), nil
	case '0':
		return json.Number(tok.String()), nil
	case 't':
		return true, nil
	case 'f':
		return false, nil
	case 'n':
		return nil, nil
	}
	return nil, errs.New(errs.Malformed, "json", path, "a statement is not valid JSON")
}

// notJSON is the refusal of the token at path that the tokenizer could not
// read: text that is not a character (rule utf8, as strictjson names it),
// or not JSON.
func notJSON(path string, err error) error {
	var syn *jsontext.SyntacticError
	if errors.As(err, &syn) {
		// In strictjson's words (the offset is in the statement).
		switch msg := syn.Err.Error(); {
		case strings.HasPrefix(msg, "invalid surrogate pair"):
			return errs.New(errs.Malformed, "utf8", path, "the document holds half of a UTF-16 surrogate pair alone in a string (at byte %d): it is not a character", syn.ByteOffset)
		case strings.HasPrefix(msg, "invalid UTF-8"):
			return errs.New(errs.Malformed, "utf8", path, "the document is not valid UTF-8 (at byte %d)", syn.ByteOffset)
		}
	}
	return errs.New(errs.Malformed, "json", path, "a statement is not valid JSON")
}
