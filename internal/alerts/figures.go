package alerts

import (
	"context"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/store"
)

// RuleCount is how many alerts of a rule, raised in a period, are in a state
// now.
type RuleCount struct {
	Rule, State string
	Count       int
}

// ByRule counts the alerts raised from the month from to the month before
// end (2025-04, 2026-04), by rule and by the state each is in now, for the
// dashboards (regulator, auditor, admin). A repeated refusal counted on its
// open alert is not another alert. It reads a range of alerts_raised.
func (s *Service) ByRule(ctx context.Context, p *auth.Principal, from, end string) ([]RuleCount, error) {
	if err := p.Require(auth.ReadAlerts); err != nil {
		return nil, err
	}
	rows, err := s.DB.Read().Query(ctx, `SELECT rule, state, COUNT(*) FROM alerts WHERE raised_at >= ? AND raised_at < ?
		GROUP BY rule, state ORDER BY rule, state`, from, end)
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, func(r store.Scanner, c *RuleCount) error { return r.Scan(&c.Rule, &c.State, &c.Count) })
}
