package hashmatch

import (
	"context"
	"database/sql"
	"errors"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/store"
)

// Reads the web UI needs beyond those of the API. Each decides who may read
// as the API's reads do: hashes only to the bank's owner, cases and
// subscriptions only to the provider's own principals.

// SubscriptionView is a subscription with its bank's metadata.
type SubscriptionView struct {
	Subscription
	BankName    string `json:"bank_name"`
	BankKind    string `json:"bank_kind"`
	BankOwnerID string `json:"bank_owner_id"`
	BankVersion int    `json:"bank_version"`
}

// ProviderSubscriptions lists the subscriptions of the principal's service
// provider, with the version each holds and the bank's current version. Both
// the service's system principal and its reviewers may read them.
func (s *Service) ProviderSubscriptions(ctx context.Context, p *auth.Principal) ([]SubscriptionView, error) {
	if err := p.Require(ReadCases); err != nil {
		return nil, err
	}
	rows, err := s.DB.Read().Query(ctx, `SELECT s.id, s.bank_id, s.provider_id, s.cursor, s.pulled_at, s.created_at, b.name, b.kind, b.owner_id, b.version
		FROM hm_subscriptions s JOIN hm_banks b ON b.id = s.bank_id WHERE s.provider_id = ? ORDER BY b.name, s.id`, p.AuthorityID)
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, func(r store.Scanner, x *SubscriptionView) error {
		var pulled sql.NullString
		err := r.Scan(&x.ID, &x.BankID, &x.ProviderID, &x.Cursor, &pulled, &x.CreatedAt, &x.BankName, &x.BankKind, &x.BankOwnerID, &x.BankVersion)
		x.PulledAt = ns(pulled)
		return err
	})
}

// CaseReport returns the report sent for one of the provider's cases, or nil
// when none was sent.
func (s *Service) CaseReport(ctx context.Context, p *auth.Principal, caseID string) (*Report, error) {
	if err := p.Require(ReadCases); err != nil {
		return nil, err
	}
	var r Report
	err := scanReport(s.DB.Read().QueryRow(ctx, "SELECT "+reportCols+" FROM hm_reports WHERE case_id = ? AND provider_id = ?", caseID, p.AuthorityID), &r)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}
