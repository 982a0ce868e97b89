package assets

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// NewAsset is an asset identified in a case: its type, where it is, what
// it is, its estimated value and currency, who holds it (a person of the
// case, optional), and the identification: its day, the legal instrument
// (a tracing order, a financial intelligence report) and the authority.
type NewAsset struct {
	Type         string `json:"type" api:"required"`
	Jurisdiction string `json:"jurisdiction" api:"required"`
	Description  string `json:"description" api:"required"`
	Value        string `json:"value" api:"required"`
	Currency     string `json:"currency" api:"required"`
	HolderID     string `json:"holder_id,omitempty"`
	IdentifiedOn string `json:"identified_on" api:"required"`
	Instrument   string `json:"instrument" api:"required"`
	Authority    string `json:"authority" api:"required"`
}

// NewMeasure is the next step of an asset's ledger.
type NewMeasure struct {
	Step         string `json:"step" api:"required"`
	Confiscation string `json:"confiscation,omitempty"`
	DecidedOn    string `json:"decided_on" api:"required"`
	Instrument   string `json:"instrument" api:"required"`
	Amount       string `json:"amount" api:"required"`
	Currency     string `json:"currency" api:"required"`
	Authority    string `json:"authority" api:"required"`
	ReturnedTo   string `json:"returned_to,omitempty"`
	Notes        string `json:"notes,omitempty"`
}

const assetCols = "id, case_id, type, jurisdiction, description, value, currency, holder_id, status, status_on"

// scanAsset reads an asset as it is shown, its value written in its
// currency's minor unit.
func scanAsset(r store.Scanner, a *Asset) error {
	if err := r.Scan(&a.ID, &a.CaseID, &a.Type, &a.Jurisdiction, &a.Description, &a.Value, &a.Currency, &a.HolderID, &a.Status, &a.StatusOn); err != nil {
		return err
	}
	a.Value = written(a.Value, a.Currency)
	return nil
}

// measures returns the measures where cond holds, by asset and order.
func measures(ctx context.Context, q store.Queryer, cond string, args ...any) ([]Measure, error) {
	rows, err := q.Query(ctx, `SELECT id, asset_id, case_id, seq, step, confiscation, decided_on, instrument, amount, currency, authority,
		returned_to, notes FROM assets_measures WHERE `+cond+" ORDER BY asset_id, seq", args...)
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, func(r store.Scanner, m *Measure) error {
		if err := r.Scan(&m.ID, &m.AssetID, &m.CaseID, &m.Seq, &m.Step, &m.Confiscation, &m.DecidedOn, &m.Instrument, &m.Amount, &m.Currency,
			&m.Authority, &m.ReturnedTo, &m.Notes); err != nil {
			return err
		}
		m.Amount = written(m.Amount, m.Currency)
		return nil
	})
}

// decision checks what every step records: its day (not in the future),
// its legal instrument and the deciding authority.
func decision(on, instrument, authority string, onField string, now time.Time) (string, string, string, error) {
	on, err := check.Date(onField, on, true)
	if err != nil {
		return "", "", "", err
	}
	if err := check.DateNotFuture(onField, on, now); err != nil {
		return "", "", "", err
	}
	if instrument, err = check.Line("instrument", instrument, 300, true); err != nil {
		return "", "", "", err
	}
	if authority, err = check.Line("authority", authority, 300, true); err != nil {
		return "", "", "", err
	}
	return on, instrument, authority, nil
}

// IdentifyAsset records an asset of a case of p's state, identified.
func (s *Service) IdentifyAsset(ctx context.Context, p *auth.Principal, caseID string, in NewAsset) (*Asset, error) {
	if err := p.Require(RecordCases); err != nil {
		return nil, err
	}
	if err := check.OneOf("type", in.Type, AssetTypes); err != nil {
		return nil, err
	}
	a := assetIdentified{CaseID: caseID, Type: in.Type, HolderID: strings.TrimSpace(in.HolderID)}
	var err error
	if a.Jurisdiction, err = country("jurisdiction", in.Jurisdiction); err != nil {
		return nil, err
	}
	if a.Description, err = check.Line("description", in.Description, 500, true); err != nil {
		return nil, err
	}
	v, cur, err := money("value", in.Value, "currency", in.Currency)
	if err != nil {
		return nil, err
	}
	a.Value, a.Currency = v.String(), cur
	if a.IdentifiedOn, a.Instrument, a.Authority, err = decision(in.IdentifiedOn, in.Instrument, in.Authority, "identified_on", s.now()); err != nil {
		return nil, err
	}
	a.ID, a.MeasureID = s.W.IDs().New("RA"), s.W.IDs().New("RM")
	_, err = s.W.Submit(ctx, p.Actor(), "identify an asset", func(ctx context.Context, tx *store.Tx, _ time.Time) (*ledger.Entry, error) {
		c, err := visibleCase(ctx, tx, p, "case_id", caseID)
		if err != nil {
			return nil, err
		}
		if a.IdentifiedOn < c.OpenedOn {
			return nil, errs.Invalidf("measure_date_order", "identified_on", "identified_on is before the case was opened (%s)", c.OpenedOn)
		}
		if a.HolderID != "" {
			var one int
			err := tx.QueryRow(ctx, "SELECT 1 FROM assets_persons WHERE id = ? AND case_id = ?", a.HolderID, caseID).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return nil, errs.New(errs.NotFound, "holder", "holder_id", "no person %s in case %s", a.HolderID, caseID)
			}
			if err != nil {
				return nil, err
			}
		}
		return ledger.NewEntry(TypeAssetIdentified, a)
	})
	if err != nil {
		return nil, err
	}
	shown := written(a.Value, a.Currency)
	return &Asset{ID: a.ID, CaseID: caseID, Type: a.Type, Jurisdiction: a.Jurisdiction, Description: a.Description, Value: shown,
		Currency: a.Currency, HolderID: a.HolderID, Status: StepIdentified, StatusOn: a.IdentifiedOn,
		Measures: []Measure{{ID: a.MeasureID, AssetID: a.ID, CaseID: caseID, Step: StepIdentified, DecidedOn: a.IdentifiedOn,
			Instrument: a.Instrument, Amount: shown, Currency: a.Currency, Authority: a.Authority}}}, nil
}

