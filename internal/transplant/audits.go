package transplant

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// ---- Audits of centres and professionals (resolution VI, para 6 f;
// docs/oversight.md) ----
//
// The regulator plans audits of a centre, or of a professional of a centre
// (named by a professional reference, such as a licence number, never by
// name), records what they found and the corrective actions each finding
// asks for, each with a deadline; an action past its deadline and not done
// is overdue, and shows on the oversight page and in the centre's audit
// pack.

// Entry types of the audits.
const (
	TypeAuditPlanned           = "transplant.audit_planned"
	TypeAuditFindingRecorded   = "transplant.audit_finding_recorded"
	TypeCorrectiveActionSet    = "transplant.corrective_action_set"
	TypeCorrectiveActionClosed = "transplant.corrective_action_closed"
)

// Who plans and records audits, and who reads them.
var (
	WorkAudits = auth.NewAction("plan audits and record their findings and corrective actions", auth.Regulator)
	ReadAudits = auth.NewAction("read audits, their findings and the audit packs", auth.Regulator, auth.Auditor)
)

// FindingSeverities are how grave a finding is.
var FindingSeverities = []string{"minor", "major", "critical"}

// Limits of an audit's texts.
const (
	auditTextMax = 4000
	auditRefMax  = 100
)

// NewAudit is the input of PlanAudit: ProfessionalRef is empty for an audit
// of the centre.
type NewAudit struct {
	CentreID        string `json:"centre_id" api:"required"`
	ProfessionalRef string `json:"professional_ref"`
	PlannedOn       string `json:"planned_on" api:"required"`
	Scope           string `json:"scope" api:"required"`
}

// Audit is a planned audit, with what it found.
type Audit struct {
	ID              string         `json:"id"`
	CentreID        string         `json:"centre_id"`
	ProfessionalRef string         `json:"professional_ref"`
	PlannedOn       string         `json:"planned_on"`
	Scope           string         `json:"scope"`
	Findings        []AuditFinding `json:"findings,omitempty"`
}

// NewFinding is the input of RecordFinding.
type NewFinding struct {
	Severity    string `json:"severity" api:"required"`
	Description string `json:"description" api:"required"`
}

// AuditFinding is what an audit found, with the corrective actions it asks for.
type AuditFinding struct {
	ID          string             `json:"id"`
	AuditID     string             `json:"audit_id"`
	Severity    string             `json:"severity"`
	Description string             `json:"description"`
	RecordedAt  string             `json:"recorded_at,omitempty"`
	Actions     []CorrectiveAction `json:"actions,omitempty"`
}

// NewCorrectiveAction is the input of SetCorrectiveAction.
type NewCorrectiveAction struct {
	Action string `json:"action" api:"required"`
	DueOn  string `json:"due_on" api:"required"`
}

// CorrectiveAction is an action a finding asks of the centre, due by DueOn.
type CorrectiveAction struct {
	ID        string `json:"id"`
	FindingID string `json:"finding_id"`
	CentreID  string `json:"centre_id"`
	Action    string `json:"action"`
	DueOn     string `json:"due_on"`
	DoneOn    string `json:"done_on,omitempty"`
	DoneNote  string `json:"done_note,omitempty"`
	// Overdue is read, not recorded: past DueOn and not done.
	Overdue bool `json:"overdue"`
}

// actionSet is the data of TypeCorrectiveActionSet.
type actionSet struct {
	ID        string `json:"id"`
	FindingID string `json:"finding_id"`
	CentreID  string `json:"centre_id"`
	Action    string `json:"action"`
	DueOn     string `json:"due_on"`
}

// actionClosed is the data of TypeCorrectiveActionClosed.
type actionClosed struct {
	ID     string `json:"id"`
	DoneOn string `json:"done_on"`
	Note   string `json:"note"`
}

