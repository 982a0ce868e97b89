package auth

import (
	"context"
	"fmt"
	"net/url"

	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/page"
	"github.com/custos-project/custos/internal/store"
)

// PrincipalRecord is a principal as an administrator lists it: never its
// token, nor the token's hash.
type PrincipalRecord struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Role        Role   `json:"role"`
	AuthorityID string `json:"authority_id"`
	Authority   string `json:"authority"` // the authority's name
	CreatedAt   string `json:"created_at"`
	RevokedAt   string `json:"revoked_at,omitempty"` // empty while the token is valid
}

// principalsSQL reads principals as PrincipalRecord holds them, then the
// columns the first %s adds, under the condition and order of the second.
const principalsSQL = `SELECT p.id, p.name, p.role, p.authority_id, COALESCE(a.name, ''), p.created_at, COALESCE(p.revoked_at, '')%s
	FROM principals p LEFT JOIN authorities a ON a.id = p.authority_id %s`

func scanPrincipal(r store.Scanner, p *PrincipalRecord) error {
	var role string
	err := r.Scan(&p.ID, &p.Name, &role, &p.AuthorityID, &p.Authority, &p.CreatedAt, &p.RevokedAt)
	p.Role = Role(role)
	return err
}

// ListPrincipals lists every principal, revoked ones included, by authority
// name, then name. It checks no role: callers refuse whoever may not
// ManageAuthorities.
func ListPrincipals(ctx context.Context, q store.Queryer) ([]PrincipalRecord, error) {
	rows, err := q.Query(ctx, fmt.Sprintf(principalsSQL, "", "ORDER BY a.name, p.name, p.id"))
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, scanPrincipal)
}

// PrincipalFilter narrows and pages the principals list: AuthorityID and
// Role exactly, Name as a part of the name, in any case, State active
// (tokens that sign in) or revoked; each empty for any.
type PrincipalFilter struct {
	AuthorityID, Role, Name, State string
	page.Request
}

// PrincipalFilters are the query parameters of the principals list's
// filters; PrincipalStates the values of its state.
var (
	PrincipalFilters = []string{"authority_id", "role", "name", "state"}
	PrincipalStates  = []string{"active", "revoked"}
)

// PrincipalFilterOf reads the principals list's filter from query
// parameters, with the page asked for; a parameter that is not the list's
// is refused.
func PrincipalFilterOf(q url.Values) (PrincipalFilter, error) {
	r, err := page.Parse(q, page.Lists, PrincipalFilters...)
	if err != nil {
		return PrincipalFilter{}, err
	}
	return PrincipalFilter{AuthorityID: q.Get("authority_id"), Role: q.Get("role"), Name: q.Get("name"), State: q.Get("state"), Request: r}, nil
}

// PrincipalPage lists the principals the filter selects, revoked ones
// included unless State says otherwise, the most recently created first,
// one page at a time; never a token nor its hash. A role not among roles
// (the catalogue's) is refused (enum), a state other than active or
// revoked, and a name longer than 200 characters. It checks no role:
// callers refuse whoever may not ManageAuthorities, as for ListPrincipals.
func PrincipalPage(ctx context.Context, q store.Queryer, roles []string, f PrincipalFilter) (page.Of[PrincipalRecord], error) {
	if err := f.Request.Check(page.Lists, PrincipalFilters, page.Filter{Name: "role", Value: f.Role, Allowed: roles},
		page.Filter{Name: "state", Value: f.State, Allowed: PrincipalStates}); err != nil {
		return page.Of[PrincipalRecord]{}, err
	}
	name, like, err := check.Contains("name", f.Name)
	if err != nil {
		return page.Of[PrincipalRecord]{}, err
	}
	where, after := f.Where("p.log_index", "p.id")
	cond := fmt.Sprintf(`WHERE (? = '' OR p.authority_id = ?) AND (? = '' OR p.role = ?) AND (? = '' OR LOWER(p.name) LIKE ? ESCAPE '\')
	AND (? = '' OR (? = 'active' AND p.revoked_at IS NULL) OR (? = 'revoked' AND p.revoked_at IS NOT NULL)) AND %s ORDER BY p.log_index DESC, p.id LIMIT ?`, where)
	args := append([]any{f.AuthorityID, f.AuthorityID, f.Role, f.Role, name, like, f.State, f.State, f.State}, after...)
	rows, err := q.Query(ctx, fmt.Sprintf(principalsSQL, ", p.log_index", cond), append(args, f.Limit+1)...)
	if err != nil {
		return page.Of[PrincipalRecord]{}, err
	}
	return page.Read(rows, f.Request, scanPrincipal, func(p *PrincipalRecord) string { return p.ID })
}

// PrincipalRecordOf reads the principal id as an administrator lists it
// (not found, rule reference, when none has it). It checks no role, as
// ListPrincipals.
func PrincipalRecordOf(ctx context.Context, q store.Queryer, id string) (*PrincipalRecord, error) {
	rows, err := q.Query(ctx, fmt.Sprintf(principalsSQL, "", "WHERE p.id = ?"), id)
	if err != nil {
		return nil, err
	}
	ps, err := store.Rows(rows, scanPrincipal)
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, noPrincipal(id)
	}
	return &ps[0], nil
}

// noPrincipal refuses an id no principal has (not found, rule reference).
func noPrincipal(id string) error {
	return errs.New(errs.NotFound, "reference", "id", "no principal %s", id)
}
