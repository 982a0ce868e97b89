// Package page pages the lists of every registry: keyset paging on the order
// in which the log wrote the rows (log_index DESC, then id), an opaque cursor
// naming the last row of a page, and the reading of a list's query
// parameters (limit, cursor and the list's filters), refusing a bad one with
// the usual error rather than reading it as something else.
//
// A row written while a client walks a list has a higher log_index than
// every row already listed, so it lands before the first page and never
// shifts the pages that follow: no row repeats or goes missing between the
// pages of one walk.
package page

import (
	"database/sql"
	"encoding/base64"
	"fmt"
	"hash/crc32"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/store"
)

// Key is the place of a row in a list: the log index of the entry that
// wrote it, and its identifier (rows written by one entry, such as the organs
// of one procurement, are listed by id).
type Key struct {
	Log int64
	ID  string
}

// Cursor encodes k for a next link: base64url of "log.id" and a checksum, so
// that a cursor cut short or edited by hand is refused, not read as another
// place in the list. It grants nothing: every page is read under the
// principal's rights and the request's filters.
func (k Key) Cursor() string {
	p := strconv.FormatInt(k.Log, 10) + "." + k.ID
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%s.%08x", p, crc32.ChecksumIEEE([]byte(p))))
}

// ParseCursor reads a cursor made by Key.Cursor; anything else is refused
// (malformed, rule cursor, field cursor).
func ParseCursor(s string) (Key, error) {
	bad := errs.New(errs.Malformed, "cursor", "cursor", "cursor is not one this list gave: start again from the first page")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Key{}, bad
	}
	i := strings.LastIndexByte(string(b), '.')
	if i < 0 {
		return Key{}, bad
	}
	p, sum := string(b[:i]), string(b[i+1:])
	if fmt.Sprintf("%08x", crc32.ChecksumIEEE([]byte(p))) != sum {
		return Key{}, bad
	}
	log, id, ok := strings.Cut(p, ".")
	n, err := strconv.ParseInt(log, 10, 64)
	if !ok || err != nil || n < 0 || id == "" {
		return Key{}, bad
	}
	return Key{Log: n, ID: id}, nil
}

// Size is a list's page size: Default rows when the request names none, at
// most Max.
type Size struct {
	Default, Max int
}

// Lists is the page size of the registries' lists.
var Lists = Size{Default: 100, Max: 500}

// Request is one page asked for: at most Limit rows after After (the first
// page when After is nil).
type Request struct {
	Limit int
	After *Key
}

// Limit reads the query parameter name as a page size: absent, it is
// size.Default; a value that is not a whole number is refused (malformed,
// rule query) and one outside 1 to size.Max too (invalid, rule range).
func Limit(q url.Values, name string, size Size) (int, error) {
	if q.Get(name) == "" {
		return size.Default, nil
	}
	n, err := Int(q, name, 0)
	if err != nil {
		return 0, err
	}
	if n < 1 || n > size.Max {
		return 0, errs.Invalidf("range", name, "%s is out of range: it must be between 1 and %d", name, size.Max)
	}
	return n, nil
}

// Int reads the query parameter name as a non-negative whole number: def
// when absent, refused (malformed, rule query) when it is anything else,
// "10abc" included.
func Int(q url.Values, name string, def int) (int, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, errs.New(errs.Malformed, "query", name, "%s must be a non-negative integer", name)
	}
	return n, nil
}

// Parse reads the paging parameters of q (limit, cursor) and refuses any
// parameter that is neither one of them nor one of filters (invalid, rule
// query), so that a mistyped filter never lists everything unfiltered. A
// parameter given twice is refused too. The names are read in order, so
// that a query with two wrong ones is always refused for the same one.
func Parse(q url.Values, size Size, filters ...string) (Request, error) {
	for _, name := range slices.Sorted(maps.Keys(q)) {
		vs := q[name]
		if name != "limit" && name != "cursor" && !slices.Contains(filters, name) {
			allowed := append([]string{"limit", "cursor"}, filters...)
			name = errs.Echo(name, errs.MaxEchoed)
			return Request{}, errs.Invalidf("query", name, "this list has no parameter %s; it takes %s", name, strings.Join(allowed, ", "))
		}
		if len(vs) > 1 {
			return Request{}, errs.Invalidf("query", name, "%s is given more than once", name)
		}
	}
	n, err := Limit(q, "limit", size)
	if err != nil {
		return Request{}, err
	}
	r := Request{Limit: n}
	if c := q.Get("cursor"); c != "" {
		k, err := ParseCursor(c)
		if err != nil {
			return Request{}, err
		}
		r.After = &k
	}
	return r, nil
}

