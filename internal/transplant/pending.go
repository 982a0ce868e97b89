package transplant

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/page"
	"github.com/custos-project/custos/internal/store"
)

// PendingAuthorizations lists the per-procedure authorizations of organs not
// yet transplanted, newest first, one page at a time (PendingSize).
func (s *Service) PendingAuthorizations(ctx context.Context, p *auth.Principal, f ListFilter) (page.Of[TransplantAuthorization], error) {
	if err := p.Require(Read); err != nil {
		return page.Of[TransplantAuthorization]{}, err
	}
	to, err := f.check(AuthorizationFilters, PendingSize)
	if err != nil {
		return page.Of[TransplantAuthorization]{}, err
	}
	return list(ctx, s.DB.Read(), pendingAuthorizationsSQL, f, "ta.log_index", "ta.id", []string{f.CentreID, f.Organ, f.From, to, f.ID},
		func(r store.Scanner, a *TransplantAuthorization) error {
			var compat, consent, noPay, listed int
			err := r.Scan(&a.ID, &a.OrganID, &a.RecipientID, &a.CentreID, &a.AuthorizedAt, &a.AuthorizedBy,
				&compat, &consent, &noPay, &listed)
			a.CompatibilityDocumented, a.ConsentVerified, a.NoPaymentDeclared, a.OnWaitingList = compat == 1, consent == 1, noPay == 1, listed == 1
			return err
		}, func(a *TransplantAuthorization) string { return a.ID })
}

// Organ returns one procured organ. The identifier is read as ParseOrganID
// reads it: in any case, with or without spaces and hyphens.
func (s *Service) Organ(ctx context.Context, p *auth.Principal, id string) (*Organ, error) {
	if err := p.Require(Read); err != nil {
		return nil, err
	}
	oid, err := ParseOrganID(id)
	if err != nil {
		return nil, err
	}
	return getOrgan(ctx, s.DB.Read(), oid.String())
}

// Jurisdiction returns the registry's country, an ISO 3166-1 alpha-2 code set
// when the registry was initialised.
func (s *Service) Jurisdiction(ctx context.Context) (string, error) {
	var j string
	err := s.DB.Read().QueryRow(ctx, "SELECT value FROM settings WHERE name = 'jurisdiction'").Scan(&j)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("transplant: the registry has no jurisdiction setting")
	}
	return j, err
}
