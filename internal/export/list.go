package export

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"strings"

	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
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

// List lists the exports that f selects, the newest first, a page at a
// time, from the exports table (the projection of the TypeMade entries and
// their TypeCompleted ones, core migration 26). The caller checks that the
// principal may read the log's entries (the rows are the log's: the list
// shows what its entries show). A bad date is refused (page.Dates), and a
// registry or a list that no export was made of (rule enum, naming the
// field and those there are): an empty page would say that none was made
// of a name mistyped.
func List(ctx context.Context, q store.Queryer, f Filter) (page.Of[Listed], error) {
	var none page.Of[Listed]
	if err := f.Request.Check(Size, Filters); err != nil {
		return none, err
	}
	from, end, err := page.Dates(f.From, f.To)
	if err != nil {
		return none, err
	}
	var where []string
	var args []any
	for _, c := range []struct{ field, column, value string }{{"registry", "registry", f.Registry}, {"list", "list", f.List}} {
		if c.value == "" {
			continue
		}
		if err := known(ctx, q, c.field, c.value, strings.Join(where, " AND "), args); err != nil {
			return none, err
		}
		where, args = append(where, c.column+" = ?"), append(args, c.value)
	}
	if from != "" {
		// Times compare as text with dates (ledger.TimeLayout).
		where, args = append(where, "made_at >= ?"), append(args, from)
	}
	if end != "" {
		where, args = append(where, "made_at < ?"), append(args, end)
	}
	after, afterArgs := f.Where("log_index", "id")
	where, args = append(where, after), append(args, afterArgs...)
	rows, err := q.Query(ctx, `SELECT log_index, id, made_at, made_by, authority, registry, list, filter, format, checkpoint_size, checkpoint_root, personal,
		completed_index, sent_rows, sent_bytes, sha256, log_index FROM exports WHERE `+strings.Join(where, " AND ")+` ORDER BY log_index DESC LIMIT ?`,
		append(args, f.Limit+1)...)
	if err != nil {
		return none, err
	}
	return page.Read(rows, f.Request, scanListed, func(l *Listed) string { return l.ID })
}

// scanListed reads a row of the exports table (its log index is read again
// last, by page.Read).
func scanListed(sc store.Scanner, l *Listed) error {
	var done sql.NullInt64
	var rows, bytes sql.NullInt64
	var sum sql.NullString
	if err := sc.Scan(&l.Entry, &l.ID, &l.At, &l.By, &l.Authority, &l.Registry, &l.List, &l.Filter, &l.Format, &l.CheckpointSize, &l.CheckpointRoot, &l.Personal,
		&done, &rows, &bytes, &sum); err != nil {
		return err
	}
	if done.Valid {
		l.Completed = &Sent{Entry: done.Int64, Rows: int(rows.Int64), Bytes: bytes.Int64, SHA256: sum.String}
	}
	return nil
}

// known refuses a value of field (registry or list) that no export in the
// table has among those that also meet the condition cond (with args):
// rule enum, naming those there are, read in index order, a step each.
func known(ctx context.Context, q store.Queryer, field, value, cond string, args []any) error {
	if cond != "" {
		cond += " AND "
	}
	// A value there is one lookup; the values there are are read only to
	// name them in a refusal.
	var one int
	err := q.QueryRow(ctx, "SELECT 1 FROM exports WHERE "+cond+field+" = ? LIMIT 1", append(append([]any{}, args...), value)...).Scan(&one)
	if err == nil {
		return nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	// A skip scan of the index led by the column: the next value after each,
	// so that the values cost a lookup each, whatever the exports' number.
	rows, err := q.Query(ctx, `WITH RECURSIVE v(x) AS (
		SELECT MIN(`+field+`) FROM exports WHERE `+cond+`1 = 1
		UNION ALL SELECT (SELECT MIN(`+field+`) FROM exports WHERE `+cond+field+` > v.x) FROM v WHERE v.x IS NOT NULL)
		SELECT x FROM v WHERE x IS NOT NULL`, append(append([]any{}, args...), args...)...)
	if err != nil {
		return err
	}
	there, err := store.Rows(rows, func(sc store.Scanner, s *string) error { return sc.Scan(s) })
	if err != nil {
		return err
	}
	if len(there) == 0 {
		return errs.Invalidf("enum", field, "no export was made of any %s yet", field)
	}
	return check.OneOf(field, value, there)
}
