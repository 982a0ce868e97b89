package export

import (
	"context"
	"math"
	"net/url"

	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/page"
	"github.com/custos-project/custos/internal/store"
)

// Listed is an export as the log records it: its TypeMade entry (where,
// when and by whom, as the leaf names them, and the entry's data), and its
// TypeCompleted entry when it has one. It holds what the two leaves hold,
// nothing more: whoever may read the log's entries may read it.
type Listed struct {
	// Entry is the log index of the export's TypeMade entry, the "export
	// log entry" of its file.
	Entry int64 `json:"entry"`
	// At is the entry's time, By and Authority who made the export, as the
	// leaf writes them (by: the principal; authority: the authority it
	// acted for).
	At        string `json:"at"`
	By        string `json:"by"`
	Authority string `json:"authority,omitempty"`
	Made
	// Completed is what the export's TypeCompleted entry says was sent;
	// null when it has none (cut short: no file of it is complete).
	Completed *Sent `json:"completed"`
}

// Sent is what an export's TypeCompleted entry says was sent.
type Sent struct {
	// Entry is the log index of the TypeCompleted entry.
	Entry  int64  `json:"entry"`
	Rows   int    `json:"rows"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Filter selects the exports listed: of a registry and a list, made from
// and to a day (UTC, both included), each empty for any; and the page.
type Filter struct {
	Registry, List string
	From, To       string
	page.Request
}

// Filters are the query parameters of the list of exports' filters.
var Filters = []string{"registry", "list", "from", "to"}

// Size is the list of exports' page size.
var Size = page.Lists

// FilterOf reads the list of exports' filter from query parameters, with
// the page asked for; a parameter that is not the list's is refused.
func FilterOf(q url.Values) (Filter, error) {
	r, err := page.Parse(q, Size, Filters...)
	if err != nil {
		return Filter{}, err
	}
	return Filter{Registry: q.Get("registry"), List: q.Get("list"), From: q.Get("from"), To: q.Get("to"), Request: r}, nil
}

// List lists the exports of the log q reads that f selects, the newest
// first, a page at a time: each TypeMade entry with its TypeCompleted one.
// The caller checks that the principal may read the log's entries (the
// entries are the log's: the list shows what they show). A bad date is
// refused (page.Dates).
func List(ctx context.Context, q store.Queryer, f Filter) (page.Of[Listed], error) {
	var none page.Of[Listed]
	if err := f.Request.Check(Size, Filters); err != nil {
		return none, err
	}
	from, end, err := page.Dates(f.From, f.To)
	if err != nil {
		return none, err
	}
	before := int64(math.MaxInt64)
	if f.After != nil {
		before = f.After.Log
	}
	var items []Listed
	err = ledger.EntriesBefore(ctx, q, TypeMade, before, func(idx int64, e *ledger.Entry) (bool, error) {
		var m Made
		if err := e.Decode(&m); err != nil {
			return false, err
		}
		// Times compare as text with dates (ledger.TimeLayout).
		if (f.Registry != "" && m.Registry != f.Registry) || (f.List != "" && m.List != f.List) ||
			(from != "" && e.At < from) || (end != "" && e.At >= end) {
			return true, nil
		}
		items = append(items, Listed{Entry: idx, At: e.At, By: e.By, Authority: e.Authority, Made: m})
		return len(items) <= f.Limit, nil
	})
	if err != nil {
		return none, err
	}
	out := page.Of[Listed]{Items: items}
	if len(items) > f.Limit {
		out.Items = items[:f.Limit]
		last := out.Items[f.Limit-1]
		out.Next = page.Key{Log: last.Entry, ID: last.ID}.Cursor()
	}
	if len(out.Items) == 0 {
		return out, nil
	}
	// The completed entries come after their made ones: those after the
	// oldest of the page.
	at := map[int64]int{}
	for i, it := range out.Items {
		at[it.Entry] = i
	}
	err = ledger.EntriesAfter(ctx, q, TypeCompleted, out.Items[len(out.Items)-1].Entry, func(idx int64, e *ledger.Entry) error {
		var d Completed
		if err := e.Decode(&d); err != nil {
			return err
		}
		if i, ok := at[d.Made]; ok && out.Items[i].Completed == nil && d.ID == out.Items[i].ID {
			out.Items[i].Completed = &Sent{Entry: idx, Rows: d.Rows, Bytes: d.Bytes, SHA256: d.SHA256}
		}
		return nil
	})
	return out, err
}
