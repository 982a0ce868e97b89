package transplant

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// ---- The payer check (resolution VI, para 13; docs/oversight.md) ----
//
// Health authorities and insurers ask whether a transplant procedure may be
// reimbursed. It may not when the designated authority for trafficking
// reports linked the transplantation to a case whose assessment confirms
// trafficking in persons for organ removal (and the report is not closed as
// unfounded); the care after the transplantation and its medicines stay
// payable. A payer's principal belongs to an authority of kind payer and may
// do nothing else. Every question is a log entry, with the answer given.

// The payers' authority kind and role.
const (
	KindPayer           = "payer"
	RolePayer auth.Role = "payer"
)

// Entry types of the payer check.
const (
	TypeTraffickingCaseLinked = "transplant.trafficking_case_linked"
	TypePayerChecked          = "transplant.payer_checked"
)

// The actions of the payer check.
var (
	CheckPayment = auth.NewAction("ask whether a transplant procedure may be reimbursed", RolePayer)
	// ReadPayerChecks is reading the log of payers' questions.
	ReadPayerChecks = auth.NewAction("read the payers' questions", auth.Regulator, auth.Auditor)
)

// The reasons of a payer check's answer.
const (
	ReasonPayable              = "payable"
	ReasonTraffickingConfirmed = "trafficking_confirmed"
	// The question found no transplantation, or several: the answer is
	// a refusal, logged as the others.
	ReasonNotFound = "not_found"
	ReasonSeveral  = "several_transplants"
)

// PayerQuery is a payer's question: a transplantation's id (for an organ
// received from abroad and transplanted here, the organ's identifier), or
// the recipient's pseudonym and the day it was performed.
type PayerQuery struct {
	TransplantID       string `json:"transplant_id"`
	RecipientPseudonym string `json:"recipient_pseudonym"`
	Date               string `json:"date"`
}

// PayerAnswer is the answer, as logged. ProcedurePayable is false, with
// reason trafficking_confirmed, when the transplantation is linked to a
// confirmed trafficking case; FollowUpCarePayable and MedicinesPayable are
// always true (para 13: the recipient's care is never withheld).
type PayerAnswer struct {
	ID                  string `json:"id"`
	TransplantID        string `json:"transplant_id"`
	RecipientPseudonym  string `json:"recipient_pseudonym,omitempty"`
	Date                string `json:"date,omitempty"`
	PerformedOn         string `json:"performed_on"`
	ProcedurePayable    bool   `json:"procedure_payable"`
	Reason              string `json:"reason"`
	FollowUpCarePayable bool   `json:"follow_up_care_payable"`
	MedicinesPayable    bool   `json:"medicines_payable"`
	AskedAt             string `json:"asked_at,omitempty"`
}

// caseLink is the data of TypeTraffickingCaseLinked.
type caseLink struct {
	ID           string `json:"id"`
	ReportID     string `json:"report_id"`
	TransplantID string `json:"transplant_id"`
}

