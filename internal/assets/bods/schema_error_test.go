package bods

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/errs"
)

// TestSchemaErrorsLeaveValuesOut: a statement refused by the schema is
// refused with the rule, the JSON path and what the schema wants, never
// the value given: a person's birth date, name or nationality is personal
// data, which no error message repeats (docs/assets.md).
func TestSchemaErrorsLeaveValuesOut(t *testing.T) {
	b := &Builder{Prefix: "errors", Date: "2026-05-01", Publisher: "Demoland companies register"}
	person := func(fn func(d map[string]any)) []byte {
		var st map[string]any
		if err := json.Unmarshal(b.Person("P", "Secretia Namesake", ""), &st); err != nil {
			t.Fatal(err)
		}
		fn(st["recordDetails"].(map[string]any))
		raw, _ := json.Marshal(st)
		return raw
	}
	cases := []struct {
		name, path string
		raw        []byte
	}{
		{"birth date", "statements[0].recordDetails.birthDate", person(func(d map[string]any) { d["birthDate"] = "SECRETBIRTH" })},
		{"name type", "statements[0].recordDetails.names[0].type", person(func(d map[string]any) {
			d["names"] = []any{map[string]any{"fullName": "Secretia Namesake", "type": "SECRETTYPE"}}
		})},
		{"name not a string", "statements[0].recordDetails.names[0].fullName", person(func(d map[string]any) {
			d["names"] = []any{map[string]any{"fullName": []any{"SECRETNAME"}, "type": "legal"}}
		})},
		{"nationality", "statements[0].recordDetails.nationalities[0]", person(func(d map[string]any) {
			d["nationalities"] = []any{map[string]any{"SECRETKEY": "SECRETNATION"}}
		})},
		{"death date", "statements[0].recordDetails.deathDate", person(func(d map[string]any) { d["deathDate"] = "SECRETDEATH-01-01" })},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(0, c.raw)
			e, ok := errs.As(err)
			if !ok {
				t.Fatalf("accepted or not a refusal: %v", err)
			}
			if e.Rule != "bods_schema" || !strings.HasPrefix(e.Field, c.path) {
				t.Fatalf("refused with %s at %s, want bods_schema at %s (%v)", e.Rule, e.Field, c.path, e)
			}
			t.Log(e.Message)
			if strings.Contains(e.Message, "SECRET") || strings.Contains(e.Message, "Secretia") {
				t.Fatalf("the message repeats the value: %q", e.Message)
			}
			if !strings.Contains(e.Message, "statement 0") || !strings.Contains(e.Message, e.Field) {
				t.Fatalf("the message %q does not name the statement and the path", e.Message)
			}
		})
	}
}
