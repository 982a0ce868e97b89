package transplant

import (
	"context"

	"github.com/custos-project/custos/internal/store"
)

// pseudonym links records of one person by their national identifier; without
// one, the subject stands alone.
func (s *Service) pseudonym(ctx context.Context, q store.Queryer, nationalID, subject string) string {
	if nationalID == "" {
		return s.Vault.Pseudonym("subject", subject)
	}
	var j string
	_ = q.QueryRow(ctx, "SELECT value FROM settings WHERE name = 'jurisdiction'").Scan(&j)
	return s.Vault.Pseudonym("national-id:"+j, nationalID)
}
