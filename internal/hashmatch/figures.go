package hashmatch

import (
	"context"
	"math"
	"slices"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/store"
)

// ReadFigures is reading the registry's figures across every service:
// counts and times, never a hash, a case or a user. The regulator and the
// auditor answer for them.
var ReadFigures = auth.NewAction("read the registry's figures", auth.Regulator, auth.Auditor)

// The stages a case stands at, as the dashboards count them: open (awaiting
// review), rejected (the reviewer found no abuse material), confirmed (and
// neither reported nor removed yet), reported (to the competent authority,
// content not yet removed), removed (a removal is recorded).
const (
	StageOpen      = statusOpen
	StageRejected  = statusRejected
	StageConfirmed = statusConfirmed
	StageReported  = "reported"
	StageRemoved   = "removed"
)

// CaseStages are the stages, in the order a case goes through them.
var CaseStages = []string{StageOpen, StageRejected, StageConfirmed, StageReported, StageRemoved}

// Figures are the matching, reporting and removal over a period of months,
// across every service. A match is a case: an upload matched to a bank entry,
// dated when the case was opened.
type Figures struct {
	// Cases, Reports and Removals count, per month (2026-03), the cases
	// opened, the reports sent and the removals recorded (dated by when the
	// content was removed).
	Cases, Reports, Removals map[string]int
	// Stages counts the cases opened in the period by the stage each stands
	// at now.
	Stages map[string]int
	// ToReport and ToRemoval are, for the cases opened in the period that
	// were reported (removed), the time from the match to the first report
	// (removal), shortest first.
	ToReport, ToRemoval []time.Duration
}

const (
	casesByMonthSQL = `SELECT substr(opened_at, 1, 7), COUNT(*) FROM hm_cases
		WHERE opened_at >= ? AND opened_at < ? GROUP BY substr(opened_at, 1, 7)`
	reportsByMonthSQL = `SELECT substr(sent_at, 1, 7), COUNT(*) FROM hm_reports
		WHERE sent_at >= ? AND sent_at < ? GROUP BY substr(sent_at, 1, 7)`
	removalsByMonthSQL = `SELECT substr(removed_at, 1, 7), COUNT(*) FROM hm_removals
		WHERE removed_at >= ? AND removed_at < ? GROUP BY substr(removed_at, 1, 7)`
	casesByStageSQL = `SELECT CASE WHEN c.status <> 'confirmed' THEN c.status
			WHEN EXISTS (SELECT 1 FROM hm_removals m WHERE m.case_id = c.id) THEN 'removed'
			WHEN EXISTS (SELECT 1 FROM hm_reports r WHERE r.case_id = c.id) THEN 'reported'
			ELSE 'confirmed' END AS stage, COUNT(*) FROM hm_cases c
		WHERE c.opened_at >= ? AND c.opened_at < ? GROUP BY 1`
	toReportSQL = `SELECT c.opened_at, MIN(r.sent_at) FROM hm_cases c JOIN hm_reports r ON r.case_id = c.id
		WHERE c.opened_at >= ? AND c.opened_at < ? GROUP BY c.id, c.opened_at`
	toRemovalSQL = `SELECT c.opened_at, MIN(m.removed_at) FROM hm_cases c JOIN hm_removals m ON m.case_id = c.id
		WHERE c.opened_at >= ? AND c.opened_at < ? GROUP BY c.id, c.opened_at`
)

// Figures counts matching, reporting and removal from the month from to the
// month before end (2025-04, 2026-04), for the regulator and the auditor.
func (s *Service) Figures(ctx context.Context, p *auth.Principal, from, end string) (*Figures, error) {
	if err := p.Require(ReadFigures); err != nil {
		return nil, err
	}
	q := s.DB.Read()
	var f Figures
	for _, c := range []struct {
		sql string
		out *map[string]int
	}{{casesByMonthSQL, &f.Cases}, {reportsByMonthSQL, &f.Reports}, {removalsByMonthSQL, &f.Removals}, {casesByStageSQL, &f.Stages}} {
		rows, err := q.Query(ctx, c.sql, from, end)
		if err != nil {
			return nil, err
		}
		if *c.out, err = store.Counts(rows); err != nil {
			return nil, err
		}
	}
	for _, c := range []struct {
		sql string
		out *[]time.Duration
	}{{toReportSQL, &f.ToReport}, {toRemovalSQL, &f.ToRemoval}} {
		ds, err := durations(ctx, q, c.sql, from, end)
		if err != nil {
			return nil, err
		}
		*c.out = ds
	}
	return &f, nil
}

// durations reads (start, end) rows of RFC 3339 times into the durations
// between them, sorted.
func durations(ctx context.Context, q store.Queryer, sql string, args ...any) ([]time.Duration, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	ds, err := store.Rows(rows, func(r store.Scanner, d *time.Duration) error {
		var a, b string
		if err := r.Scan(&a, &b); err != nil {
			return err
		}
		ta, err := time.Parse(time.RFC3339Nano, a)
		if err != nil {
			return err
		}
		tb, err := time.Parse(time.RFC3339Nano, b)
		*d = max(tb.Sub(ta), 0)
		return err
	})
	slices.Sort(ds)
	return ds, err
}

// Percentile is the nearest-rank percentile pct (0 < pct <= 100) of sorted
// durations: the smallest that at least pct per cent of them do not exceed.
// The median is Percentile(ds, 50). It is 0 for none.
func Percentile(sorted []time.Duration, pct float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(pct/100*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
