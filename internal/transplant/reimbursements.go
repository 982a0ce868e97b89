package transplant

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// ---- Reimbursements of donors' expenses (resolution VI, para 6 b;
// docs/oversight.md) ----
//
// Donation is unpaid: the WHO Guiding Principle 5 and the Declaration of
// Istanbul (2018) allow the reimbursement of reasonable and verifiable
// expenses of the donation, and nothing else. A coordinator of the donor's
// centre records each reimbursement with its category, its evidence and its
// exact amount (decimal text, never a float). Anything that is not such an
// expense, or lacks evidence, is refused and alerted to the regulator as a
// possible payment for an organ.

// TypeReimbursementRecorded records a reimbursement.
const TypeReimbursementRecorded = "transplant.reimbursement_recorded"

// The categories of reimbursable expenses.
const (
	ExpenseTravel        = "travel"         // to and from the centre, for evaluation, surgery and follow-up
	ExpenseAccommodation = "accommodation"  // lodging near the centre
	ExpenseSubsistence   = "subsistence"    // meals while away from home
	ExpenseLostIncome    = "lost_income"    // earnings lost during evaluation, surgery and recovery
	ExpenseMedical       = "medical_costs"  // care of the donation and its complications not otherwise covered
	ExpenseDependantCare = "dependant_care" // care of children or dependants during the donation
	ExpenseInsurance     = "insurance"      // life, disability or health cover of the donation's risks
	ExpenseFuneral       = "funeral"        // a deceased donor's funeral, where the law allows it
)

// ExpenseCategories lists the categories in the order forms offer them.
var ExpenseCategories = []string{ExpenseTravel, ExpenseAccommodation, ExpenseSubsistence, ExpenseLostIncome,
	ExpenseMedical, ExpenseDependantCare, ExpenseInsurance, ExpenseFuneral}

// Who is reimbursed: the living donor, or the donor's family (of a living
// donor who accompanies them, or of a deceased donor).
const (
	PayeeDonor  = "donor"
	PayeeFamily = "family"
)

// Payees lists who may be reimbursed.
var Payees = []string{PayeeDonor, PayeeFamily}

// Limits of a reimbursement.
const (
	// amountDecimals is the most digits after the decimal point an amount
	// has (ISO 4217's minor units run from 0 to 3).
	amountDecimals = 3
	evidenceMax    = 200
)

// NewReimbursement is the input of RecordReimbursement. Amount is decimal
// text ("1250.40").
type NewReimbursement struct {
	DonorID     string `json:"donor_id"`
	Payee       string `json:"payee"`
	Category    string `json:"category"`
	Amount      string `json:"amount"`
	Currency    string `json:"currency"`
	IncurredOn  string `json:"incurred_on"`
	EvidenceRef string `json:"evidence_ref"`
}

// Reimbursement is a recorded reimbursement.
type Reimbursement struct {
	ID          string `json:"id"`
	DonorID     string `json:"donor_id"`
	CentreID    string `json:"centre_id"`
	Payee       string `json:"payee"`
	Category    string `json:"category"`
	Amount      string `json:"amount"`
	Currency    string `json:"currency"`
	IncurredOn  string `json:"incurred_on"`
	EvidenceRef string `json:"evidence_ref"`
	RecordedAt  string `json:"recorded_at,omitempty"`
}

// ParseAmount reads an amount: a positive decimal with at most three digits
// after the point (rule amount).
func ParseAmount(field, s string) (decimal.Decimal, error) {
	s = strings.TrimSpace(s)
	bad := errs.Invalidf("amount", field, "%s must be a positive amount written with digits and at most one point, such as 1250.40", field)
	if s == "" || strings.ContainsAny(s, "eE+-_ ") {
		return decimal.Decimal{}, bad
	}
	d, err := decimal.NewFromString(s)
	if err != nil || !d.IsPositive() {
		return decimal.Decimal{}, bad
	}
	if -d.Exponent() > amountDecimals && !d.Equal(d.Truncate(amountDecimals)) {
		return decimal.Decimal{}, errs.Invalidf("amount", field, "%s has more than %d digits after the point", field, amountDecimals)
	}
	if len(d.Truncate(0).String()) > 15 {
		return decimal.Decimal{}, errs.Invalidf("amount", field, "%s is too large", field)
	}
	return d, nil
}

