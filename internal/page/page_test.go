package page

import (
	"net/url"
	"testing"

	"github.com/custos-project/custos/internal/errs"
)

func TestCursorRoundTrip(t *testing.T) {
	for _, k := range []Key{{0, "A"}, {146550, "DN-000123"}, {1 << 62, "XA-26-000001-01-B"}, {7, "id.with.dots"}} {
		got, err := ParseCursor(k.Cursor())
		if err != nil || got != k {
			t.Errorf("%v: %v, %v", k, got, err)
		}
	}
	good := Key{12, "DN-1"}.Cursor()
	for _, bad := range []string{"", "abc", good[:len(good)-2], good + "A", "MTIuRE4tMQ", // "12.DN-1" without its checksum
		Key{-1, "X"}.Cursor(), Key{3, ""}.Cursor()} {
		if _, err := ParseCursor(bad); errs.CodeOf(err) != errs.Malformed {
			t.Errorf("cursor %q: %v, want malformed", bad, err)
		}
	}
}

func TestParse(t *testing.T) {
	size := Size{Default: 100, Max: 500}
	for _, c := range []struct {
		query       string
		limit       int
		rule, field string
	}{
		{"", 100, "", ""},
		{"limit=500&organ=kidney", 500, "", ""},
		{"limit=501", 0, "range", "limit"},
		{"limit=0", 0, "range", "limit"},
		{"limit=10abc", 0, "query", "limit"},
		{"limit=%2B5", 5, "", ""},
		{"limit= 5", 0, "query", "limit"},
		{"offset=5", 0, "query", "offset"},
		{"organ=kidney&organ=liver", 0, "query", "organ"},
		{"cursor=zz", 0, "cursor", "cursor"},
	} {
		q, _ := url.ParseQuery(c.query)
		r, err := Parse(q, size, "organ")
		e, _ := errs.As(err)
		switch {
		case c.rule == "" && (err != nil || r.Limit != c.limit):
			t.Errorf("%q: %+v, %v", c.query, r, err)
		case c.rule != "" && (e == nil || e.Rule != c.rule || e.Field != c.field):
			t.Errorf("%q: %v, want rule %s field %s", c.query, err, c.rule, c.field)
		}
	}
}

func TestNext(t *testing.T) {
	q, _ := url.ParseQuery("organ=kidney&cursor=old&limit=5&from=")
	if got := Next("/api/v1/transplant/organs", q, "new"); got != "/api/v1/transplant/organs?cursor=new&limit=5&organ=kidney" {
		t.Errorf("next %s", got)
	}
	if got := Next("/x", q, ""); got != "" {
		t.Errorf("next of the last page %q", got)
	}
}
