package assets

import (
	"context"
	"database/sql"
	"errors"
	"iter"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/disclosure"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/stats"
	"github.com/custos-project/custos/internal/store"
)

// RecordRate records the exchange rate of a currency to another for a
// year (a year's average, as the central bank or the IMF publish it); a
// rate recorded again for the same currencies and year replaces it. A pair
// of currencies has one rate a year, in either direction: the opposite
// rate is its inverse (converter), so a rate opposite to one recorded for
// the year is refused (rule rate_inverse, field to) rather than recorded
// to contradict it. The
// rate's currency may also be a code that is not one in use (a made-up
// one, one withdrawn) when amounts recorded before the currency rules hold
// it: the rate is then the correction that lets the statistics count them
// (docs/assets.md).
func (s *Service) RecordRate(ctx context.Context, p *auth.Principal, in Rate) (*Rate, error) {
	if err := p.Require(RecordRates); err != nil {
		return nil, err
	}
	r := rateRecorded{Year: in.Year}
	var err error
	var legacy error // the refusal of a code that only amounts recorded before the rules may hold
	if r.Currency, err = currency("currency", in.Currency); err != nil {
		code := strings.TrimSpace(in.Currency)
		if !currencyRE.MatchString(code) {
			return nil, err
		}
		r.Currency, legacy = code, err
	}
	if r.To, err = currency("to", in.To); err != nil {
		return nil, err
	}
	if r.Currency == r.To {
		return nil, errs.Invalidf("rate_currencies", "to", "a rate converts one currency to another: to is the same as currency")
	}
	if err := check.IntRange("year", &r.Year, 1900, s.now().Year()); err != nil {
		return nil, err
	}
	v, err := amount("rate", in.Rate)
	if err != nil {
		return nil, err
	}
	r.Rate = v.String()
	if r.Source, err = check.Line("source", in.Source, 200, true); err != nil {
		return nil, err
	}
	if _, err := s.W.Submit(ctx, p.Actor(), "record an exchange rate", func(ctx context.Context, tx *store.Tx, _ time.Time) (*ledger.Entry, error) {
		var opposite string
		err := tx.QueryRow(ctx, "SELECT rate FROM assets_rates WHERE currency = ? AND to_currency = ? AND year = ?", r.To, r.Currency, r.Year).Scan(&opposite)
		if err == nil {
			return nil, errs.Invalidf("rate_inverse", "to", "the rate of %s to %s for %s is recorded (%s): the rate of %s to %s is its inverse, not a rate of its own; record %s to %s again to change it",
				r.To, r.Currency, strconv.Itoa(r.Year), opposite, r.Currency, r.To, r.To, r.Currency)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		if legacy != nil {
			var held bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM assets_assets WHERE currency = ?) OR EXISTS (SELECT 1 FROM assets_measures WHERE currency = ?)`,
				r.Currency, r.Currency).Scan(&held); err != nil {
				return nil, err
			}
			if !held {
				return nil, legacy
			}
		}
		return ledger.NewEntry(TypeRateRecorded, r)
	}); err != nil {
		return nil, err
	}
	out := Rate(r)
	return &out, nil
}

// Rates lists the recorded rates.
func (s *Service) Rates(ctx context.Context, p *auth.Principal) ([]Rate, error) {
	if err := p.Require(ReadStatistics); err != nil {
		return nil, err
	}
	return loadRates(ctx, s.DB.Read())
}

func loadRates(ctx context.Context, q store.Queryer) ([]Rate, error) {
	rows, err := q.Query(ctx, "SELECT currency, to_currency, year, rate, source FROM assets_rates ORDER BY id")
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, func(r store.Scanner, x *Rate) error { return r.Scan(&x.Currency, &x.To, &x.Year, &x.Rate, &x.Source) })
}

// converter converts amounts at the recorded rates: from A to B at the
// rate of A to B; at the rate of B to A, its inverse, by dividing the
// amount by it (not multiplying by a rounded inverse), rounded half away
// from zero to 8 decimals. A year holds one rate a pair (RecordRate);
// where an older release recorded both directions, the one from the
// amount's currency is used, as notMore does.
type converter struct {
	to    string
	rates map[string]decimal.Decimal
}

func (c converter) convert(v decimal.Decimal, cur string, year int) (decimal.Decimal, error) {
	if cur == c.to {
		return v, nil
	}
	if r, ok := c.rates[rateKey(cur, c.to, year)]; ok {
		return v.Mul(r), nil
	}
	if r, ok := c.rates[rateKey(c.to, cur, year)]; ok {
		return v.DivRound(r, 8), nil
	}
	return decimal.Decimal{}, errs.Invalidf("exchange_rate", "currency", "no exchange rate from %s to %s for %d: record one", cur, c.to, year)
}

// StatsQuery asks for the statistics: the currency the amounts are given
// in, the years (0: from the first, to the last) and, for the regulator and
// the auditor, a state (others count their own state's).
type StatsQuery struct {
	Currency string
	From, To int
	State    string
}

// The measures the statistics count: the cases opened, and the amounts
// frozen, seized, confiscated and returned.
const MeasureCases = "cases"

// StatsMeasures are the statistics' measures, in order.
var StatsMeasures = []string{MeasureCases, StepFrozen, StepSeized, StepConfiscated, StepReturned}

// StatsLine is one figure: for a year and a kind of case (or "_T", all
// kinds), the number of cases (opened, or with the step that year) and the
// amount of the step, in the query's currency. A count below the
// disclosure threshold is suppressed, "x", and so is its amount.
type StatsLine struct {
	Year    int    `json:"year"`
	Kind    string `json:"case_kind"`
	Measure string `json:"measure"`
	Cases   string `json:"cases"`
	Amount  string `json:"amount"`
}

// Figures are the statistics for StAR and UNODC.
type Figures struct {
	Currency  string      `json:"currency"`
	Threshold int         `json:"threshold"`
	Lines     []StatsLine `json:"lines"`
}

func (s *Service) threshold() int {
	if s.Threshold > 0 {
		return s.Threshold
	}
	return disclosure.DefaultThreshold
}

// statsState is the state whose statistics p reads (scopeState): "" is
// every state's, the regulator's and the auditor's; a principal whose
// authority has no state is refused (noState), not answered every state's
// figures, nor none, which would read as nothing recovered.
func statsState(p *auth.Principal, state string) (string, error) {
	s, ok, err := scopeState(p, state)
	if err == nil && !ok {
		err = noState()
	}
	return s, err
}

// Statistics counts the cases and the amounts frozen, seized, confiscated
// and returned by year and kind of case, in q's currency at the recorded
// rates of each measure's year, after disclosure control.
func (s *Service) Statistics(ctx context.Context, p *auth.Principal, q StatsQuery) (*Figures, error) {
	if err := p.Require(ReadStatistics); err != nil {
		return nil, err
	}
	cur, err := currency("currency", q.Currency)
	if err != nil {
		return nil, err
	}
	state, err := statsState(p, q.State)
	if err != nil {
		return nil, err
	}
	if q.To != 0 && q.From > q.To {
		return nil, errs.Invalidf("range", "from", "from is after to")
	}
	db := s.DB.Read()
	rates, err := loadRates(ctx, db)
	if err != nil {
		return nil, err
	}
	conv := converter{to: cur, rates: map[string]decimal.Decimal{}}
	for _, r := range rates {
		conv.rates[rateKey(r.Currency, r.To, r.Year)], _ = decimal.NewFromString(r.Rate)
	}
	// cases[measure][year][kind] is the set of cases; amounts the sums.
	type cell struct {
		cases  map[string]bool
		amount decimal.Decimal
	}
	cells := map[string]map[int]map[string]*cell{}
	years := map[int]bool{}
	add := func(measure string, year int, kind, caseID string, v decimal.Decimal) {
		if (q.From != 0 && year < q.From) || (q.To != 0 && year > q.To) {
			return
		}
		years[year] = true
		if cells[measure] == nil {
			cells[measure] = map[int]map[string]*cell{}
		}
		if cells[measure][year] == nil {
			cells[measure][year] = map[string]*cell{}
		}
		c := cells[measure][year][kind]
		if c == nil {
			c = &cell{cases: map[string]bool{}}
			cells[measure][year][kind] = c
		}
		c.cases[caseID] = true
		c.amount = c.amount.Add(v)
	}
	rows, err := db.Query(ctx, "SELECT id, kind, opened_on FROM assets_cases WHERE ? = '' OR state = ?", state, state)
	if err != nil {
		return nil, err
	}
	type caseRow struct{ id, kind, on string }
	cs, err := store.Rows(rows, func(r store.Scanner, c *caseRow) error { return r.Scan(&c.id, &c.kind, &c.on) })
	if err != nil {
		return nil, err
	}
	kindOf := map[string]string{}
	for _, c := range cs {
		kindOf[c.id] = c.kind
		y, _ := strconv.Atoi(c.on[:4])
		add(MeasureCases, y, c.kind, c.id, decimal.Zero)
	}
	ms, err := measures(ctx, db, "step IN ('frozen', 'seized', 'confiscated', 'returned')")
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		kind, ok := kindOf[m.CaseID]
		if !ok {
			continue
		}
		y, _ := strconv.Atoi(m.DecidedOn[:4])
		v, _ := decimal.NewFromString(m.Amount)
		if (q.From == 0 || y >= q.From) && (q.To == 0 || y <= q.To) {
			if v, err = conv.convert(v, m.Currency, y); err != nil {
				return nil, err
			}
		}
		add(m.Step, y, kind, m.CaseID, v)
	}
	ys := make([]int, 0, len(years))
	for y := range years {
		ys = append(ys, y)
	}
	slices.Sort(ys)
	out := &Figures{Currency: cur, Threshold: s.threshold(), Lines: []StatsLine{}}
	labels := make([]string, len(ys))
	for i, y := range ys {
		labels[i] = strconv.Itoa(y)
	}
	for _, measure := range StatsMeasures {
		t := disclosure.Table{Title: measure, Corner: "year", Rows: labels, Cols: CaseKinds, Counts: make([][]int, len(ys))}
		amounts := make([][]decimal.Decimal, len(ys))
		for i, y := range ys {
			t.Counts[i] = make([]int, len(CaseKinds))
			amounts[i] = make([]decimal.Decimal, len(CaseKinds))
			for j, k := range CaseKinds {
				if c := cells[measure][y][k]; c != nil {
					t.Counts[i][j], amounts[i][j] = len(c.cases), c.amount
				}
			}
		}
		pub, err := disclosure.Protect(t, s.threshold())
		if err != nil {
			return nil, err
		}
		line := func(y int, kind string, c disclosure.Cell, v decimal.Decimal) {
			l := StatsLine{Year: y, Kind: kind, Measure: measure, Cases: c.String(), Amount: disclosure.Suppressed}
			if !c.Suppressed {
				l.Amount = writtenIn(v, cur)
			}
			if measure == MeasureCases {
				l.Amount = ""
			}
			out.Lines = append(out.Lines, l)
		}
		for i, y := range ys {
			total := decimal.Zero
			for j, k := range CaseKinds {
				line(y, k, pub.Cells[i][j], amounts[i][j])
				total = total.Add(amounts[i][j])
			}
			line(y, "_T", pub.RowTotals[i], total)
		}
	}
	return out, nil
}

// StatsColumns are the columns of the statistics' export.
var StatsColumns = []string{"year", "case_kind", "measure", "cases", "amount", "currency"}

// StatisticsExport is the export of the statistics as CSV or XLSX.
func (s *Service) StatisticsExport(p *auth.Principal, q StatsQuery, format export.Format) (export.Request, error) {
	if err := p.Require(ReadStatistics); err != nil {
		return export.Request{}, err
	}
	if format != export.CSV && format != export.XLSX {
		return export.Request{}, errs.Invalidf("format", "format", "format must be one of csv, xlsx")
	}
	if _, err := statsState(p, q.State); err != nil {
		return export.Request{}, err
	}
	filter := url.Values{"currency": {q.Currency}}
	if q.From != 0 {
		filter.Set("from", strconv.Itoa(q.From))
	}
	if q.To != 0 {
		filter.Set("to", strconv.Itoa(q.To))
	}
	if q.State != "" {
		filter.Set("state", q.State)
	}
	return export.Request{Registry: Module.Name, List: "statistics", Filter: filter, Format: format, Columns: StatsColumns,
		Rows: func(ctx context.Context) iter.Seq2[[]any, error] {
			return func(yield func([]any, error) bool) {
				f, err := s.Statistics(ctx, p, q)
				if err != nil {
					yield(nil, err)
					return
				}
				for _, l := range f.Lines {
					if !yield([]any{l.Year, l.Kind, l.Measure, l.Cases, l.Amount, f.Currency}, nil) {
						return
					}
				}
			}
		}}, nil
}

// ICCS categories the statistics registry counts from the cases.
const (
	ICCSCorruption      = "0703"
	ICCSProceedsOfCrime = "0704"
)

// OffenceRecords is the registry as a source of the statistics registry:
// each offence of a case under corruption (ICCS 0703) or acts involving
// the proceeds of crime, money laundering among them (ICCS 0704), counts
// one offence at the prosecution stage on the day the case was opened. No
// person's data is in them.
func OffenceRecords(ctx context.Context, q store.Queryer) ([]stats.Record, error) {
	rows, err := q.Query(ctx, "SELECT offences, opened_on FROM assets_cases ORDER BY id")
	if err != nil {
		return nil, err
	}
	type row struct{ offences, on string }
	rs, err := store.Rows(rows, func(r store.Scanner, x *row) error { return r.Scan(&x.offences, &x.on) })
	if err != nil {
		return nil, err
	}
	var out []stats.Record
	for _, r := range rs {
		for _, code := range list(r.offences) {
			if stats.ICCS.Under(code, ICCSCorruption) || stats.ICCS.Under(code, ICCSProceedsOfCrime) {
				out = append(out, stats.Record{ICCS: code, Stage: stats.StageProsecution, Unit: stats.UnitOffence, Date: r.on,
					VictimAge: -1, PerpetratorAge: -1, Count: 1})
			}
		}
	}
	return out, nil
}

// ParseStatsQuery reads the statistics' query parameters: currency, from,
// to (years) and state.
func ParseStatsQuery(v url.Values) (StatsQuery, error) {
	q := StatsQuery{Currency: v.Get("currency"), State: v.Get("state")}
	for _, y := range []struct {
		name string
		to   *int
	}{{"from", &q.From}, {"to", &q.To}} {
		if s := v.Get(y.name); s != "" {
			n, err := ParseYear(y.name, s)
			if err != nil {
				return q, err
			}
			*y.to = n
		}
	}
	return q, nil
}

// ParseYear reads a year written in four digits alone (check.Whole: no
// sign, space or padding; +2024, " 2024" and 02024 are refused, not read
// as 2024), from 1900 to 9999 (rule range, naming field): the statistics'
// from and to, and the rate form's year, which the service then holds to
// this year at the latest.
func ParseYear(field, s string) (int, error) {
	n, ok := check.Whole(s, 9999)
	if !ok || n < 1900 {
		return 0, errs.Invalidf("range", field, "%s must be a year from 1900 to 9999", field)
	}
	return n, nil
}