// LinkTraffickingCase records that report reportID concerns transplantation
// transplantID (designated authority; while the report is under assessment
// or referred to law enforcement). Once the assessment confirms
// trafficking, the procedure is not reimbursable.
func (s *Service) LinkTraffickingCase(ctx context.Context, p *auth.Principal, reportID, transplantID string) error {
	if err := p.Require(WorkTraffickingReports); err != nil {
		return err
	}
	if err := check.Required("transplant_id", transplantID); err != nil {
		return err
	}
	// An organ from abroad transplanted here is named by its identifier,
	// which is read in any of its written forms (ParseOrganID).
	// Anything else is refused without being repeated, as the payer
	// check's question is: what an assessor types there may be a name.
	if !transplantIDRE.MatchString(transplantID) {
		oid, err := ParseOrganID(transplantID)
		if err != nil {
			return errs.Invalidf("id_format", "transplant_id", "transplant_id must be a transplantation's id, TX- and ten letters and digits, or the identifier of an organ from abroad transplanted here")
		}
		transplantID = oid.String()
	}
	id := s.W.IDs().New("TL")
	_, err := s.W.Submit(ctx, p.Actor(), "link a trafficking case to a transplantation", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		var status string
		err := tx.QueryRow(ctx, "SELECT status FROM trafficking_reports WHERE id = ?", reportID).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errs.New(errs.NotFound, "reference", "report_id", "no report %s", reportID)
		}
		if err != nil {
			return nil, err
		}
		if status != TraffickingUnderAssessment && status != TraffickingReferred {
			return nil, errs.New(errs.Conflict, "assessment_status", "report_id", "report %s is %s: link transplantations while it is under assessment or referred", reportID, status)
		}
		var n int
		if err := tx.QueryRow(ctx, linkTargetSQL, transplantID, transplantID).Scan(&n); err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, errs.New(errs.NotFound, "reference", "transplant_id", "no transplantation %s, nor an organ from abroad transplanted here of that identifier", transplantID)
		}
		if err := tx.QueryRow(ctx, linkedSQL, reportID, transplantID, reportID, transplantID).Scan(&n); err != nil {
			return nil, err
		}
		if n > 0 {
			return nil, errs.New(errs.Conflict, "duplicate", "transplant_id", "report %s is already linked to transplantation %s", reportID, transplantID)
		}
		return ledger.NewEntry(TypeTraffickingCaseLinked, caseLink{ID: id, ReportID: reportID, TransplantID: transplantID})
	})
	return err
}

// A trafficking case is linked to a transplantation of an organ of the
// registry (its TX- id, trafficking_case_transplants) or to one of an organ
// received from abroad (the organ's identifier, trafficking_case_imports,
// migration 21): linkTargetSQL counts the transplantation of that id and
// linkedSQL the report's link to it, whichever it is.
const (
	linkTargetSQL = `SELECT (SELECT COUNT(*) FROM transplants WHERE id = ?)
		+ (SELECT COUNT(*) FROM organ_imports WHERE organ_id = ? AND outcome = 'transplanted')`
	linkedSQL = `SELECT (SELECT COUNT(*) FROM trafficking_case_transplants WHERE report_id = ? AND transplant_id = ?)
		+ (SELECT COUNT(*) FROM trafficking_case_imports WHERE report_id = ? AND organ_id = ?)`
)

// confirmedCase holds when transplantation t.id is linked to a report whose
// assessment confirms trafficking and that is not closed as unfounded;
// confirmedImportCase the same of the organ from abroad i.organ_id.
const (
	confirmedCase = `EXISTS (SELECT 1 FROM trafficking_case_transplants l
	JOIN trafficking_assessments a ON a.report_id = l.report_id
	JOIN trafficking_reports r ON r.id = l.report_id
	WHERE l.transplant_id = t.id AND a.conclusion = 'confirmed' AND r.status <> 'closed_unfounded')`
	confirmedImportCase = `EXISTS (SELECT 1 FROM trafficking_case_imports l
	JOIN trafficking_assessments a ON a.report_id = l.report_id
	JOIN trafficking_reports r ON r.id = l.report_id
	WHERE l.organ_id = i.organ_id AND a.conclusion = 'confirmed' AND r.status <> 'closed_unfounded')`
)

// A transplantation here of an organ received from abroad is the import's
// outcome transplanted, known by the organ's identifier (as the GODT report
// keys it): payerTransplantsSQL finds a recipient's on a day, beside the
// transplantations of organs of the registry, and payerTransplantSQL reads
// one by its id, whichever it is (a TX- id is never an organ's identifier).
const (
	payerTransplantsSQL = `SELECT t.id FROM transplants t JOIN recipients r ON r.id = t.recipient_id
		WHERE r.person_pseudonym = ? AND t.performed_at >= ? AND t.performed_at < ?
		UNION ALL SELECT i.organ_id FROM organ_imports i JOIN recipients r ON r.id = i.recipient_id
		WHERE r.person_pseudonym = ? AND i.outcome = 'transplanted' AND i.outcome_on = ?
		ORDER BY 1`
	payerTransplantSQL = `SELECT t.performed_at, ` + confirmedCase + ` FROM transplants t WHERE t.id = ?
		UNION ALL SELECT i.outcome_on, ` + confirmedImportCase + ` FROM organ_imports i WHERE i.organ_id = ? AND i.outcome = 'transplanted'`
)

