package hashmatch

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// ownCase loads a case of the principal's provider; others' cases do not exist
// for it.
func ownCase(ctx context.Context, q store.Queryer, p *auth.Principal, id string) (*Case, error) {
	c, err := getCase(ctx, q, id)
	if err != nil {
		return nil, err
	}
	if c.ProviderID != p.AuthorityID {
		return nil, errs.New(errs.NotFound, "reference", "case_id", "no case %s", id)
	}
	return c, nil
}

// caseForStep loads a case of the principal's provider for one step of its
// workflow (a review, a report, a removal record, a dispute): the case must
// be in status, else wrongStatus(c) is the refusal; with table set, the
// step is taken once per case (its rows keyed by case_id), and a case that
// had it already is refused with again. The refusals are the caller's, in
// its words.
func caseForStep(ctx context.Context, tx store.Queryer, p *auth.Principal, caseID, status string, wrongStatus func(c *Case) error,
	table string, again error) (*Case, error) {
	c, err := ownCase(ctx, tx, p, caseID)
	if err != nil {
		return nil, err
	}
	if c.Status != status {
		return nil, wrongStatus(c)
	}
	if table == "" {
		return c, nil
	}
	var n int
	if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM "+table+" WHERE case_id = ?", caseID).Scan(&n); err != nil {
		return nil, err
	}
	if n > 0 {
		return nil, again
	}
	return c, nil
}

// ReviewCase records a reviewer's decision. A rejection may add the hash to
// the service's suppression list so the same false positive stops matching:
// an image case's hash, or every matched frame of a video case.
func (s *Service) ReviewCase(ctx context.Context, p *auth.Principal, caseID string, in Review) (*Case, error) {
	if err := p.Require(ReviewCases); err != nil {
		return nil, err
	}
	if err := check.OneOf("decision", in.Decision, Decisions); err != nil {
		return nil, err
	}
	note, err := check.Trimmed("note", in.Note, 2000)
	if err != nil {
		return nil, err
	}
	if in.Suppress && in.Decision != "reject" {
		return nil, errs.Invalidf("suppress_on_reject", "suppress", "only a rejected match can feed the suppression list")
	}
	supID := s.W.IDs().New("HX")
	_, err = s.W.Submit(ctx, p.Actor(), "review match case", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		c, err := caseForStep(ctx, tx, p, caseID, statusOpen, func(c *Case) error {
			return errs.New(errs.Conflict, "already_reviewed", "case_id", "case %s was already %s", caseID, c.Status)
		}, "", nil)
		if err != nil {
			return nil, err
		}
		r := caseReviewed{ID: caseID, ProviderID: c.ProviderID, Status: statusConfirmed, Note: note}
		if in.Decision == "reject" {
			r.Status = statusRejected
			if in.Suppress {
				// A video case suppresses every matched frame of the
				// video, not only the closest pair's.
				var frames string
				if err := tx.QueryRow(ctx, "SELECT matched_frames FROM hm_cases WHERE id = ?", caseID).Scan(&frames); err != nil {
					return nil, err
				}
				for _, f := range strings.Fields(frames) {
					r.Suppressions = append(r.Suppressions, suppression{ID: s.W.IDs().New("HX"), PDQ: f})
				}
				if len(r.Suppressions) == 0 && c.PDQ == "" {
					return nil, errs.Invalidf("suppress_md5", "suppress", "case %s matched a video by its MD5 alone: no frame of it matched, and a suppression list holds PDQ hashes; reject it without suppress", caseID)
				}
				if len(r.Suppressions) == 0 {
					r.Suppression = &suppression{ID: supID, PDQ: c.PDQ}
				}
			}
		}
		return ledger.NewEntry(TypeCaseReviewed, r)
	})
	if err != nil {
		return nil, err
	}
	return s.Case(ctx, p, caseID)
}

// Reopen is the input of ReopenCase: why the rejection was wrong.
type Reopen struct {
	Reason string `json:"reason" api:"required"`
}

