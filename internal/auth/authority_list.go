package auth

import (
	"context"
	"fmt"
	"net/url"

	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/page"
	"github.com/custos-project/custos/internal/store"
)

// AuthorityFilter narrows and pages the authorities list: Kind and
// Jurisdiction exactly, Name as a part of the name, in any case; each empty
// for any.
type AuthorityFilter struct {
	Kind, Jurisdiction, Name string
	page.Request
}

// AuthorityFilters are the query parameters of the authorities list's
// filters.
var AuthorityFilters = []string{"kind", "jurisdiction", "name"}

// listAuthoritiesSQL reads a page of authorities in the order of the index
// on (log_index DESC, id) (core migration 6): the kind and jurisdiction as
// pairs (empty for any), the name and its LIKE pattern, the cursor's
// condition (page.Request.Where) and the limit.
const listAuthoritiesSQL = `SELECT id, name, kind, jurisdiction, city, created_at, notify_email, notify_language, log_index FROM authorities
	WHERE (? = '' OR kind = ?) AND (? = '' OR jurisdiction = ?) AND (? = '' OR LOWER(name) LIKE ? ESCAPE '\')
	AND %s ORDER BY log_index DESC, id LIMIT ?`

// AuthorityFilterOf reads the authorities list's filter from query
// parameters, with the page asked for; a parameter that is not the list's is
// refused.
func AuthorityFilterOf(q url.Values) (AuthorityFilter, error) {
	r, err := page.Parse(q, page.Lists, AuthorityFilters...)
	if err != nil {
		return AuthorityFilter{}, err
	}
	return AuthorityFilter{Kind: q.Get("kind"), Jurisdiction: q.Get("jurisdiction"), Name: q.Get("name"), Request: r}, nil
}

// AuthorityPage lists the authorities the filter selects, the most recently
// registered first, one page at a time. A kind not among kinds (those the
// catalogue declares) is refused (enum), and a name longer than 200
// characters. It checks no role: callers refuse whoever may not read
// authorities (ReadAuthorities).
func AuthorityPage(ctx context.Context, q store.Queryer, kinds []string, f AuthorityFilter) (page.Of[Authority], error) {
	if err := f.Request.Check(page.Lists, AuthorityFilters, page.Filter{Name: "kind", Value: f.Kind, Allowed: kinds}); err != nil {
		return page.Of[Authority]{}, err
	}
	name, like, err := check.Contains("name", f.Name)
	if err != nil {
		return page.Of[Authority]{}, err
	}
	where, after := f.Where("log_index", "id")
	args := append([]any{f.Kind, f.Kind, f.Jurisdiction, f.Jurisdiction, name, like}, after...)
	rows, err := q.Query(ctx, fmt.Sprintf(listAuthoritiesSQL, where), append(args, f.Limit+1)...)
	if err != nil {
		return page.Of[Authority]{}, err
	}
	return page.Read(rows, f.Request, func(r store.Scanner, a *Authority) error {
		return r.Scan(&a.ID, &a.Name, &a.Kind, &a.Jurisdiction, &a.City, &a.CreatedAt, &a.NotifyEmail, &a.NotifyLanguage)
	}, func(a *Authority) string { return a.ID })
}
