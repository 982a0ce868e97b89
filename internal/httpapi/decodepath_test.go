package httpapi

import (
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/errs"
)

// TestDecodeNamesTheIndex: a value of the wrong type inside an array is
// refused naming its index (items[3].quality), not encoding/json's
// items.quality, and a fractional number where a whole one is wanted says
// so.
func TestDecodeNamesTheIndex(t *testing.T) {
	type item struct {
		PDQ     string `json:"pdq"`
		Quality int    `json:"quality"`
		Tags    []int  `json:"tags"`
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
	}
}
