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

// TestParseNamesTheFirst: a query wrong in several parameters is refused
// for the first by name, every time (Go's maps have no order: it was
// refused for any of them, and a notice's test failed now and then).
func TestParseNamesTheFirst(t *testing.T) {
	q, _ := url.ParseQuery("zeta=1&id=DN-1&done=x&organ=a&organ=b")
	for range 50 {
		if _, err := Parse(q, Size{Default: 100, Max: 500}, "organ"); !isField(err, "done") {
			t.Fatalf("refused %v, want the field done", err)
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

func TestCheck(t *testing.T) {
	size := Size{Default: 100, Max: 500}
	for _, c := range []struct {
		limit       int
		fs          []Filter
		rule, field string
	}{
		{0, nil, "", ""},
		{500, []Filter{{Name: "organ", Value: "kidney", Allowed: []string{"kidney"}}, {Name: "status"}}, "", ""},
		{501, nil, "range", "limit"},
		{-1, nil, "range", "limit"},
		{10, []Filter{{Name: "status", Value: "open"}}, "query", "status"},
		{10, []Filter{{Name: "organ", Value: "spleen", Allowed: []string{"kidney"}}}, "enum", "organ"},
	} {
		r := Request{Limit: c.limit}
		err := r.Check(size, []string{"organ"}, c.fs...)
		e, _ := errs.As(err)
		switch {
		case c.rule == "" && (err != nil || r.Limit < 1):
			t.Errorf("limit %d, %v: %+v, %v", c.limit, c.fs, r, err)
		case c.rule == "" && c.limit == 0 && r.Limit != 100:
			t.Errorf("no limit: %d, want the default 100", r.Limit)
		case c.rule != "" && (e == nil || e.Rule != c.rule || e.Field != c.field):
			t.Errorf("limit %d, %v: %v, want rule %s field %s", c.limit, c.fs, err, c.rule, c.field)
		}
	}
}

func TestDates(t *testing.T) {
	for _, c := range []struct {
		from, to, wantFrom, wantEnd string
		rule, field                 string
	}{
		{"", "", "", "", "", ""},
		{"2024-02-28", "2024-02-29", "2024-02-28", "2024-03-01", "", ""},
		{"", "2024-12-31", "", "2025-01-01", "", ""},
		{"", "9999-12-31", "", "", "", ""},
		{"2024-01-01", "9999-12-31", "2024-01-01", "", "", ""},
		{"2024-13-01", "", "", "", "date_format", "from"},
		{"", "yesterday", "", "", "date_format", "to"},
		{"2024-02-01", "2024-01-31", "", "", "dates_in_order", "to"},
	} {
		from, end, err := Dates(c.from, c.to)
		e, _ := errs.As(err)
		switch {
		case c.rule == "" && (err != nil || from != c.wantFrom || end != c.wantEnd):
			t.Errorf("%q..%q: %q, %q, %v", c.from, c.to, from, end, err)
		case c.rule != "" && (e == nil || e.Rule != c.rule || e.Field != c.field):
			t.Errorf("%q..%q: %v, want rule %s field %s", c.from, c.to, err, c.rule, c.field)
		}
	}
}

// FuzzParse: a list's query string, whatever it holds, is read or refused
// with the usual error, never a panic; what is read is a page size in range
// and a date range in order.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "limit=5&organ=kidney", "cursor=" + (Key{12, "DN-1"}).Cursor(), "from=2024-02-29&to=2024-03-01", "limit=%2B5&to=1900-01-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := url.ParseQuery(s)
		if err != nil {
			return
		}
		size := Size{Default: 100, Max: 500}
		r, err := Parse(q, size, "organ", "from", "to")
		if err != nil {
			if _, ok := errs.As(err); !ok {
				t.Fatalf("%q: %v is not a refusal", s, err)
			}
			return
		}
		if err := r.Check(size, []string{"organ", "from", "to"}, Filter{Name: "organ", Value: q.Get("organ")}); err != nil || r.Limit < 1 || r.Limit > size.Max {
			t.Fatalf("%q: limit %d, %v", s, r.Limit, err)
		}
		from, end, err := Dates(q.Get("from"), q.Get("to"))
		if _, ok := errs.As(err); err != nil && !ok {
			t.Fatalf("%q: %v is not a refusal", s, err)
		}
		if err == nil && from != "" && end != "" && end <= from {
			t.Fatalf("%q: range %s..%s out of order", s, from, end)
		}
	})
}

func isField(err error, field string) bool {
	e, ok := errs.As(err)
	return ok && e.Field == field
}
