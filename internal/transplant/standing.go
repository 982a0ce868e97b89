package transplant

import (
	"context"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// ---- Centres flagged (resolution VI, para 6 f; docs/oversight.md) ----
//
// A centre is flagged
//   - authorization_lapsed: an authorization of the centre ended (its
//     valid_to passed, or it was revoked) in the last LapseWindow, and no
//     authorization valid today covers the same activity and organ;
//   - reporting_behind: it has organs procured more than the disposition
//     deadline ago (custos serve --disposition-after, 72 h by default) with
//     neither a transplantation nor a final disposition, or organs received
//     from abroad more than that deadline ago that it holds (importHolder)
//     with no outcome recorded, or it recorded a
//     procurement, a transplantation or the outcome of an organ from abroad
//     of the last LapseWindow more than that deadline after it took place
//     (an outcome, of a day, by the day's end), or it has overdue follow-ups
//     (OverdueFollowUps);
//   - corrective_actions_overdue: a corrective action of an audit is past
//     its deadline and not done.

// LapseWindow is how far back the flags look.
const LapseWindow = 365 * 24 * time.Hour

// The flags of a centre.
const (
	FlagAuthorizationLapsed = "authorization_lapsed"
	FlagReportingBehind     = "reporting_behind"
	FlagActionsOverdue      = "corrective_actions_overdue"
)

// LapsedAuthorization is an authorization that ended and was not renewed.
type LapsedAuthorization struct {
	ID       string `json:"id"`
	Activity string `json:"activity"`
	Organ    string `json:"organ"`
	EndedOn  string `json:"ended_on"`
}

// CentreStanding is what flags a centre, and its flags.
type CentreStanding struct {
	CentreID string                `json:"centre_id"`
	Centre   string                `json:"centre"`
	Lapsed   []LapsedAuthorization `json:"lapsed"`
	// AwaitingDisposition counts the organs past the disposition
	// deadline with no final disposition: those the centre procured, and
	// those received from abroad that it holds with no outcome recorded,
	// which AwaitingFromAbroad counts alone.
	AwaitingDisposition int `json:"awaiting_disposition"`
	AwaitingFromAbroad  int `json:"awaiting_from_abroad"`
	LateRecords         int `json:"late_records"`
	// OverdueFollowUps counts the follow-ups overdue today.
	OverdueFollowUps int      `json:"overdue_follow_ups"`
	OverdueActions   int      `json:"overdue_actions"`
	Flags            []string `json:"flags"`
}

// CentreStandings lists every transplant centre with what flags it, the
// flagged first.
func (s *Service) CentreStandings(ctx context.Context, p *auth.Principal) ([]CentreStanding, error) {
	if err := p.Require(ReadAudits); err != nil {
		return nil, err
	}
	all, err := s.standings(ctx, s.DB.Read(), "")
	if err != nil {
		return nil, err
	}
	var flagged, rest []CentreStanding
	for _, c := range all {
		if len(c.Flags) > 0 {
			flagged = append(flagged, c)
		} else {
			rest = append(rest, c)
		}
	}
	return append(flagged, rest...), nil
}

// standings reads the standing of centre (every centre when empty), in
// the order of their ids.
func (s *Service) standings(ctx context.Context, q store.Queryer, centre string) ([]CentreStanding, error) {
	now := s.now()
	today, since := day(now), day(now.Add(-LapseWindow))
	rows, err := q.Query(ctx, "SELECT id, name FROM authorities WHERE kind = ? AND (? = '' OR id = ?) ORDER BY id", KindCentre, centre, centre)
	if err != nil {
		return nil, err
	}
	out, err := store.Rows(rows, func(r store.Scanner, c *CentreStanding) error { return r.Scan(&c.CentreID, &c.Centre) })
	if err != nil {
		return nil, err
	}
	deadline := s.DispositionAfter()
	before := ledger.FormatTime(now.Add(-deadline))
	for i := range out {
		c := &out[i]
		// An authorization's end: the earlier of valid_to and the day of
		// its revocation.
		rows, err := q.Query(ctx, `SELECT ca.id, ca.activity, ca.organ, COALESCE(ca.valid_to, ''), COALESCE(ca.revoked_at, '') FROM centre_authorizations ca
			WHERE ca.centre_id = ? AND ((ca.valid_to IS NOT NULL AND ca.valid_to < ? AND ca.valid_to >= ?) OR (ca.revoked_at IS NOT NULL AND ca.revoked_at <= ? AND ca.revoked_at >= ?))
			AND NOT EXISTS (SELECT 1 FROM centre_authorizations cb WHERE cb.centre_id = ca.centre_id AND cb.activity = ca.activity AND cb.organ = ca.organ
				AND cb.valid_from <= ? AND (cb.valid_to IS NULL OR cb.valid_to >= ?) AND (cb.revoked_at IS NULL OR cb.revoked_at > ?))
			ORDER BY ca.id`, c.CentreID, today, since, today, since, today, today, today)
		if err != nil {
			return nil, err
		}
		if c.Lapsed, err = store.Rows(rows, func(r store.Scanner, l *LapsedAuthorization) error {
			var to, revoked string
			if err := r.Scan(&l.ID, &l.Activity, &l.Organ, &to, &revoked); err != nil {
				return err
			}
			l.EndedOn = to
			if revoked != "" && (to == "" || revoked[:10] < to) {
				l.EndedOn = revoked[:10]
			}
			return nil
		}); err != nil {
			return nil, err
		}
		if err := q.QueryRow(ctx, `SELECT COUNT(*) FROM organs o JOIN procurements p ON p.id = o.procurement_id
			WHERE p.centre_id = ? AND p.procured_at < ? AND NOT `+organTransplanted+` AND NOT `+organDisposed, c.CentreID, before).Scan(&c.AwaitingDisposition); err != nil {
			return nil, err
		}
		if err := q.QueryRow(ctx, "SELECT COUNT(*) "+awaitingImportsFrom+" AND "+importHolderSQL+" = ?", before, c.CentreID).Scan(&c.AwaitingFromAbroad); err != nil {
			return nil, err
		}
		c.AwaitingDisposition += c.AwaitingFromAbroad
		// An organ from abroad's outcome is of a day: it took place by
		// the day's end at the latest.
		rows, err = q.Query(ctx, `SELECT procured_at, recorded_at FROM procurements WHERE centre_id = ? AND procured_at >= ?
			UNION ALL SELECT performed_at, recorded_at FROM transplants WHERE centre_id = ? AND performed_at >= ?
			UNION ALL SELECT outcome_on, outcome_at FROM organ_imports WHERE centre_id = ? AND outcome_on >= ?`, c.CentreID, since, c.CentreID, since, c.CentreID, since)
		if err != nil {
			return nil, err
		}
		pairs, err := store.Rows(rows, func(r store.Scanner, x *[2]string) error { return r.Scan(&x[0], &x[1]) })
		if err != nil {
			return nil, err
		}
		for _, x := range pairs {
			at, err1 := time.Parse(time.RFC3339, x[0])
			if d, err := time.Parse(DateLayout, x[0]); err == nil {
				at, err1 = d.AddDate(0, 0, 1), nil
			}
			rec, err2 := time.Parse(time.RFC3339, x[1])
			if err1 == nil && err2 == nil && rec.Sub(at) > deadline {
				c.LateRecords++
			}
		}
		f, err := s.packFollowUps(ctx, q, c.CentreID, "0001-01-01", now.AddDate(0, 0, 1).Format(DateLayout), now)
		if err != nil {
			return nil, err
		}
		c.OverdueFollowUps = len(f)
		if err := q.QueryRow(ctx, "SELECT COUNT(*) FROM corrective_actions WHERE centre_id = ? AND done_on IS NULL AND due_on < ?", c.CentreID, today).Scan(&c.OverdueActions); err != nil {
			return nil, err
		}
		if len(c.Lapsed) > 0 {
			c.Flags = append(c.Flags, FlagAuthorizationLapsed)
		}
		if c.AwaitingDisposition > 0 || c.LateRecords > 0 || c.OverdueFollowUps > 0 {
			c.Flags = append(c.Flags, FlagReportingBehind)
		}
		if c.OverdueActions > 0 {
			c.Flags = append(c.Flags, FlagActionsOverdue)
		}
	}
	return out, nil
}

// AwaitingImport is an organ received from abroad with no outcome recorded
// here longer than the disposition deadline after it was received (its
// first message recorded, ReceivedAt): a centre's when it holds the organ
// (its standing and audit pack), the regulator's while no centre does
// (UnheldImports).
type AwaitingImport struct {
	OrganID       string `json:"organ_id"`
	OriginCountry string `json:"origin_country"`
	Organ         string `json:"organ"`
	ReceivedAt    string `json:"received_at"`
	// DestinationCentre is the receiving centre as the registry of origin
	// named it ("" when it named none).
	DestinationCentre string `json:"destination_centre"`
}

// awaitingImportsFrom selects the organs received from abroad before a
// time (the argument: now less the disposition deadline) with no outcome;
// the callers add which centre holds them (importHolderSQL).
const (
	awaitingImportsFrom = "FROM organ_imports WHERE outcome IS NULL AND received_at < ?"
	awaitingImportsSQL  = "SELECT organ_id, origin_country, organ, received_at, destination_centre " + awaitingImportsFrom
)

func scanAwaitingImport(r store.Scanner, im *AwaitingImport) error {
	return r.Scan(&im.OrganID, &im.OriginCountry, &im.Organ, &im.ReceivedAt, &im.DestinationCentre)
}

// UnheldImports lists, oldest first, the organs received from abroad longer
// than the disposition deadline ago that no centre here holds (the registry
// of origin named none, or one this registry could not tell, and no
// regulator assigned them) and that have no outcome: no centre's standing
// counts them, and no coordinator may record their outcome until a
// regulator assigns them (AssignImport). At most MaxCrossBorderList.
func (s *Service) UnheldImports(ctx context.Context, p *auth.Principal) ([]AwaitingImport, error) {
	if err := p.Require(ReadAudits); err != nil {
		return nil, err
	}
	before := ledger.FormatTime(s.now().Add(-s.DispositionAfter()))
	rows, err := s.DB.Read().Query(ctx, awaitingImportsSQL+" AND "+importHolderSQL+" IS NULL ORDER BY received_at, organ_id LIMIT ?", before, MaxCrossBorderList)
	if err != nil {
		return nil, err
	}
	out, err := store.Rows(rows, scanAwaitingImport)
	if out == nil {
		out = []AwaitingImport{}
	}
	return out, err
}