// RecordMeasure records the next step of an asset's ledger. The rules,
// each refused naming it and the field:
//
//   - measure_transition (step): the step must follow the asset's last
//     one (identified → frozen or seized; frozen → seized, confiscated or
//     released; seized → confiscated or released; confiscated → returned
//     or disposed; returned, disposed and released are final);
//   - confiscation_type (confiscation): a confiscation says whether it is
//     criminal, non-conviction based or civil, and no other step does;
//   - returned_to (returned_to): a return names the state returned to, and
//     no other step does;
//   - measure_date_order (decided_on): a step is not dated before the one
//     it follows, nor in the future (dates_in_order);
//   - measure_amount (amount): after the freeze or seizure, a step's
//     amount is not more than the amount of the step it follows (what is
//     confiscated was frozen or seized; what is returned was confiscated),
//     in another currency at the rate recorded for the step's year;
//   - measure_currency (currency): a step after the freeze or seizure in
//     another currency than the step it follows, with no rate recorded
//     between the two for its year.
func (s *Service) RecordMeasure(ctx context.Context, p *auth.Principal, assetID string, in NewMeasure) (*Measure, error) {
	return s.recordMeasure(ctx, p, "", assetID, in)
}

// RecordCaseMeasure is RecordMeasure on an asset of the case caseID: a
// form of one case's page records nothing on another case's asset, even
// of the same state (rule asset_case, field asset_id), whatever the
// asset id posted says.
func (s *Service) RecordCaseMeasure(ctx context.Context, p *auth.Principal, caseID, assetID string, in NewMeasure) (*Measure, error) {
	if err := check.Required("case_id", caseID); err != nil {
		return nil, err
	}
	return s.recordMeasure(ctx, p, caseID, assetID, in)
}

