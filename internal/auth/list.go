package auth

import (
	"context"

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

// ListPrincipals lists every principal, revoked ones included, by authority
// name, then name. It checks no role: callers refuse whoever may not
// ManageAuthorities.
func ListPrincipals(ctx context.Context, q store.Queryer) ([]PrincipalRecord, error) {
	rows, err := q.Query(ctx, `SELECT p.id, p.name, p.role, p.authority_id, COALESCE(a.name, ''), p.created_at, COALESCE(p.revoked_at, '')
		FROM principals p LEFT JOIN authorities a ON a.id = p.authority_id
		ORDER BY a.name, p.name, p.id`)
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, func(r store.Scanner, p *PrincipalRecord) error {
		var role string
		err := r.Scan(&p.ID, &p.Name, &role, &p.AuthorityID, &p.Authority, &p.CreatedAt, &p.RevokedAt)
		p.Role = Role(role)
		return err
	})
}
