package chart

import (
	"net/url"
	"strconv"
	"time"

	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/page"
)

// MonthLayout is how a month is written: 2026-03.
const MonthLayout = "2006-01"

// PeriodLengths are the numbers of months a dashboard may show.
var PeriodLengths = []string{"12", "24"}

// Period is the months a dashboard's figures cover: Months whole calendar
// months (UTC) ending with Until.
type Period struct {
	Until  time.Time // the first instant of the last month
	Months int
}

// LastMonths is the period of n months ending with the month of t (UTC).
func LastMonths(t time.Time, n int) Period {
	t = t.UTC()
	return Period{Until: time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC), Months: n}
}

// ParsePeriod reads the query parameters "until" (a month, 2026-03; the month
// of now when absent) and "months" (12 or 24; 12 when absent). Anything else
// is refused, naming the parameter, never read as the default; a month after
// now's is refused too.
func ParsePeriod(q url.Values, now time.Time) (Period, error) {
	p := LastMonths(now, 12)
	// A period given twice is refused, not read as its first value: the
	// file would say one period while its address asked another.
	for _, name := range []string{"months", "until"} {
		if len(q[name]) > 1 {
			return Period{}, errs.Invalidf("query", name, "%s is given more than once; it takes one value", name)
		}
	}
	if s := q.Get("months"); s != "" {
		if err := check.OneOf("months", s, PeriodLengths); err != nil {
			return Period{}, err
		}
		n, err := page.Int(q, "months", 12)
		if err != nil {
			return Period{}, err
		}
		p.Months = n
	}
	if s := q.Get("until"); s != "" {
		t, err := time.Parse(MonthLayout, s)
		if err != nil {
			return Period{}, errs.Invalidf("month_format", "until", "until must be a month such as 2026-03")
		}
		if t.After(p.Until) {
			return Period{}, errs.Invalidf("range", "until", "until is out of range: it must not be after %s", p.Until.Format(MonthLayout))
		}
		if t.Year() < 1900 {
			return Period{}, errs.Invalidf("range", "until", "until is out of range: it must not be before 1900-01")
		}
		p.Until = t
	}
	return p, nil
}

// List returns the period's months in order, as written (2026-03).
func (p Period) List() []string {
	out := make([]string, p.Months)
	for i := range p.Months {
		out[i] = p.Until.AddDate(0, i-p.Months+1, 0).Format(MonthLayout)
	}
	return out
}

// From is the first month of the period (2025-04): a time written in RFC 3339
// is in the period when From <= it < End, compared as text.
func (p Period) From() string { return p.Until.AddDate(0, 1-p.Months, 0).Format(MonthLayout) }

// End is the month after the period (2026-04).
func (p Period) End() string { return p.Until.AddDate(0, 1, 0).Format(MonthLayout) }

// Query is the period as query parameters, for links.
func (p Period) Query() url.Values {
	return url.Values{"until": {p.Until.Format(MonthLayout)}, "months": {itoa(p.Months)}}
}

// Words says the period in the language of l: "the 12 months 2025-04 to
// 2026-03".
func (p Period) Words(l *i18n.Localizer) string {
	return l.N("the %d months %s to %s", p.Months, p.From(), p.Until.Format(MonthLayout))
}

func itoa(n int) string { return strconv.Itoa(n) }

// ByMonth spreads counts keyed by month (2026-03) over the period's months,
// zero where a month has none.
func (p Period) ByMonth(counts map[string]int) []float64 {
	ms := p.List()
	out := make([]float64, len(ms))
	for i, m := range ms {
		out[i] = float64(counts[m])
	}
	return out
}