// Filter is one filter of a list as a request gives it: its query
// parameter, its value (empty for any) and the values it may take (nil for
// any).
type Filter struct {
	Name, Value string
	Allowed     []string
}

// Check refuses a filter given a value that the list does not have (has
// names those it has; invalid, rule query), a value outside its Allowed
// (rule enum) and a page size outside 1 to size.Max (rule range); it fills
// in size.Default when r names no size. A list's function calls it, so that
// a caller that builds its filter without Parse is refused alike.
func (r *Request) Check(size Size, has []string, fs ...Filter) error {
	for _, f := range fs {
		if f.Value == "" {
			continue
		}
		if !slices.Contains(has, f.Name) {
			return errs.Invalidf("query", f.Name, "this list has no filter %s", f.Name)
		}
		if f.Allowed != nil {
			if err := check.OneOf(f.Name, f.Value, f.Allowed); err != nil {
				return err
			}
		}
	}
	if r.Limit == 0 {
		r.Limit = size.Default
	}
	if r.Limit < 1 || r.Limit > size.Max {
		return errs.Invalidf("range", "limit", "limit is out of range: it must be between 1 and %d", size.Max)
	}
	return nil
}

// Dates reads a list's date filters, from and to: calendar dates
// (YYYY-MM-DD, UTC), both included, either empty for no bound. It returns
// them as a half-open range, from and end (the day after to), which compare
// with dates and with times written by ledger.FormatTime alike. A date
// written otherwise is refused (rule date_format or date_range), and a to before from (rule
// dates_in_order).
func Dates(from, to string) (string, string, error) {
	from, err := check.Date("from", from, false)
	if err != nil {
		return "", "", err
	}
	if to, err = check.Date("to", to, false); err != nil {
		return "", "", err
	}
	if from != "" && to != "" && to < from {
		return "", "", errs.Invalidf("dates_in_order", "to", "to is before from")
	}
	end := ""
	if to != "" {
		t, _ := time.Parse(check.DateLayout, to)
		// The day after 9999-12-31 is written with five digits and compares
		// before every date: to=9999-12-31 listed nothing. No date is after
		// it, so it bounds nothing.
		if next := t.AddDate(0, 0, 1); next.Year() <= 9999 {
			end = next.Format(check.DateLayout)
		}
	}
	return from, end, nil
}

// Where is the condition that keeps the rows after r.After in the order
// (logCol DESC, idCol), with its arguments; "1 = 1" on the first page. It
// bounds logCol, so the walk of an index on (log_index DESC, id) starts at
// the cursor, and the 100th page costs what the first does.
func (r Request) Where(logCol, idCol string) (string, []any) {
	if r.After == nil {
		return "1 = 1", nil
	}
	return "(" + logCol + " <= ? AND (" + logCol + " < ? OR " + idCol + " > ?))", []any{r.After.Log, r.After.Log, r.After.ID}
}

// Of is one page of a list: its rows, and the cursor of the next page
// (empty on the last).
type Of[T any] struct {
	Items []T
	Next  string
}

// Read reads a page from rows, which hold at most r.Limit+1 rows whose last
// column is their log index: the extra row, when there is one, says a next
// page exists. scan reads the other columns; id gives a row's identifier.
func Read[T any](rows *sql.Rows, r Request, scan func(store.Scanner, *T) error, id func(*T) string) (Of[T], error) {
	var logs []int64
	items, err := store.Rows(rows, func(sc store.Scanner, v *T) error {
		var log int64
		err := scan(withLog{sc, &log}, v)
		logs = append(logs, log)
		return err
	})
	if err != nil {
		return Of[T]{}, err
	}
	out := Of[T]{Items: items}
	if len(items) > r.Limit {
		out.Items = items[:r.Limit]
		last := &out.Items[r.Limit-1]
		out.Next = Key{Log: logs[r.Limit-1], ID: id(last)}.Cursor()
	}
	return out, nil
}

// withLog scans a row's columns into the destinations given, and its last
// column into log.
type withLog struct {
	sc  store.Scanner
	log *int64
}

func (w withLog) Scan(dest ...any) error {
	return w.sc.Scan(append(dest, w.log)...)
}

// Next is the link to the page after the one q asked for: path with q's
// parameters, its cursor replaced by cursor; "" when cursor is.
func Next(path string, q url.Values, cursor string) string {
	if cursor == "" {
		return ""
	}
	v := url.Values{}
	for name, vs := range q {
		if name != "cursor" && len(vs) > 0 && vs[0] != "" {
			v.Set(name, vs[0])
		}
	}
	v.Set("cursor", cursor)
	return path + "?" + v.Encode()
}
