package transplant

import (
	"context"

	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// verifyReportIDs is the check sae_report_ids of log verify: it notes each
// national report id that names both a report made here and one raised here
// on an organ from abroad, with both reports' ids. Each table keeps its
// report ids unique; only a registry numbered by a release before the two
// shared the year's numbers (nextReportID) holds such a pair. That is no
// difference from the log (the log holds them so, and log verify stays OK)
// but a fact the operator and the regulator act on (docs/vigilance.md, "One
// report id, two reports"). It reads the registry's tables, in the
// verification's state; both columns it joins on are unique, hence indexed.
func verifyReportIDs(ctx context.Context, c ledger.CheckRun) error {
	var n int64
	if err := c.Live.QueryRow(ctx, "SELECT (SELECT COUNT(*) FROM sae_reports) + (SELECT COUNT(*) FROM foreign_sae_reports WHERE raised_report_id IS NOT NULL)").Scan(&n); err != nil {
		return err
	}
	order := "s.report_id, s.id, f.id"
	if c.Live.Dialect() == store.Postgres {
		order = `s.report_id COLLATE "C", s.id COLLATE "C", f.id COLLATE "C"`
	}
	rows, err := c.Live.Query(ctx, "SELECT s.report_id, s.id, f.id FROM sae_reports s JOIN foreign_sae_reports f ON f.raised_report_id = s.report_id ORDER BY "+order)
	if err != nil {
		return err
	}
	defer rows.Close()
	shared := 0
	for rows.Next() {
		var reportID, made, raised string
		if err := rows.Scan(&reportID, &made, &raised); err != nil {
			return err
		}
		shared++
		c.Note("sae_report_ids: the national report id %s names two reports, %s (made here) and %s (raised here on an organ from abroad), numbered apart by an older release: see docs/vigilance.md, \"One report id, two reports\"",
			reportID, made, raised)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	c.Covered("sae_report_ids: the national report ids of %d report(s) made here or raised here on organs from abroad, %d id(s) naming two reports", n, shared)
	return nil
}