// PlanAudit plans an audit of a centre or of one of its professionals.
func (s *Service) PlanAudit(ctx context.Context, p *auth.Principal, in NewAudit) (*Audit, error) {
	if err := p.Require(WorkAudits); err != nil {
		return nil, err
	}
	if err := check.Required("centre_id", in.CentreID); err != nil {
		return nil, err
	}
	var err error
	if in.ProfessionalRef, err = check.Line("professional_ref", in.ProfessionalRef, auditRefMax, false); err != nil {
		return nil, err
	}
	if in.PlannedOn, err = check.Date("planned_on", in.PlannedOn, true); err != nil {
		return nil, err
	}
	if in.Scope, err = check.Text("scope", in.Scope, auditTextMax, true); err != nil {
		return nil, err
	}
	id := s.W.IDs().New("AD")
	return ledger.SubmitAs[Audit](ctx, s.W, p.Actor(), "plan audit", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		if err := requireCentre(ctx, tx, "centre_id", in.CentreID); err != nil {
			return nil, err
		}
		return ledger.NewEntry(TypeAuditPlanned, Audit{ID: id, CentreID: in.CentreID, ProfessionalRef: in.ProfessionalRef,
			PlannedOn: in.PlannedOn, Scope: in.Scope})
	})
}

// RecordFinding records what audit auditID found.
func (s *Service) RecordFinding(ctx context.Context, p *auth.Principal, auditID string, in NewFinding) (*AuditFinding, error) {
	if err := p.Require(WorkAudits); err != nil {
		return nil, err
	}
	if err := check.OneOf("severity", in.Severity, FindingSeverities); err != nil {
		return nil, err
	}
	var err error
	if in.Description, err = check.Text("description", in.Description, auditTextMax, true); err != nil {
		return nil, err
	}
	id := s.W.IDs().New("AF")
	return ledger.SubmitAs[AuditFinding](ctx, s.W, p.Actor(), "record audit finding", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		var planned string
		err := tx.QueryRow(ctx, "SELECT planned_on FROM audits WHERE id = ?", auditID).Scan(&planned)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errs.New(errs.NotFound, "reference", "audit_id", "no audit %s", auditID)
		}
		if err != nil {
			return nil, err
		}
		if planned > day(now) {
			return nil, errs.Invalidf("audit_held", "audit_id", "audit %s is planned for %s: record its findings once it is held", auditID, planned)
		}
		return ledger.NewEntry(TypeAuditFindingRecorded, AuditFinding{ID: id, AuditID: auditID, Severity: in.Severity, Description: in.Description})
	})
}

// ActionDueYears is how far ahead of the day it is set a corrective action
// may be due: an audit's finding is corrected in weeks or months, and a
// deadline years away (9999-12-31, 2062 for 2026) is a mistyped year that
// would keep the action from ever being overdue, and its centre from being
// flagged corrective_actions_overdue.
const ActionDueYears = 2

// ActionDueBounds is the first and last day a corrective action set on a
// day of now (UTC) may be due: today, and ActionDueYears ahead. The web
// form's date input takes them as its min and max.
func ActionDueBounds(now time.Time) (first, last string) {
	return day(now), day(now.AddDate(ActionDueYears, 0, 0))
}

// SetCorrectiveAction records a corrective action finding findingID asks
// of the audited centre, due by in.DueOn (today to ActionDueYears ahead).
func (s *Service) SetCorrectiveAction(ctx context.Context, p *auth.Principal, findingID string, in NewCorrectiveAction) (*CorrectiveAction, error) {
	if err := p.Require(WorkAudits); err != nil {
		return nil, err
	}
	var err error
	if in.Action, err = check.Text("action", in.Action, auditTextMax, true); err != nil {
		return nil, err
	}
	if in.DueOn, err = check.Date("due_on", in.DueOn, true); err != nil {
		return nil, err
	}
	id := s.W.IDs().New("AK")
	return ledger.SubmitAs[CorrectiveAction](ctx, s.W, p.Actor(), "set corrective action", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		var centre string
		err := tx.QueryRow(ctx, "SELECT a.centre_id FROM audit_findings f JOIN audits a ON a.id = f.audit_id WHERE f.id = ?", findingID).Scan(&centre)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errs.New(errs.NotFound, "reference", "finding_id", "no audit finding %s", findingID)
		}
		if err != nil {
			return nil, err
		}
		first, last := ActionDueBounds(now)
		if in.DueOn < first {
			return nil, errs.Invalidf("dates_in_order", "due_on", "due_on is in the past: a corrective action is due today or later")
		}
		if in.DueOn > last {
			return nil, errs.Invalidf("date_range", "due_on", "due_on %s is more than %d years ahead: a corrective action is due by %s at the latest", in.DueOn, ActionDueYears, last)
		}
		return ledger.NewEntry(TypeCorrectiveActionSet, actionSet{ID: id, FindingID: findingID, CentreID: centre, Action: in.Action, DueOn: in.DueOn})
	})
}