// recordMeasure records the step in on assetID; caseID, when given, is
// the case the asset must belong to.
func (s *Service) recordMeasure(ctx context.Context, p *auth.Principal, caseID, assetID string, in NewMeasure) (*Measure, error) {
	if err := p.Require(RecordCases); err != nil {
		return nil, err
	}
	if err := check.OneOf("step", in.Step, Steps[1:]); err != nil {
		return nil, err
	}
	m := measureRecorded{AssetID: assetID, Step: in.Step, Confiscation: in.Confiscation}
	if in.Step == StepConfiscated {
		if err := check.OneOf("confiscation", in.Confiscation, ConfiscationTypes); err != nil {
			return nil, errs.Invalidf("confiscation_type", "confiscation", "a confiscation is criminal, non_conviction_based or civil: say which")
		}
	} else if in.Confiscation != "" {
		return nil, errs.Invalidf("confiscation_type", "confiscation", "only a confiscation has a type of confiscation")
	}
	var err error
	if in.Step == StepReturned {
		if m.ReturnedTo, err = country("returned_to", in.ReturnedTo); err != nil {
			return nil, errs.Invalidf("returned_to", "returned_to", "a return names the state the asset is returned to (ISO 3166-1 code)")
		}
		if err := check.RealState("returned_to", m.ReturnedTo); err != nil {
			return nil, err
		}
	} else if in.ReturnedTo != "" {
		return nil, errs.Invalidf("returned_to", "returned_to", "only a return names a state returned to")
	}
	if m.DecidedOn, m.Instrument, m.Authority, err = decision(in.DecidedOn, in.Instrument, in.Authority, "decided_on", s.now()); err != nil {
		return nil, err
	}
	amt, cur, err := money("amount", in.Amount, "currency", in.Currency)
	if err != nil {
		return nil, err
	}
	m.Amount, m.Currency = amt.String(), cur
	if m.Notes, err = check.Text("notes", in.Notes, 2000, false); err != nil {
		return nil, err
	}
	m.ID = s.W.IDs().New("RM")
	_, err = s.W.Submit(ctx, p.Actor(), "record a measure on an asset", func(ctx context.Context, tx *store.Tx, _ time.Time) (*ledger.Entry, error) {
		var a Asset
		err := tx.QueryRow(ctx, "SELECT "+assetCols+" FROM assets_assets WHERE id = ?", assetID).Scan(
			&a.ID, &a.CaseID, &a.Type, &a.Jurisdiction, &a.Description, &a.Value, &a.Currency, &a.HolderID, &a.Status, &a.StatusOn)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errs.New(errs.NotFound, "reference", "asset_id", "no asset %s", assetID)
		}
		if err != nil {
			return nil, err
		}
		if _, err := visibleCase(ctx, tx, p, "asset_id", a.CaseID); err != nil {
			return nil, errs.New(errs.NotFound, "reference", "asset_id", "no asset %s", assetID)
		}
		if caseID != "" && a.CaseID != caseID {
			if _, err := visibleCase(ctx, tx, p, "case_id", caseID); err != nil {
				return nil, err
			}
			return nil, errs.Invalidf("asset_case", "asset_id", "asset %s is not an asset of case %s: record its steps from its own case", assetID, caseID)
		}
		if err := transition(assetID, a.Status, m.Step); err != nil {
			return nil, err
		}
		var last Measure
		if err := tx.QueryRow(ctx, "SELECT seq, step, decided_on, amount, currency FROM assets_measures WHERE asset_id = ? ORDER BY seq DESC LIMIT 1", assetID).Scan(
			&last.Seq, &last.Step, &last.DecidedOn, &last.Amount, &last.Currency); err != nil {
			return nil, err
		}
		if m.DecidedOn < last.DecidedOn {
			return nil, errs.Invalidf("measure_date_order", "decided_on", "decided_on is before the asset's last step, %s on %s", last.Step, last.DecidedOn)
		}
		if last.Step != StepIdentified {
			if err := notMore(ctx, tx, m, amt, last); err != nil {
				return nil, err
			}
		}
		m.CaseID, m.Seq = a.CaseID, last.Seq+1
		return ledger.NewEntry(TypeMeasureRecorded, m)
	})
	if err != nil {
		return nil, err
	}
	rec := Measure(m) // the same fields (TestMeasureRecordAgreesWithItsEntry)
	rec.Amount = written(rec.Amount, rec.Currency)
	return &rec, nil
}

// notMore refuses a step whose amount is more than the last step's (rule
// measure_amount, field amount). A step in another currency than the last
// one is compared at the rate recorded for its year between the two (either
// way); without one it is refused (rule measure_currency, field currency):
// else a change of currency would get around the comparison, and what is
// confiscated or returned would count for more than was frozen or seized.
func notMore(ctx context.Context, tx *store.Tx, m measureRecorded, amt decimal.Decimal, last Measure) error {
	prev, err := decimal.NewFromString(last.Amount)
	if err != nil {
		return err
	}
	more := func() error {
		return errs.Invalidf("measure_amount", "amount", "the amount %s %s is more than the %s %s of the asset's last step, %s", m.Amount, m.Currency, last.Amount, last.Currency, last.Step)
	}
	if last.Currency == m.Currency {
		if amt.GreaterThan(prev) {
			return more()
		}
		return nil
	}
	year, _ := strconv.Atoi(m.DecidedOn[:4])
	rate := func(from, to string) (decimal.Decimal, bool, error) {
		var r string
		err := tx.QueryRow(ctx, "SELECT rate FROM assets_rates WHERE currency = ? AND to_currency = ? AND year = ?", from, to, year).Scan(&r)
		if errors.Is(err, sql.ErrNoRows) {
			return decimal.Decimal{}, false, nil
		}
		if err != nil {
			return decimal.Decimal{}, false, err
		}
		d, err := decimal.NewFromString(r)
		return d, err == nil, err
	}
	// amt (m.Currency) × rate(m.Currency → last) against prev; or amt
	// against prev × rate(last → m.Currency): exact, no division.
	if r, ok, err := rate(m.Currency, last.Currency); err != nil {
		return err
	} else if ok {
		if amt.Mul(r).GreaterThan(prev) {
			return more()
		}
		return nil
	}
	if r, ok, err := rate(last.Currency, m.Currency); err != nil {
		return err
	} else if ok {
		if amt.GreaterThan(prev.Mul(r)) {
			return more()
		}
		return nil
	}
	return errs.Invalidf("measure_currency", "currency", "the asset's last step, %s, is in %s: a step in %s needs the exchange rate between them for %s recorded first, to check that it is not more", last.Step, last.Currency, m.Currency, strconv.Itoa(year))
}

// transition refuses a step that may not follow the asset's status (rule
// measure_transition, field step).
func transition(assetID, status, step string) error {
	allowed := next[status]
	for _, s := range allowed {
		if s == step {
			return nil
		}
	}
	if len(allowed) == 0 {
		return errs.New(errs.Conflict, "measure_transition", "step", "asset %s is %s, a final step: nothing follows it", assetID, status)
	}
	return errs.New(errs.Conflict, "measure_transition", "step", "asset %s is %s: it may be %s next, not %s", assetID, status, strings.Join(allowed, " or "), step)
}