// CheckPayer answers a payer's question and logs it, answer included. A
// question that finds no transplantation (reason not_found), or several
// (several_transplants), is logged too, then refused.
func (s *Service) CheckPayer(ctx context.Context, p *auth.Principal, in PayerQuery) (*PayerAnswer, error) {
	if err := p.Require(CheckPayment); err != nil {
		return nil, err
	}
	in.TransplantID, in.RecipientPseudonym = strings.TrimSpace(in.TransplantID), strings.TrimSpace(in.RecipientPseudonym)
	switch {
	case in.TransplantID != "" && (in.RecipientPseudonym != "" || in.Date != ""):
		return nil, errs.Invalidf("payer_query", "transplant_id", "ask by transplant_id, or by recipient_pseudonym and date, not both")
	case in.TransplantID != "":
		// The question is logged, and nothing erases the log: what is not
		// an id is refused before, so that no name or file typed here stays.
		if !transplantIDRE.MatchString(in.TransplantID) {
			oid, err := ParseOrganID(in.TransplantID)
			if err != nil {
				return nil, errs.Invalidf("id_format", "transplant_id", "transplant_id must be a transplantation's id, TX- and ten letters and digits, or the identifier of an organ from abroad transplanted here")
			}
			in.TransplantID = oid.String()
		}
	case in.TransplantID == "":
		if err := check.Required("recipient_pseudonym", in.RecipientPseudonym); err != nil {
			return nil, err
		}
		if !pseudonymRE.MatchString(in.RecipientPseudonym) {
			return nil, errs.Invalidf("pseudonym_format", "recipient_pseudonym", "recipient_pseudonym must be a pseudonym, PS- and 24 letters and digits")
		}
		var err error
		if in.Date, err = check.Date("date", in.Date, true); err != nil {
			return nil, err
		}
	}
	id := s.W.IDs().New("PQ")
	a, err := ledger.SubmitAs[PayerAnswer](ctx, s.W, p.Actor(), "payer check", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		a := PayerAnswer{ID: id, RecipientPseudonym: in.RecipientPseudonym, Date: in.Date, FollowUpCarePayable: true, MedicinesPayable: true}
		tid := in.TransplantID
		if tid == "" {
			r, err := tx.Query(ctx, payerTransplantsSQL, in.RecipientPseudonym, in.Date, nextDay(in.Date), in.RecipientPseudonym, in.Date)
			if err != nil {
				return nil, err
			}
			ids, err := store.Rows(r, func(sc store.Scanner, v *string) error { return sc.Scan(v) })
			if err != nil {
				return nil, err
			}
			switch len(ids) {
			case 0:
				a.Reason = ReasonNotFound
			case 1:
				tid = ids[0]
			default:
				a.Reason = ReasonSeveral
			}
		}
		if a.Reason == "" {
			// performed_at is RFC 3339 UTC: its first ten characters are the
			// day (an outcome's day is those ten alone).
			var performed string
			var confirmed bool
			err := tx.QueryRow(ctx, payerTransplantSQL, tid, tid).Scan(&performed, &confirmed)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				a.Reason = ReasonNotFound
			case err != nil:
				return nil, err
			case confirmed:
				a.TransplantID, a.PerformedOn, a.Reason = tid, performed[:min(len(performed), 10)], ReasonTraffickingConfirmed
			default:
				a.TransplantID, a.PerformedOn, a.Reason, a.ProcedurePayable = tid, performed[:min(len(performed), 10)], ReasonPayable, true
			}
		}
		if in.TransplantID != "" && a.TransplantID == "" {
			a.TransplantID = in.TransplantID
		}
		return ledger.NewEntry(TypePayerChecked, a)
	})
	if err != nil {
		return nil, err
	}
	field := "transplant_id"
	if in.TransplantID == "" {
		field = "recipient_pseudonym"
	}
	switch a.Reason {
	case ReasonNotFound:
		return a, errs.New(errs.NotFound, "reference", field, "no transplantation matches the question (question %s, logged)", a.ID)
	case ReasonSeveral:
		return a, errs.New(errs.Conflict, "payer_query", field, "the recipient had several transplantations that day: ask by transplant_id (question %s, logged)", a.ID)
	}
	return a, nil
}

