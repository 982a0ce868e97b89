package stats

import (
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
)

// QueryParams are the query parameters ParseQuery reads, beside
// filter.<dimension> (repeated for several values).
var QueryParams = []string{"stage", "unit", "level", "iccs", "by", "period", "from", "to", "totals", "sources"}

// listParams are the QueryParams that take several values, repeated or
// comma-separated; each other one is given once.
var listParams = []string{"iccs", "by", "sources"}

// ParseQuery reads a query from URL parameters, as the API's exports and
// the web pages take it: stage, unit, level, iccs (repeated or
// comma-separated), by (likewise), period, from, to, totals (true or
// false), sources, and filter.<dimension> for each filtered dimension.
// Anything else is refused, and so is a parameter of one value given twice;
// the values are checked when the query runs.
func ParseQuery(v url.Values, ignore ...string) (Query, error) {
	q := Query{Stage: v.Get("stage"), Unit: v.Get("unit"), Period: v.Get("period"), From: v.Get("from"), To: v.Get("to")}
	list := func(name string) []string {
		var out []string
		for _, x := range v[name] {
			for _, s := range strings.Split(x, ",") {
				if s = strings.TrimSpace(s); s != "" {
					out = append(out, s)
				}
			}
		}
		return out
	}
	// In order, so that a query wrong in two parameters is refused for the
	// same one each time.
	for _, name := range slices.Sorted(maps.Keys(v)) {
		vs := v[name]
		if slices.Contains(ignore, name) {
			continue
		}
		if slices.Contains(QueryParams, name) {
			// A parameter of one value given twice is refused, rather than
			// the first taken silently: stage=police&stage=courts would
			// publish the police's counts under a query that asked for both.
			if len(vs) > 1 && !slices.Contains(listParams, name) {
				return q, errs.Invalidf("query", name, "%s is given more than once; only iccs, by, sources and filter.<dimension> take several values", name)
			}
			continue
		}
		dim, ok := strings.CutPrefix(name, "filter.")
		if !ok {
			name = errs.Echo(name, errs.MaxEchoed)
			return q, errs.Invalidf("query", name, "%s is not a parameter of a statistics query", name)
		}
		if q.Filter == nil {
			q.Filter = map[string][]string{}
		}
		q.Filter[dim] = list(name)
	}
	if l := v.Get("level"); l != "" {
		n, ok := check.Whole(l, 4) // digits alone: +1 or 01 is refused, not read
		if !ok {
			return q, errs.Invalidf("range", "level", "level must be between 0 and 4")
		}
		q.Level = n
	}
	switch v.Get("totals") {
	case "", "false":
	case "true":
		q.Totals = true
	default:
		return q, errs.Invalidf("enum", "totals", "totals must be true or false")
	}
	q.ICCS, q.By, q.Sources = list("iccs"), list("by"), list("sources")
	return q, nil
}
