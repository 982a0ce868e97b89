package httpapi

import (
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/errs"
)

// TestDecodeNamesTheIndex: a value of the wrong type inside an array is
// refused naming its index (items[3].quality), not encoding/json's
// items.quality, and a fractional number where a whole one is wanted says
// so (and a float out of range does not say whole). An unknown key is
// named at its place too (items[1].bank), not by its bare name.
func TestDecodeNamesTheIndex(t *testing.T) {
	type item struct {
		PDQ     string  `json:"pdq"`
		Quality int     `json:"quality"`
		Tags    []int   `json:"tags"`
		Seconds float64 `json:"seconds"`
	}
	type body struct {
		Items []item `json:"items"`
		Name  string `json:"name"`
		Inner struct {
			Deep []struct {
				N int `json:"n"`
			} `json:"deep"`
		} `json:"inner"`
	}
	cases := []struct{ json, field, message string }{
		{`{"items":[{"quality":1},{"quality":2},{"pdq":"x","quality":3},{"pdq":"y","quality":100.5}]}`, "items[3].quality", "whole number"},
		{`{"items":[{"quality":"high"}]}`, "items[0].quality", "JSON number"},
		{`{"items":[{"quality":1e40}]}`, "items[0].quality", "whole number"},
		// A float out of range is no question of whole numbers: before,
		// seconds of 1e309 was refused as not a whole number.
		{`{"items":[{"seconds":0.5},{"seconds":1e309}]}`, "items[1].seconds", "must be a number within range, not 1e309"},
		{`{"items":[{"tags":[1,2,"x"]}]}`, "items[0].tags[2]", "JSON number"},
		{`{"items":[{"quality":[1]}]}`, "items[0].quality", "JSON number"},
		{`{"items":{"quality":1}}`, "items", "JSON array"},
		{`{"name":5}`, "name", "JSON string"},
		{`{"items":[], "inner":{"deep":[{"n":1},{"n":{}}]}}`, "inner.deep[1].n", "JSON number"},
	}
	for _, c := range cases {
		var v body
		err := DecodeBytes([]byte(c.json), &v)
		e, ok := errs.As(err)
		if !ok || e.Rule != "json_type" || e.Field != c.field || !strings.Contains(e.Message, c.message) || !strings.HasPrefix(e.Message, c.field) {
			t.Errorf("%s: %v, want field %s and a message saying %q", c.json, err, c.field, c.message)
		}
		if strings.Contains(c.field, "seconds") && strings.Contains(e.Message, "whole") {
			t.Errorf("%s: %v, a float field refused as not a whole number", c.json, err)
		}
	}

	unknown := []struct{ json, field string }{
		{`{"items":[{"quality":1},{"quality":2,"bank":"HB-1"}]}`, "items[1].bank"},
		{`{"inner":{"deep":[{"n":1,"m":2}]}}`, "inner.deep[0].m"},
		{`{"bank":"HB-1","items":[]}`, "bank"},
		// A key the check does not see as unknown keeps the decoder's name.
		{`{"items":[{"quality":1}],"zz":{"bank":1}}`, "zz"},
	}
	for _, c := range unknown {
		var v body
		err := DecodeBytes([]byte(c.json), &v)
		e, ok := errs.As(err)
		if !ok || e.Rule != "unknown_field" || e.Field != c.field || !strings.Contains(e.Message, `"`+c.field+`"`) {
			t.Errorf("%s: %v, want unknown_field naming %s", c.json, err, c.field)
		}
	}
}