// The forms of a payer's question: a transplantation's id (ledger.IDs:
// TX- and ten Crockford base-32 characters) and a recipient's pseudonym
// (privacy.Vault.Pseudonym: PS- and 24 base-32 characters).
var (
	transplantIDRE = regexp.MustCompile(`^TX-[0-9A-HJKMNP-TV-Z]{10}$`)
	pseudonymRE    = regexp.MustCompile(`^PS-[A-Z2-7]{24}$`)
)

// nextDay is the day after date (DateLayout).
func nextDay(date string) string {
	t, _ := time.Parse(DateLayout, date)
	return t.AddDate(0, 0, 1).Format(DateLayout)
}

// PayerCheckRecord is a payer's question as the regulator reads it.
type PayerCheckRecord struct {
	PayerAnswer
	AskedBy     string `json:"asked_by"`
	AuthorityID string `json:"authority_id"`
}

// PayerChecks lists the payers' questions, newest first, at most limit.
func (s *Service) PayerChecks(ctx context.Context, p *auth.Principal, limit int) ([]PayerCheckRecord, error) {
	if err := p.Require(ReadPayerChecks); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	rows, err := s.DB.Read().Query(ctx, `SELECT id, transplant_id, recipient_pseudonym, asked_date, performed_on, procedure_payable, reason, asked_at, asked_by, authority_id
		FROM payer_checks ORDER BY log_index DESC, id LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, func(r store.Scanner, c *PayerCheckRecord) error {
		var payable int
		err := r.Scan(&c.ID, &c.TransplantID, &c.RecipientPseudonym, &c.Date, &c.PerformedOn, &payable, &c.Reason, &c.AskedAt, &c.AskedBy, &c.AuthorityID)
		c.ProcedurePayable, c.FollowUpCarePayable, c.MedicinesPayable = payable == 1, true, true
		return err
	})
}

func projectPayer(reg *ledger.Projections) {
	ledger.On(reg, TypeTraffickingCaseLinked, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, l *caseLink) error {
		// A TX- id is a transplantation of an organ of the registry; any
		// other is an organ from abroad's (LinkTraffickingCase).
		table := "trafficking_case_transplants (id, report_id, transplant_id"
		if !transplantIDRE.MatchString(l.TransplantID) {
			table = "trafficking_case_imports (id, report_id, organ_id"
		}
		_, err := q.Exec(ctx, `INSERT INTO `+table+`, linked_at, linked_by, log_index)
			VALUES (?, ?, ?, ?, ?, ?)`, l.ID, l.ReportID, l.TransplantID, e.At, e.By, idx)
		return err
	})
	ledger.On(reg, TypePayerChecked, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, a *PayerAnswer) error {
		_, err := q.Exec(ctx, `INSERT INTO payer_checks (id, transplant_id, recipient_pseudonym, asked_date, performed_on, asked_by, authority_id, procedure_payable, reason, asked_at, log_index)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, a.ID, a.TransplantID, a.RecipientPseudonym, a.Date, a.PerformedOn, e.By, e.Authority, boolInt(a.ProcedurePayable), a.Reason, e.At, idx)
		return err
	})
	reg.Tables(
		ledger.Table{Name: "trafficking_case_transplants", Order: "id"},
		ledger.Table{Name: "trafficking_case_imports", Order: "id"},
		ledger.Table{Name: "payer_checks", Order: "id"},
	)
}