// ReopenCase undoes a reviewer's rejection: the case is open for review
// again, and the suppressions the rejection added to the service's list are
// lifted, so that the hash matches again. A rejection is one click, and
// with suppress it hides a bank entry from the service for good; without
// this, a rejection made in error could be neither seen nor undone, and the
// upload it rejected could never be reported. While the case's dispute is
// open the owner is judging the entry on the service's word, so the case is
// reopened only once the owner has kept or withdrawn it.
func (s *Service) ReopenCase(ctx context.Context, p *auth.Principal, caseID string, in Reopen) (*Case, error) {
	if err := p.Require(ReviewCases); err != nil {
		return nil, err
	}
	reason, err := check.Trimmed("reason", in.Reason, 2000)
	if err != nil {
		return nil, err
	}
	if reason == "" {
		return nil, errs.Invalidf("required", "reason", "say why the rejection was wrong; the reason is kept in the log with the reopening")
	}
	_, err = s.W.Submit(ctx, p.Actor(), "reopen match case", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		c, err := caseForStep(ctx, tx, p, caseID, statusRejected, func(c *Case) error {
			return errs.New(errs.Conflict, "not_rejected", "case_id", "case %s is %s; only a rejected case is reopened", caseID, c.Status)
		}, "", nil)
		if err != nil {
			return nil, err
		}
		var dispute string
		err = tx.QueryRow(ctx, "SELECT id FROM hm_disputes WHERE case_id = ? AND status = ?", caseID, disputeOpen).Scan(&dispute)
		if err == nil {
			return nil, errs.New(errs.Conflict, "dispute_open", "case_id", "case %s is disputed (%s) and the list's owner has not yet decided on the entry; it can be reopened once the owner keeps or withdraws it", caseID, dispute)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		r := caseReopened{ID: caseID, ProviderID: c.ProviderID, Reason: reason}
		rows, err := tx.Query(ctx, "SELECT id FROM hm_suppressions WHERE provider_id = ? AND case_id = ? ORDER BY id", c.ProviderID, caseID)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return nil, err
			}
			r.Lifted = append(r.Lifted, id)
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		return ledger.NewEntry(TypeCaseReopened, r)
	})
	if err != nil {
		return nil, err
	}
	return s.Case(ctx, p, caseID)
}

// earliestTime is the earliest time an upload, an incident or a removal
// may carry (as the ledger writes times, so that strings compare): no
// online service holds an upload from before 1990, and the values an unset
// time is sent as, Go's and .NET's zero time (0001-01-01), the Unix epoch
// (1970-01-01) and the spreadsheets' and SQL Server's day 0 (1900-01-01),
// all lie before it. Taken as given, such a time became the incident time
// of a report to the authority.
const earliestTime = "1990-01-01T00:00:00.000000Z"

// notBeforeOnline refuses a time (as the ledger writes it; "" is none)
// before earliestTime.
func notBeforeOnline(field, at string) error {
	if at != "" && at < earliestTime {
		return errs.Invalidf("range", field, "%s (%s) is before 1990, earlier than any upload to an online service: an unset time sent as 0001-01-01, 1970-01-01 or 1900-01-01 does this; leave the field out when the time is not known", field, at)
	}
	return nil
}

// SendReport sends a confirmed case to a competent authority.
func (s *Service) SendReport(ctx context.Context, p *auth.Principal, caseID string, in NewReport) (*Report, error) {
	if err := p.Require(ReviewCases); err != nil {
		return nil, err
	}
	if err := check.OneOf("incident_type", in.IncidentType, IncidentTypes); err != nil {
		return nil, err
	}
	at, err := check.OptionalTime("incident_at", in.IncidentAt)
	if err != nil {
		return nil, err
	}
	if err := notBeforeOnline("incident_at", at); err != nil {
		return nil, err
	}
	notes, err := check.Trimmed("notes", in.Notes, 4000)
	if err != nil {
		return nil, err
	}
	id := s.W.IDs().New("HR")
	_, err = ledger.SubmitAs[Report](ctx, s.W, p.Actor(), "send hash match report", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		if at > ledger.FormatTime(now) {
			return nil, errs.Invalidf("not_future", "incident_at", "incident_at is in the future")
		}
		c, err := caseForStep(ctx, tx, p, caseID, statusConfirmed, func(c *Case) error {
			return errs.New(errs.Conflict, "not_confirmed", "case_id", "case %s is %s; a reviewer must confirm it before it is reported", caseID, c.Status)
		}, "hm_reports", errs.New(errs.Conflict, "already_reported", "case_id", "case %s was already reported", caseID))
		if err != nil {
			return nil, err
		}
		b, err := getBank(ctx, tx, c.BestBankID)
		if err != nil {
			return nil, err
		}
		authority := in.AuthorityID
		if authority == "" {
			authority = b.OwnerID
		}
		kind, err := authorityKind(ctx, tx, "authority_id", authority)
		if err != nil {
			return nil, err
		}
		if kind != KindCompetentAuthority {
			return nil, errs.Invalidf("competent_authority", "authority_id", "%s is not a competent authority", authority)
		}
		var class string
		if err := tx.QueryRow(ctx, "SELECT classification FROM hm_entries WHERE id = ?", entryKey(c.BestBankID, c.BestEntryID)).Scan(&class); err != nil {
			return nil, err
		}
		incident := at
		if incident == "" {
			incident = c.UploadedAt
		}
		if incident == "" {
			incident = c.OpenedAt
		}
		return ledger.NewEntry(TypeReportSent, Report{ID: id, CaseID: caseID, ProviderID: c.ProviderID, AuthorityID: authority,
			IncidentType: in.IncidentType, IncidentAt: incident, UploadedAt: c.UploadedAt, PDQ: c.PDQ, MD5: c.MD5, SHA256: c.SHA256,
			Classification: class, UserPseudonym: c.UserPseudonym, ContentRef: c.ContentRef, Notes: notes})
	})
	if err != nil {
		return nil, err
	}
	return s.Report(ctx, p, id)
}

