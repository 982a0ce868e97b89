package transplant

import (
	"context"

	"github.com/custos-project/custos/internal/store"
)

// ReferredTraffickingDates returns the dates (YYYY-MM-DD, UTC) on which
// suspected-trafficking reports were referred to law enforcement, oldest
// first: what the statistics registry counts as trafficking in persons for
// organ removal recorded (ICCS 02043). Nothing else of a report leaves
// this package: no reporter, no indicator, no person.
func ReferredTraffickingDates(ctx context.Context, q store.Queryer) ([]string, error) {
	rows, err := q.Query(ctx, "SELECT status_at FROM trafficking_reports WHERE status = ? ORDER BY status_at", TraffickingReferred)
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, func(r store.Scanner, d *string) error {
		if err := r.Scan(d); err != nil {
			return err
		}
		if len(*d) > 10 {
			*d = (*d)[:10]
		}
		return nil
	})
}