// CloseCorrectiveAction records corrective action id done on doneOn (from
// the day of the audit whose finding it corrects to today), with a note of
// what was verified.
func (s *Service) CloseCorrectiveAction(ctx context.Context, p *auth.Principal, id, doneOn, note string) (*CorrectiveAction, error) {
	if err := p.Require(WorkAudits); err != nil {
		return nil, err
	}
	var err error
	if doneOn, err = check.Date("done_on", doneOn, true); err != nil {
		return nil, err
	}
	if note, err = check.Text("note", note, auditTextMax, true); err != nil {
		return nil, err
	}
	_, err = s.W.Submit(ctx, p.Actor(), "close corrective action", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		if err := check.DateNotFuture("done_on", doneOn, now); err != nil {
			return nil, err
		}
		var done sql.NullString
		var held string
		err := tx.QueryRow(ctx, `SELECT ca.done_on, a.planned_on FROM corrective_actions ca
			JOIN audit_findings f ON f.id = ca.finding_id JOIN audits a ON a.id = f.audit_id WHERE ca.id = ?`, id).Scan(&done, &held)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errs.New(errs.NotFound, "reference", "action_id", "no corrective action %s", id)
		}
		if err != nil {
			return nil, err
		}
		if done.Valid {
			return nil, errs.New(errs.Conflict, "action_open", "action_id", "corrective action %s was recorded done on %s", id, done.String)
		}
		// An action corrects what its audit found: done before the audit's
		// day, it corrected nothing that audit saw (a mistyped date).
		if doneOn < held {
			return nil, errs.Invalidf("dates_in_order", "done_on", "done_on (%s) is before the day of the audit whose finding it corrects (%s)", doneOn, held)
		}
		return ledger.NewEntry(TypeCorrectiveActionClosed, actionClosed{ID: id, DoneOn: doneOn, Note: note})
	})
	if err != nil {
		return nil, err
	}
	return s.correctiveAction(ctx, id)
}

const actionCols = `ca.id, ca.finding_id, ca.centre_id, ca.action, ca.due_on, COALESCE(ca.done_on, ''), COALESCE(ca.done_note, '')`

func (s *Service) scanAction(today string) func(r store.Scanner, a *CorrectiveAction) error {
	return func(r store.Scanner, a *CorrectiveAction) error {
		if err := r.Scan(&a.ID, &a.FindingID, &a.CentreID, &a.Action, &a.DueOn, &a.DoneOn, &a.DoneNote); err != nil {
			return err
		}
		a.Overdue = a.DoneOn == "" && a.DueOn < today
		return nil
	}
}

func (s *Service) correctiveAction(ctx context.Context, id string) (*CorrectiveAction, error) {
	var a CorrectiveAction
	err := s.scanAction(day(s.now()))(s.DB.Read().QueryRow(ctx, "SELECT "+actionCols+" FROM corrective_actions ca WHERE ca.id = ?", id), &a)
	return &a, err
}

// Audits lists the audits of a centre (all when centre is empty), the
// latest planned first, each with its findings and their actions.
func (s *Service) Audits(ctx context.Context, p *auth.Principal, centre string) ([]Audit, error) {
	if err := p.Require(ReadAudits); err != nil {
		return nil, err
	}
	return s.auditsOf(ctx, s.DB.Read(), centre)
}

