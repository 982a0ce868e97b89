package transplant

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

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
	// TypeTraffickingCaseLinkWithdrawn withdraws a link made in error
	// (WithdrawTraffickingCaseLink).
	TypeTraffickingCaseLinkWithdrawn = "transplant.trafficking_case_link_withdrawn"
	TypePayerChecked                 = "transplant.payer_checked"
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
	transplantID, err := transplantRef(transplantID)
	if err != nil {
		return err
	}
	id := s.W.IDs().New("TL")
	_, err = s.W.Submit(ctx, p.Actor(), "link a trafficking case to a transplantation", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		var status string
		err := tx.QueryRow(ctx, "SELECT status FROM trafficking_reports WHERE id = ?", reportID).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, noReport(reportID)
		}
		if err != nil {
			return nil, err
		}
		if status != TraffickingUnderAssessment && status != TraffickingReferred {
			return nil, errs.New(errs.Conflict, "assessment_status", "id", "report %s is %s: link transplantations while it is under assessment or referred", reportID, status)
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

// transplantRef reads the transplantation a link or a payer's question
// names: its TX- id, or, for an organ from abroad transplanted here, the
// organ's identifier in any of its written forms (ParseOrganID). Anything
// else is refused without being repeated: what an assessor or a payer types
// there may be a name, and the log, which nothing erases, keeps the id.
func transplantRef(id string) (string, error) {
	if transplantIDRE.MatchString(id) {
		return id, nil
	}
	oid, err := ParseOrganID(id)
	if err != nil {
		return "", errs.Invalidf("id_format", "transplant_id", "transplant_id must be a transplantation's id, TX- and ten letters and digits, or the identifier of an organ from abroad transplanted here")
	}
	return oid.String(), nil
}

// LinkWithdrawal is the body of a link's withdrawal: why the link was
// wrong. The log keeps it, and nothing erases the log: it names records,
// never people.
type LinkWithdrawal struct {
	Reason string `json:"reason" api:"required"`
}

// The length of a withdrawal's reason, in characters: long enough to say
// why the link was wrong ("error", "n/a" say nothing a later reader can
// check), short enough for a line of the log.
const (
	linkReasonMin = 10
	linkReasonMax = 1000
)

// TraffickingLinkWithdrawn is a link withdrawn: the link (LinkID), its
// report and transplantation, who made it and when, why it was withdrawn,
// who withdrew it, when, and the log entry that keeps the withdrawal. The
// answer to a withdrawal, and each of a report's WithdrawnLinks.
type TraffickingLinkWithdrawn struct {
	ID           string `json:"id"`
	LinkID       string `json:"link_id"`
	ReportID     string `json:"report_id"`
	TransplantID string `json:"transplant_id"`
	LinkedAt     string `json:"linked_at"`
	LinkedBy     string `json:"linked_by"`
	Reason       string `json:"reason"`
	WithdrawnAt  string `json:"withdrawn_at"`
	WithdrawnBy  string `json:"withdrawn_by"`
	LogIndex     int64  `json:"log_index"`
}

// linkWithdrawn is the data of TypeTraffickingCaseLinkWithdrawn.
type linkWithdrawn struct {
	ID           string `json:"id"`
	LinkID       string `json:"link_id"`
	ReportID     string `json:"report_id"`
	TransplantID string `json:"transplant_id"`
	Reason       string `json:"reason"`
}

// WithdrawTraffickingCaseLink withdraws report reportID's link to
// transplantation transplantID, made in error (designated authority, with
// a reason; whatever the report's status). The link is no longer in force:
// the report no longer lists it, and the procedure is reimbursable again
// unless another confirmed case is linked to it. The link and its
// withdrawal stay in the log; linking it again is a new link.
func (s *Service) WithdrawTraffickingCaseLink(ctx context.Context, p *auth.Principal, reportID, transplantID string, in LinkWithdrawal) (*TraffickingLinkWithdrawn, error) {
	if err := p.Require(WorkTraffickingReports); err != nil {
		return nil, err
	}
	transplantID, err := transplantRef(transplantID)
	if err != nil {
		return nil, err
	}
	reason, err := check.Text("reason", in.Reason, linkReasonMax, true)
	if err != nil {
		return nil, err
	}
	if utf8.RuneCountInString(reason) < linkReasonMin {
		return nil, errs.Invalidf("too_short", "reason", "reason is at least %d characters: say why the link was wrong", linkReasonMin)
	}
	d := linkWithdrawn{ID: s.W.IDs().New("TW"), ReportID: reportID, TransplantID: transplantID, Reason: reason}
	var link caseLinkRow
	res, err := s.W.Submit(ctx, p.Actor(), "withdraw a trafficking case's link to a transplantation", func(ctx context.Context, tx *store.Tx, _ time.Time) (*ledger.Entry, error) {
		var one int
		err := tx.QueryRow(ctx, "SELECT 1 FROM trafficking_reports WHERE id = ?", reportID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, noReport(reportID)
		}
		if err != nil {
			return nil, err
		}
		err = tx.QueryRow(ctx, `SELECT id, linked_at, linked_by FROM trafficking_case_transplants WHERE report_id = ? AND transplant_id = ?
			UNION ALL SELECT id, linked_at, linked_by FROM trafficking_case_imports WHERE report_id = ? AND organ_id = ?`,
			reportID, transplantID, reportID, transplantID).Scan(&d.LinkID, &link.at, &link.by)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errs.New(errs.NotFound, "reference", "transplant_id", "report %s is not linked to transplantation %s", reportID, transplantID)
		}
		if err != nil {
			return nil, err
		}
		return ledger.NewEntry(TypeTraffickingCaseLinkWithdrawn, d)
	})
	if err != nil {
		return nil, err
	}
	return &TraffickingLinkWithdrawn{ID: d.ID, LinkID: d.LinkID, ReportID: d.ReportID, TransplantID: d.TransplantID, LinkedAt: link.at, LinkedBy: link.by,
		Reason: d.Reason, WithdrawnAt: res.Entry.At, WithdrawnBy: res.Entry.By, LogIndex: res.Index}, nil
}