// RecordRemoval records what a service removed for a confirmed case, and when.
func (s *Service) RecordRemoval(ctx context.Context, p *auth.Principal, caseID string, in NewRemoval) (*Removal, error) {
	if err := p.Require(ReviewCases); err != nil {
		return nil, err
	}
	if err := check.OneOf("action", in.Action, RemovalActions); err != nil {
		return nil, err
	}
	at, err := check.OptionalTime("removed_at", in.RemovedAt)
	if err != nil {
		return nil, err
	}
	if err := notBeforeOnline("removed_at", at); err != nil {
		return nil, err
	}
	ref, err := check.Line("content_ref", in.ContentRef, 500, false)
	if err != nil {
		return nil, err
	}
	id := s.W.IDs().New("HM")
	_, err = ledger.SubmitAs[Removal](ctx, s.W, p.Actor(), "record removal", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		c, err := caseForStep(ctx, tx, p, caseID, statusConfirmed, func(c *Case) error {
			return errs.New(errs.Conflict, "not_confirmed", "case_id", "case %s is %s; only a confirmed case leads to a removal record", caseID, c.Status)
		}, "hm_removals", errs.New(errs.Conflict, "already_removed", "case_id", "the removal for case %s is already recorded", caseID))
		if err != nil {
			return nil, err
		}
		r := Removal{ID: id, CaseID: caseID, ProviderID: c.ProviderID, ContentRef: ref, Action: in.Action, RemovedAt: at}
		if r.ContentRef == "" {
			r.ContentRef = c.ContentRef
		}
		if r.RemovedAt == "" {
			r.RemovedAt = ledger.FormatTime(now)
		}
		if r.RemovedAt > ledger.FormatTime(now) {
			return nil, errs.Invalidf("not_future", "removed_at", "removed_at is in the future")
		}
		// Content is removed after it was uploaded: a removal dated before
		// would count in an earlier month's removals and as removed at once
		// in the regulator's time from match to removal. The five minutes
		// an upload time may run ahead of the registry's clock
		// (check.NotFuture) are allowed here too.
		if up, err := time.Parse(time.RFC3339Nano, c.UploadedAt); err == nil && r.RemovedAt < ledger.FormatTime(up.Add(-5*time.Minute)) {
			return nil, errs.Invalidf("dates_in_order", "removed_at", "removed_at (%s) is before the upload (%s): content is removed after it is uploaded", r.RemovedAt, c.UploadedAt)
		}
		return ledger.NewEntry(TypeRemovalRecorded, r)
	})
	if err != nil {
		return nil, err
	}
	return s.Removal(ctx, p, caseID)
}

// AcknowledgeReport records that the authority received a report addressed
// to it, with its own reference.
func (s *Service) AcknowledgeReport(ctx context.Context, p *auth.Principal, reportID, reference string) (*Report, error) {
	if err := p.Require(ReceiveReports); err != nil {
		return nil, err
	}
	ref, err := check.Line("reference", reference, 200, false)
	if err != nil {
		return nil, err
	}
	_, err = s.W.Submit(ctx, p.Actor(), "acknowledge report", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		var authority string
		var ack sql.NullString
		err := tx.QueryRow(ctx, "SELECT authority_id, acknowledged_at FROM hm_reports WHERE id = ?", reportID).Scan(&authority, &ack)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && authority != p.AuthorityID) {
			return nil, errs.New(errs.NotFound, "reference", "report_id", "no report %s addressed to %s", reportID, p.AuthorityID)
		}
		if err != nil {
			return nil, err
		}
		if ack.Valid {
			return nil, errs.New(errs.Conflict, "already_acknowledged", "report_id", "report %s was acknowledged at %s", reportID, ack.String)
		}
		return ledger.NewEntry(TypeReportAcknowledged, reportAcknowledged{ID: reportID, Reference: ref})
	})
	if err != nil {
		return nil, err
	}
	return s.Report(ctx, p, reportID)
}