// validCurrency tells whether s is written as an ISO 4217 code: three
// capital letters.
func validCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for _, c := range s {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// validate checks what needs no state, in the order a reader would: an
// expense outside the categories and a missing evidence are refusals with
// an alert (the caller records it); the rest are plain refusals.
func (in *NewReimbursement) validate() (alert error, err error) {
	if err := check.Required("donor_id", in.DonorID); err != nil {
		return nil, err
	}
	if err := check.OneOf("payee", in.Payee, Payees); err != nil {
		return nil, err
	}
	in.Category = strings.TrimSpace(in.Category)
	if in.Category == "" || !slices.Contains(ExpenseCategories, in.Category) {
		return errs.Alertf(errs.Forbidden, "reimbursable_expense", "category",
			"only reasonable, verifiable expenses of a donation are reimbursed (%s): anything else may be a payment for an organ",
			strings.Join(ExpenseCategories, ", ")), nil
	}
	if strings.TrimSpace(in.EvidenceRef) == "" {
		return errs.Alertf(errs.Forbidden, "reimbursement_evidence", "evidence_ref",
			"a reimbursement without evidence of the expense (a receipt, a ticket, an employer's statement) may be a payment for an organ"), nil
	}
	var err2 error
	if in.EvidenceRef, err2 = check.Line("evidence_ref", in.EvidenceRef, evidenceMax, true); err2 != nil {
		return nil, err2
	}
	amount, err := ParseAmount("amount", in.Amount)
	if err != nil {
		return nil, err
	}
	// Written as given: 1250.40 stays 1250.40.
	in.Amount = amount.StringFixed(max(0, -amount.Exponent()))
	in.Currency = strings.ToUpper(strings.TrimSpace(in.Currency))
	if !validCurrency(in.Currency) {
		return nil, errs.Invalidf("iso4217", "currency", "currency must be an ISO 4217 code such as EUR")
	}
	in.IncurredOn, err = check.Date("incurred_on", in.IncurredOn, true)
	return nil, err
}

// RecordReimbursement records a reimbursement to a donor or a donor's family,
// by a coordinator of the donor's centre. Refused and alerted as a possible
// payment for an organ: an expense outside ExpenseCategories
// (reimbursable_expense), one without evidence (reimbursement_evidence), a
// funeral where the law does not allow it or of a living donor
// (reimbursable_expense), and a reimbursement to a deceased donor
// (reimbursement_payee).
func (s *Service) RecordReimbursement(ctx context.Context, p *auth.Principal, in NewReimbursement) (*Reimbursement, error) {
	const command = "record reimbursement"
	if err := p.Require(Record); err != nil {
		return nil, err
	}
	var kind, centre string
	ownDonor := func(ctx context.Context, q store.Queryer) error {
		err := q.QueryRow(ctx, "SELECT kind, centre_id FROM donors WHERE id = ?", in.DonorID).Scan(&kind, &centre)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.New(errs.NotFound, "reference", "donor_id", "no donor %s", in.DonorID)
		}
		if err != nil {
			return err
		}
		_, err = centreFor(p, "donor_id", centre)
		return err
	}
	if err := s.scopeFirst(ctx, p, command, ownDonor); err != nil {
		return nil, err
	}
	alert, err := in.validate()
	if err != nil {
		return nil, err
	}
	if alert != nil {
		return nil, s.refuseWithAlert(ctx, p, command, alert)
	}
	if in.Category == ExpenseFuneral && !s.Cfg.FuneralExpenses {
		return nil, s.refuseWithAlert(ctx, p, command, errs.Alertf(errs.Forbidden, "reimbursable_expense", "category",
			"the law of this registry does not allow the reimbursement of funeral expenses (custos serve --reimburse-funeral)"))
	}
	id := s.W.IDs().New("RB")
	return ledger.SubmitAs[Reimbursement](ctx, s.W, p.Actor(), command, func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		if err := check.DateNotFuture("incurred_on", in.IncurredOn, now); err != nil {
			return nil, err
		}
		if err := ownDonor(ctx, tx); err != nil {
			return nil, err
		}
		// A domino donor gave their explanted liver alive: a living donor here.
		living := kind == DonorLiving || kind == DonorDomino
		if !living && in.Payee == PayeeDonor {
			return nil, errs.Alertf(errs.Forbidden, "reimbursement_payee", "payee", "donor %s is deceased: only their family may be reimbursed", in.DonorID)
		}
		if living && in.Category == ExpenseFuneral {
			return nil, errs.Alertf(errs.Forbidden, "reimbursable_expense", "category", "donor %s is a living donor: a funeral is no expense of their donation", in.DonorID)
		}
		return ledger.NewEntry(TypeReimbursementRecorded, Reimbursement{ID: id, DonorID: in.DonorID, CentreID: centre, Payee: in.Payee,
			Category: in.Category, Amount: in.Amount, Currency: in.Currency, IncurredOn: in.IncurredOn, EvidenceRef: in.EvidenceRef})
	})
}

// ReadReimbursements is reading the reimbursements: a coordinator their
// centre's, the regulator and an auditor all.
var ReadReimbursements = auth.NewAction("read reimbursements to donors", RoleCoordinator, auth.Regulator, auth.Auditor)

// Reimbursements lists the reimbursements of a centre (all when centre is
// empty; a coordinator's own centre, another refused), newest first, at
// most limit.
func (s *Service) Reimbursements(ctx context.Context, p *auth.Principal, centre string, limit int) ([]Reimbursement, error) {
	if err := p.Require(ReadReimbursements); err != nil {
		return nil, err
	}
	centre, err := centreOf(p, centre)
	if err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	rows, err := s.DB.Read().Query(ctx, `SELECT id, donor_id, centre_id, payee, category, amount, currency, incurred_on, evidence_ref, recorded_at
		FROM donor_reimbursements WHERE (? = '' OR centre_id = ?) ORDER BY log_index DESC, id LIMIT ?`, centre, centre, limit)
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, scanReimbursement)
}

func scanReimbursement(r store.Scanner, x *Reimbursement) error {
	return r.Scan(&x.ID, &x.DonorID, &x.CentreID, &x.Payee, &x.Category, &x.Amount, &x.Currency, &x.IncurredOn, &x.EvidenceRef, &x.RecordedAt)
}

func projectReimbursements(reg *ledger.Projections) {
	ledger.On(reg, TypeReimbursementRecorded, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, x *Reimbursement) error {
		_, err := q.Exec(ctx, `INSERT INTO donor_reimbursements (id, donor_id, centre_id, payee, category, amount, currency, incurred_on, evidence_ref,
			recorded_at, recorded_by, log_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, x.ID, x.DonorID, x.CentreID, x.Payee, x.Category,
			x.Amount, x.Currency, x.IncurredOn, x.EvidenceRef, e.At, e.By, idx)
		return err
	})
	reg.Tables(ledger.Table{Name: "donor_reimbursements", Order: "id"})
}