func (s *Service) auditsOf(ctx context.Context, q store.Queryer, centre string) ([]Audit, error) {
	rows, err := q.Query(ctx, `SELECT id, centre_id, professional_ref, planned_on, scope FROM audits
		WHERE (? = '' OR centre_id = ?) ORDER BY planned_on DESC, id`, centre, centre)
	if err != nil {
		return nil, err
	}
	audits, err := store.Rows(rows, func(r store.Scanner, a *Audit) error {
		return r.Scan(&a.ID, &a.CentreID, &a.ProfessionalRef, &a.PlannedOn, &a.Scope)
	})
	if err != nil {
		return nil, err
	}
	today := day(s.now())
	for i := range audits {
		rows, err := q.Query(ctx, "SELECT id, audit_id, severity, description, recorded_at FROM audit_findings WHERE audit_id = ? ORDER BY log_index", audits[i].ID)
		if err != nil {
			return nil, err
		}
		if audits[i].Findings, err = store.Rows(rows, func(r store.Scanner, f *AuditFinding) error {
			return r.Scan(&f.ID, &f.AuditID, &f.Severity, &f.Description, &f.RecordedAt)
		}); err != nil {
			return nil, err
		}
		for j := range audits[i].Findings {
			rows, err := q.Query(ctx, "SELECT "+actionCols+" FROM corrective_actions ca WHERE ca.finding_id = ? ORDER BY ca.due_on, ca.id", audits[i].Findings[j].ID)
			if err != nil {
				return nil, err
			}
			if audits[i].Findings[j].Actions, err = store.Rows(rows, s.scanAction(today)); err != nil {
				return nil, err
			}
		}
	}
	return audits, nil
}

// OverdueActions lists the corrective actions past their deadline and not
// done, of a centre (all when centre is empty), the longest overdue first.
func (s *Service) OverdueActions(ctx context.Context, p *auth.Principal, centre string) ([]CorrectiveAction, error) {
	if err := p.Require(ReadAudits); err != nil {
		return nil, err
	}
	return s.overdueActions(ctx, s.DB.Read(), centre)
}

func (s *Service) overdueActions(ctx context.Context, q store.Queryer, centre string) ([]CorrectiveAction, error) {
	today := day(s.now())
	rows, err := q.Query(ctx, "SELECT "+actionCols+` FROM corrective_actions ca
		WHERE (? = '' OR ca.centre_id = ?) AND ca.done_on IS NULL AND ca.due_on < ? ORDER BY ca.due_on, ca.id`, centre, centre, today)
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, s.scanAction(today))
}

func projectAudits(reg *ledger.Projections) {
	ledger.On(reg, TypeAuditPlanned, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, a *Audit) error {
		_, err := q.Exec(ctx, `INSERT INTO audits (id, centre_id, professional_ref, planned_on, scope, planned_at, planned_by, log_index)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, a.ID, a.CentreID, a.ProfessionalRef, a.PlannedOn, a.Scope, e.At, e.By, idx)
		return err
	})
	ledger.On(reg, TypeAuditFindingRecorded, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, f *AuditFinding) error {
		_, err := q.Exec(ctx, `INSERT INTO audit_findings (id, audit_id, severity, description, recorded_at, recorded_by, log_index)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, f.ID, f.AuditID, f.Severity, f.Description, e.At, e.By, idx)
		return err
	})
	ledger.On(reg, TypeCorrectiveActionSet, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, a *actionSet) error {
		_, err := q.Exec(ctx, `INSERT INTO corrective_actions (id, finding_id, centre_id, action, due_on, recorded_at, recorded_by, log_index)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, a.ID, a.FindingID, a.CentreID, a.Action, a.DueOn, e.At, e.By, idx)
		return err
	})
	ledger.On(reg, TypeCorrectiveActionClosed, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, c *actionClosed) error {
		_, err := q.Exec(ctx, "UPDATE corrective_actions SET done_on = ?, done_note = ? WHERE id = ?", c.DoneOn, c.Note, c.ID)
		return err
	})
	reg.Tables(
		ledger.Table{Name: "audits", Order: "id"},
		ledger.Table{Name: "audit_findings", Order: "id"},
		ledger.Table{Name: "corrective_actions", Order: "id"},
	)
}