// caseLinkRow is what a withdrawal keeps of the link it withdraws: when and
// by whom it was made, and its entry's index.
type caseLinkRow struct {
	at, by string
	idx    int64
}

// linkTable is the table of the links in force that holds a link to
// transplantID, and its column naming the transplantation: a TX- id is a
// transplantation of an organ of the registry; any other an organ from
// abroad's (LinkTraffickingCase).
func linkTable(transplantID string) (table, column string) {
	if transplantIDRE.MatchString(transplantID) {
		return "trafficking_case_transplants", "transplant_id"
	}
	return "trafficking_case_imports", "organ_id"
}

// insertLinkWithdrawal writes withdrawal w of the link l, entry e at index
// idx, into trafficking_case_withdrawals: the projector's row, and the
// one migration 26's step writes for a withdrawal logged before it.
func insertLinkWithdrawal(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, w *linkWithdrawn, l caseLinkRow) error {
	_, err := q.Exec(ctx, `INSERT INTO trafficking_case_withdrawals (id, link_id, report_id, transplant_id, linked_at, linked_by, link_log_index,
		reason, withdrawn_at, withdrawn_by, log_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		w.ID, w.LinkID, w.ReportID, w.TransplantID, l.at, l.by, l.idx, w.Reason, e.At, e.By, idx)
	return err
}

// fillLinkWithdrawals is migration 26's step: for each withdrawal the log
// held before, it writes the row the projector of
// transplant.trafficking_case_link_withdrawn now writes, so that log
// verify's replay finds the same rows. The link's row left its table when
// it was withdrawn: when and by whom it was made are read from its own
// entry, transplant.trafficking_case_linked, as the projector read them
// from the row that entry wrote.
func fillLinkWithdrawals(ctx context.Context, tx *store.Tx) error {
	links := map[string]caseLinkRow{}
	if err := ledger.EntriesOf(ctx, tx, TypeTraffickingCaseLinked, func(idx int64, e *ledger.Entry) error {
		var l caseLink
		if err := e.Decode(&l); err != nil {
			return err
		}
		links[l.ID] = caseLinkRow{at: e.At, by: e.By, idx: idx}
		return nil
	}); err != nil {
		return err
	}
	return ledger.EntriesOf(ctx, tx, TypeTraffickingCaseLinkWithdrawn, func(idx int64, e *ledger.Entry) error {
		var w linkWithdrawn
		if err := e.Decode(&w); err != nil {
			return err
		}
		l, ok := links[w.LinkID]
		if !ok {
			return fmt.Errorf("leaf %d withdraws link %s, which no entry made", idx, w.LinkID)
		}
		return insertLinkWithdrawal(ctx, tx, idx, e, &w, l)
	})
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
		var err error
		if in.TransplantID, err = transplantRef(in.TransplantID); err != nil {
			return nil, err
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

// PayerCheckRecord is a payer's question as the regulator reads it. A
// question that found no transplantation, or several, has no answer on
// payment: procedure_payable, follow_up_care_payable and medicines_payable
// are absent (null), and its reason says why; a reader must not take them
// for "not payable".
type PayerCheckRecord struct {
	ID                  string `json:"id"`
	TransplantID        string `json:"transplant_id"`
	RecipientPseudonym  string `json:"recipient_pseudonym,omitempty"`
	Date                string `json:"date,omitempty"`
	PerformedOn         string `json:"performed_on"`
	ProcedurePayable    *bool  `json:"procedure_payable,omitempty"`
	Reason              string `json:"reason"`
	FollowUpCarePayable *bool  `json:"follow_up_care_payable,omitempty"`
	MedicinesPayable    *bool  `json:"medicines_payable,omitempty"`
	AskedAt             string `json:"asked_at"`
	AskedBy             string `json:"asked_by"`
	AuthorityID         string `json:"authority_id"`
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
		if err := r.Scan(&c.ID, &c.TransplantID, &c.RecipientPseudonym, &c.Date, &c.PerformedOn, &payable, &c.Reason, &c.AskedAt, &c.AskedBy, &c.AuthorityID); err != nil {
			return err
		}
		if c.Reason != ReasonNotFound && c.Reason != ReasonSeveral {
			procedure, care := payable == 1, true
			c.ProcedurePayable, c.FollowUpCarePayable, c.MedicinesPayable = &procedure, &care, &care
		}
		return nil
	})
}

func projectPayer(reg *ledger.Projections) {
	ledger.On(reg, TypeTraffickingCaseLinked, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, l *caseLink) error {
		table, column := linkTable(l.TransplantID)
		_, err := q.Exec(ctx, `INSERT INTO `+table+` (id, report_id, `+column+`, linked_at, linked_by, log_index)
			VALUES (?, ?, ?, ?, ?, ?)`, l.ID, l.ReportID, l.TransplantID, e.At, e.By, idx)
		return err
	})
	ledger.On(reg, TypeTraffickingCaseLinkWithdrawn, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, w *linkWithdrawn) error {
		// The link leaves the links in force for the withdrawn ones
		// (migration 26), with who made it and when, and the reason.
		table, _ := linkTable(w.TransplantID)
		var l caseLinkRow
		err := q.QueryRow(ctx, "SELECT linked_at, linked_by, log_index FROM "+table+" WHERE id = ? AND report_id = ?", w.LinkID, w.ReportID).Scan(&l.at, &l.by, &l.idx)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("link %s of report %s is not in force", w.LinkID, w.ReportID)
		}
		if err != nil {
			return err
		}
		if err := insertLinkWithdrawal(ctx, q, idx, e, w, l); err != nil {
			return err
		}
		res, err := q.Exec(ctx, "DELETE FROM "+table+" WHERE id = ? AND report_id = ?", w.LinkID, w.ReportID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return fmt.Errorf("link %s of report %s is not in force", w.LinkID, w.ReportID)
		}
		return nil
	})
	ledger.On(reg, TypePayerChecked, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, a *PayerAnswer) error {
		_, err := q.Exec(ctx, `INSERT INTO payer_checks (id, transplant_id, recipient_pseudonym, asked_date, performed_on, asked_by, authority_id, procedure_payable, reason, asked_at, log_index)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, a.ID, a.TransplantID, a.RecipientPseudonym, a.Date, a.PerformedOn, e.By, e.Authority, boolInt(a.ProcedurePayable), a.Reason, e.At, idx)
		return err
	})
	reg.Tables(
		ledger.Table{Name: "trafficking_case_transplants", Order: "id"},
		ledger.Table{Name: "trafficking_case_imports", Order: "id"},
		ledger.Table{Name: "trafficking_case_withdrawals", Order: "id"},
		ledger.Table{Name: "payer_checks", Order: "id"},
	)
}
