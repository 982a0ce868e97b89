package stats

import (
	"context"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/store"
)

// MaxBreakdown is the most dimensions one query breaks down by (the ICCS
// and the period included).
const MaxBreakdown = 7

// Periods lists the periods a query counts by.
var Periods = []string{PeriodYear, PeriodQuarter, PeriodMonth}

// axis is one dimension of a query's breakdown: how a record's stored codes
// give its value, how many values there are, and each value's code.
type axis struct {
	id    string
	card  int
	value func(cols *[numCols][]byte, i int) int
	// fill adds value × stride to keys[i] for every record of a chunk:
	// a loop over one column at a time, which is what makes counting
	// fast; nil uses value.
	fill func(cols *[numCols][]byte, keys []int, stride int)
	code func(v int) string
	rank func(v int) int
}

// plan is a checked query ready to count.
type plan struct {
	q         Query
	stage     uint32
	unit      uint32
	iccsKeep  []bool // by stored ICCS code; nil keeps all
	axes      []axis
	filters   []filter
	from, to  int // yyyymmdd bounds, 0 when none
	need      [numCols]bool
	regions   []string // the global region list; index 0 unknown
	regionOf  map[string]int
	y0, years int
	sources   map[string]bool
	// dated asks for the first and last day the counted records' reference
	// periods cover (Result.first, Result.last): an SDMX total over all
	// periods of a query not counted by period is written as that range.
	// Only the SDMX export asks, so a page's count reads no dates for it.
	dated bool
}

type filter struct {
	value func(cols *[numCols][]byte, i int) int
	keep  []bool
}

// ageBands maps a stored age (years plus one, 0 unknown) to its band.
var ageBandOf = func() [256]uint8 {
	var t [256]uint8
	for a := 1; a < 256; a++ {
		t[a] = AgeBand(a - 1)
	}
	return t
}()

// iccsAt[l][k] is the stored code of the ancestor at level l of stored code k.
var iccsAt = func() [5][]uint16 {
	var t [5][]uint16
	for l := 1; l <= 4; l++ {
		t[l] = make([]uint16, len(ICCS.Categories)+1)
		for i, k := range ICCS.Categories {
			t[l][i+1] = uint16(ICCS.index[ICCS.Ancestor(k.Code, l)]) + 1
		}
	}
	return t
}()

func byteCol(col int) func(cols *[numCols][]byte, i int) int {
	return func(cols *[numCols][]byte, i int) int { return int(cols[col][i]) }
}

// enumAxis is a stored enumerated column as an axis.
func enumAxis(d Dimension, col int) axis {
	return axis{id: d.ID, card: len(d.Values), value: byteCol(col), code: func(v int) string { return d.Values[v].Code }, rank: func(v int) int { return v },
		fill: func(cols *[numCols][]byte, keys []int, stride int) {
			c := cols[col][:len(keys)]
			for i, v := range c {
				keys[i] += int(v) * stride
			}
		}}
}

var unitVictim, unitPerson = uint8(slices.Index(codes(DimUnit), UnitVictim)), uint8(slices.Index(codes(DimUnit), UnitPerson))

// personal picks the victim's column for a victim, the perpetrator's for a
// person, unknown for an offence.
func personal(victim, perpetrator int, band bool) func(cols *[numCols][]byte, i int) int {
	return func(cols *[numCols][]byte, i int) int {
		var v byte
		switch cols[colUnit][i] {
		case unitVictim:
			v = cols[victim][i]
		case unitPerson:
			v = cols[perpetrator][i]
		default:
			return 0
		}
		if band {
			return int(ageBandOf[v])
		}
		return int(v)
	}
}

// personalFill is personal's fill.
func personalFill(victim, perpetrator int, band bool) func(cols *[numCols][]byte, keys []int, stride int) {
	return func(cols *[numCols][]byte, keys []int, stride int) {
		n := len(keys)
		u, vc, pc := cols[colUnit][:n], cols[victim][:n], cols[perpetrator][:n]
		for i := range keys {
			var v byte
			switch u[i] {
			case unitVictim:
				v = vc[i]
			case unitPerson:
				v = pc[i]
			default:
				continue
			}
			if band {
				v = ageBandOf[v]
			}
			keys[i] += int(v) * stride
		}
	}
}

func bandOf(col int) func(cols *[numCols][]byte, i int) int {
	return func(cols *[numCols][]byte, i int) int { return int(ageBandOf[cols[col][i]]) }
}

// dimAxis returns the axis of a dimension of Dimensions and the stored
// columns it reads.
func (pl *plan) dimAxis(id string) (axis, []int) {
	for name, e := range enumCols {
		if name == id {
			return enumAxis(e.dim, e.col), []int{e.col}
		}
	}
	val := func(d Dimension) (func(int) string, func(int) int) {
		return func(v int) string { return d.Values[v].Code }, func(v int) int { return v }
	}
	switch id {
	case DimSex.ID:
		c, r := val(DimSex)
		return axis{id: id, card: len(sexes), value: personal(colVictimSex, colPerpetratorSex, false), fill: personalFill(colVictimSex, colPerpetratorSex, false),
			code: c, rank: r}, []int{colUnit, colVictimSex, colPerpetratorSex}
	case DimAgeBand.ID:
		c, r := val(DimAgeBand)
		return axis{id: id, card: len(ageBands), value: personal(colVictimAge, colPerpetratorAge, true), fill: personalFill(colVictimAge, colPerpetratorAge, true),
			code: c, rank: r}, []int{colUnit, colVictimAge, colPerpetratorAge}
	case DimVictimAgeBand.ID:
		c, r := val(DimVictimAgeBand)
		return axis{id: id, card: len(ageBands), value: bandOf(colVictimAge), code: c, rank: r}, []int{colVictimAge}
	case DimPerpetratorAgeBand.ID:
		c, r := val(DimPerpetratorAgeBand)
		return axis{id: id, card: len(ageBands), value: bandOf(colPerpetratorAge), code: c, rank: r}, []int{colPerpetratorAge}
	case DimRegion.ID:
		// Stored region indexes are the import's; count rewrites the
		// column to global indexes before counting.
		return axis{id: id, card: len(pl.regions), value: func(cols *[numCols][]byte, i int) int { return int(get(cols[colRegion], colRegion, i)) },
			code: func(v int) string { return pl.regions[v] }, rank: func(v int) int { return v }}, []int{colRegion}
	}
	return axis{}, nil
}

// dateKey is the first and last day of a record's reference period as
// yyyymmdd: its day, or the month or year it is dated by alone (days 01 to
// 31 of a month: the keys only compare).
func dateKey(cols *[numCols][]byte, i int) (int, int) {
	y, m, d := int(get(cols[colYear], colYear, i)), int(cols[colMonth][i]), int(cols[colDay][i])
	switch {
	case m == 0:
		return y*10000 + 101, y*10000 + 1231
	case d == 0:
		return y*10000 + m*100 + 1, y*10000 + m*100 + 31
	}
	return y*10000 + m*100 + d, y*10000 + m*100 + d
}

// boundKey is the first day (the last when end) of a period's bound
// written YYYY, YYYY-MM or YYYY-MM-DD, as dateKey writes it: from=2023-01
// starts where a record dated 2023 does.
func boundKey(s string, end bool) int {
	y, m, d, _ := parseDate(s)
	lastM, lastD := 1, 1
	if end {
		lastM, lastD = 12, 31
	}
	if m == 0 {
		m = lastM
	}
	if d == 0 {
		d = lastD
	}
	return y*10000 + m*100 + d
}

// check validates a query and makes its plan; imports are the dictionaries
// of what will be counted (to list the regions and the years).
func (s *Service) plan(q Query, dicts []Dictionary, years [2]int) (*plan, error) {
	pl := &plan{q: q}
	k := slices.Index(codes(DimStage), q.Stage)
	if k < 1 {
		return nil, errs.Invalidf("enum", "stage", "stage must be one of %s", strings.Join(codes(DimStage)[1:], ", "))
	}
	pl.stage = uint32(k)
	k = slices.Index(codes(DimUnit), q.Unit)
	if k < 1 {
		return nil, errs.Invalidf("enum", "unit", "unit must be one of %s", strings.Join(codes(DimUnit)[1:], ", "))
	}
	pl.unit = uint32(k)
	if q.Level < 0 || q.Level > 4 {
		return nil, errs.Invalidf("range", "level", "level must be between 0 and 4")
	}
	if len(q.ICCS) > 0 {
		pl.iccsKeep = make([]bool, len(ICCS.Categories)+1)
		for i, c := range q.ICCS {
			root, ok := ICCS.Lookup(c)
			if !ok {
				return nil, errs.Invalidf("iccs_code", fieldAt("iccs", i), "%s is not an ICCS code (version %s)", errs.Echo(c, errs.MaxEchoed), ICCS.Version)
			}
			for j, k := range ICCS.Categories {
				if ICCS.Under(k.Code, root.Code) {
					pl.iccsKeep[j+1] = true
				}
			}
		}
	}
	if q.Period != "" && !slices.Contains(Periods, q.Period) {
		return nil, errs.Invalidf("enum", "period", "period must be one of %s", strings.Join(Periods, ", "))
	}
	for _, b := range []struct{ name, v string }{{"from", q.From}, {"to", q.To}} {
		if _, _, _, ok := parseDate(b.v); b.v != "" && !ok {
			return nil, errs.Invalidf("date_format", b.name, "%s must be written YYYY, YYYY-MM or YYYY-MM-DD, from 1900 on", b.name)
		}
	}
	if q.From != "" {
		pl.from = boundKey(q.From, false)
	}
	if q.To != "" {
		pl.to = boundKey(q.To, true)
	}
	if pl.from > 0 && pl.to > 0 && pl.from > pl.to {
		return nil, errs.Invalidf("dates_in_order", "to", "to is before from")
	}
	known := map[string]bool{SourceImport: true}
	for _, src := range s.Sources {
		known[src.Name] = true
	}
	pl.sources = map[string]bool{}
	for _, src := range q.Sources {
		if !known[src] {
			return nil, errs.Invalidf("enum", "sources", "%s is not a source of statistics", src)
		}
		pl.sources[src] = true
	}
	// The regions of every dictionary, in order, unknown first.
	pl.regionOf = map[string]int{"": 0}
	var names []string
	for _, d := range dicts {
		for _, r := range d.Regions[min(1, len(d.Regions)):] {
			if _, ok := pl.regionOf[r]; !ok {
				pl.regionOf[r] = -1
				names = append(names, r)
			}
		}
	}
	slices.Sort(names)
	pl.regions = append([]string{"unknown"}, names...)
	for i, r := range names {
		pl.regionOf[r] = i + 1
	}
	pl.y0, pl.years = years[0], years[1]-years[0]+1
	pl.need[colStage], pl.need[colUnit], pl.need[colICCS], pl.need[colCount] = true, true, true, true
	if pl.from > 0 || pl.to > 0 {
		pl.need[colYear], pl.need[colMonth], pl.need[colDay] = true, true, true
	}
	if q.Level > 0 {
		lv := q.Level
		pl.axes = append(pl.axes, axis{id: DimICCS.ID, card: len(ICCS.Categories) + 1,
			value: func(cols *[numCols][]byte, i int) int { return int(iccsAt[lv][get(cols[colICCS], colICCS, i)]) },
			fill: func(cols *[numCols][]byte, keys []int, stride int) {
				c, at := cols[colICCS][:2*len(keys)], iccsAt[lv]
				for i := range keys {
					keys[i] += int(at[uint16(c[2*i])|uint16(c[2*i+1])<<8]) * stride
				}
			},
			code: func(v int) string { return ICCS.Categories[v-1].Code }, rank: func(v int) int { return v }})
	}
	seen := map[string]bool{}
	for i, id := range q.By {
		a, cols := pl.dimAxis(id)
		if cols == nil {
			return nil, errs.Invalidf("enum", fieldAt("by", i), "%s is not a dimension to break down by", id)
		}
		if seen[id] {
			return nil, errs.Invalidf("duplicate", fieldAt("by", i), "%s is given twice", id)
		}
		seen[id] = true
		for _, c := range cols {
			pl.need[c] = true
		}
		pl.axes = append(pl.axes, a)
	}
	if q.Period != "" {
		pl.need[colYear] = true
		if q.Period != PeriodYear {
			pl.need[colMonth] = true
		}
		pl.axes = append(pl.axes, pl.periodAxis())
	}
	if len(pl.axes) > MaxBreakdown {
		return nil, errs.Invalidf("range", "by", "a query breaks down by at most %d dimensions, the ICCS and the period included", MaxBreakdown)
	}
	fkeys := make([]string, 0, len(q.Filter))
	for id := range q.Filter {
		fkeys = append(fkeys, id)
	}
	slices.Sort(fkeys)
	for _, id := range fkeys {
		a, cols := pl.dimAxis(id)
		if cols == nil {
			// Named by its parameter (filter.<dimension>), as a bad value is.
			id = errs.Echo(id, errs.MaxEchoed)
			return nil, errs.Invalidf("enum", "filter."+id, "%s is not a dimension to filter by", id)
		}
		if len(q.Filter[id]) == 0 {
			// A filter of no value keeps no record: filter.sex= (a form's
			// empty box, a script's empty variable) would publish a table of
			// zeros under the query's name, as if nothing had been recorded.
			return nil, errs.Invalidf("required", "filter."+id, "filter.%s names no value: give the codes to keep, or leave the filter out", id)
		}
		f := filter{value: a.value, keep: make([]bool, a.card)}
		for _, v := range q.Filter[id] {
			found := false
			for k := range a.card {
				if a.code(k) == v {
					f.keep[k], found = true, true
				}
			}
			switch {
			case !found && id == DimRegion.ID:
				// A region no import holds counts nothing, as a year with
				// no records does; one no import could hold is refused,
				// as an import refuses it.
				if _, err := check.Line("filter."+id, v, 64, false); err != nil {
					return nil, err
				}
			case !found:
				v = errs.Echo(v, errs.MaxEchoed)
				return nil, errs.Invalidf("enum", "filter."+id, "%s is not a value of %s", v, id)
			}
		}
		for _, c := range cols {
			pl.need[c] = true
		}
		pl.filters = append(pl.filters, f)
	}
	// Counting rewrites each import's region indexes to the global list's
	// in two bytes, as they are stored: past 65,536 (unknown and 65,535
	// regions) an index would wrap and count a record under another region.
	// One file holds at most MaxDictionary regions; several together may
	// hold more, and a breakdown or filter by region over them is refused.
	if pl.need[colRegion] && len(pl.regions) > MaxDictionary+1 {
		field := "filter." + DimRegion.ID
		if slices.Contains(q.By, DimRegion.ID) {
			field = "by"
		}
		return nil, errs.Invalidf("too_many", field, "the imports hold %d distinct regions together, more than the %d a breakdown or filter by region can tell apart", len(pl.regions)-1, MaxDictionary)
	}
	size := int64(1)
	for _, a := range pl.axes {
		size *= int64(a.card)
		if size > 1<<40 {
			return nil, errs.Invalidf("range", "by", "the breakdown has too many combinations: ask for fewer dimensions or a coarser ICCS level or period")
		}
	}
	return pl, nil
}

func fieldAt(name string, i int) string { return fmt.Sprintf("%s[%d]", name, i) }

func (pl *plan) periodAxis() axis {
	per := map[string]int{PeriodYear: 1, PeriodQuarter: 5, PeriodMonth: 13}[pl.q.Period]
	y0 := pl.y0
	a := axis{id: DimPeriod.ID, card: pl.years * per, rank: func(v int) int { return v }}
	if per == 1 {
		a.fill = func(cols *[numCols][]byte, keys []int, stride int) {
			c := cols[colYear][:2*len(keys)]
			for i := range keys {
				keys[i] += (int(uint16(c[2*i])|uint16(c[2*i+1])<<8) - y0) * stride
			}
		}
	}
	a.value = func(cols *[numCols][]byte, i int) int {
		y, m := int(get(cols[colYear], colYear, i)), int(cols[colMonth][i])
		switch per {
		case 1:
			return y - y0
		case 5:
			if m == 0 {
				return (y-y0)*5 + 4 // unknown quarter: after the fourth
			}
			return (y-y0)*5 + (m-1)/3
		}
		if m == 0 {
			return (y-y0)*13 + 12
		}
		return (y-y0)*13 + m - 1
	}
	a.code = func(v int) string {
		y, r := y0+v/per, v%per
		switch {
		case per == 1:
			return fmt.Sprintf("%04d", y)
		case r == per-1:
			return fmt.Sprintf("%04d-U", y)
		case per == 5:
			return fmt.Sprintf("%04d-Q%d", y, r+1)
		}
		return fmt.Sprintf("%04d-%02d", y, r+1)
	}
	return a
}

// counter adds up counts by key.
type counter struct {
	pl      *plan
	strides []int
	dense   []int64
	sparse  map[int]int64
	records int64
	// notPlaced counts the units dated too coarsely for the period
	// (Result.NotPlaced).
	notPlaced int64
	// first and last are the first and last day (yyyymmdd, as dateKey
	// writes them; 0 when none) of the counted records' reference periods,
	// kept when the plan is dated.
	first, last int
	keys        []int
	keep        []bool
}

// maxDense is the largest key space counted in an array rather than a map.
const maxDense = 1 << 22

func newCounter(pl *plan) *counter {
	c := &counter{pl: pl, strides: make([]int, len(pl.axes))}
	size := 1
	for i := len(pl.axes) - 1; i >= 0; i-- {
		c.strides[i] = size
		size *= pl.axes[i].card
	}
	if size <= maxDense {
		c.dense = make([]int64, size)
	} else {
		c.sparse = map[int]int64{}
	}
	return c
}

// count adds a chunk of n records whose region column (when read) has
// been made global: which records are kept, then each axis's part of
// their keys, a column at a time, then the counts.
func (c *counter) count(cols *[numCols][]byte, n int) {
	pl := c.pl
	c.records += int64(n)
	if cap(c.keys) < n {
		c.keys, c.keep = make([]int, n), make([]bool, n)
	}
	keys, keep := c.keys[:n], c.keep[:n]
	stage, unit := byte(pl.stage), byte(pl.unit)
	st, un := cols[colStage][:n], cols[colUnit][:n]
	any := false
	for i := range keep {
		keep[i] = st[i] == stage && un[i] == unit
		any = any || keep[i]
		keys[i] = 0
	}
	if !any {
		return
	}
	if pl.iccsKeep != nil {
		ic := cols[colICCS]
		for i := range keep {
			keep[i] = keep[i] && pl.iccsKeep[uint16(ic[2*i])|uint16(ic[2*i+1])<<8]
		}
	}
	for _, f := range pl.filters {
		for i := range keep {
			keep[i] = keep[i] && f.keep[f.value(cols, i)]
		}
	}
	if pl.from > 0 || pl.to > 0 {
		// A record is counted when its reference period (its day, or the
		// month or year it is dated by alone) lies within from to to, as
		// the ICCS counts a period's records. One dated by a year (or a
		// month) that from or to cuts through may lie in the period or
		// not: it is counted in no cell, and in notPlaced.
		for i := range keep {
			if keep[i] {
				lo, hi := dateKey(cols, i)
				keep[i] = (pl.from == 0 || lo >= pl.from) && (pl.to == 0 || hi <= pl.to)
				if !keep[i] && (pl.from == 0 || hi >= pl.from) && (pl.to == 0 || lo <= pl.to) {
					c.notPlaced += weight(cols[colCount], i)
				}
			}
		}
	}
	if pl.dated {
		for i, ok := range keep {
			if ok {
				lo, hi := dateKey(cols, i)
				if c.first == 0 || lo < c.first {
					c.first = lo
				}
				c.last = max(c.last, hi)
			}
		}
	}
	for k, a := range pl.axes {
		if a.fill != nil {
			a.fill(cols, keys, c.strides[k])
			continue
		}
		for i := range keys {
			keys[i] += a.value(cols, i) * c.strides[k]
		}
	}
	counts := cols[colCount]
	for i, ok := range keep {
		if !ok {
			continue
		}
		w := weight(counts, i)
		if c.dense != nil {
			c.dense[keys[i]] += w
		} else {
			c.sparse[keys[i]] += w
		}
	}
}

// weight is the count of record i: 1 when the import has no count column.
func weight(counts []byte, i int) int64 {
	if len(counts) == 0 {
		return 1
	}
	return int64(get(counts, colCount, i))
}

// MaxCells is the most cells one query's answer holds, its totals
// included: a breakdown by many dimensions of many records, with every
// combination of totals, would otherwise answer with millions of cells,
// built in memory, for minutes (a query by ICCS class, region, sex, age
// band, weapon, context and month of the demo's records, with totals, took
// 17 seconds to answer 359,752 cells).
const MaxCells = 250_000

// result turns the counts into cells, with the totals when asked, in key
// order (an axis's values in the order of their codes, Total last). It
// refuses an answer of more than MaxCells cells before building it.
func (c *counter) result() (*Result, error) {
	pl := c.pl
	res := &Result{Query: pl.q, Dims: make([]string, len(pl.axes)), Cells: []Cell{}, Records: c.records, NotPlaced: c.notPlaced, first: c.first, last: c.last}
	for i, a := range pl.axes {
		res.Dims[i] = a.id
	}
	d := len(pl.axes)
	// A cell's key as one number: its values in mixed radix, the first axis
	// the most significant, each axis's digit its value or, for its total,
	// card (after every value). The numbers sort as the keys do, axes'
	// values being in their order (rank is the value).
	mult := make([]int, d)
	m := 1
	for i := d - 1; i >= 0; i-- {
		mult[i] = m
		m *= pl.axes[i].card + 1
	}
	masks := 1
	if pl.q.Totals {
		masks = 1 << d
	}
	cells := map[int]int64{}
	vals := make([]int, d)
	tooMany := false
	each := func(key int, n int64) bool {
		base := 0
		for i := range d {
			vals[i] = key / c.strides[i] % pl.axes[i].card
			base += vals[i] * mult[i]
		}
		for m := range masks {
			k := base
			for i := range d {
				if m&(1<<i) != 0 {
					k += (pl.axes[i].card - vals[i]) * mult[i]
				}
			}
			cells[k] += n
		}
		if len(cells) > MaxCells {
			tooMany = true
			return false
		}
		return true
	}
	if c.dense != nil {
		for k, n := range c.dense {
			if n != 0 && !each(k, n) {
				break
			}
		}
	} else {
		for k, n := range c.sparse {
			if !each(k, n) {
				break
			}
		}
	}
	if tooMany {
		if pl.q.Totals {
			return nil, errs.Invalidf("too_many_cells", "totals", "the answer would hold more than %d cells: ask for fewer dimensions, a coarser ICCS level or period, fewer records, or no totals", MaxCells)
		}
		return nil, errs.Invalidf("too_many_cells", "by", "the answer would hold more than %d cells: ask for fewer dimensions, a coarser ICCS level or period, or fewer records", MaxCells)
	}
	keys := slices.Sorted(maps.Keys(cells))
	res.ranks = make([]map[string]int, d)
	for i := range res.ranks {
		res.ranks[i] = map[string]int{}
	}
	res.Cells = make([]Cell, 0, len(keys))
	for _, k := range keys {
		key := make([]string, d)
		for i, a := range pl.axes {
			v := k / mult[i] % (a.card + 1)
			if v == a.card {
				key[i] = Total
				continue
			}
			key[i] = a.code(v)
			res.ranks[i][key[i]] = a.rank(v)
		}
		res.Cells = append(res.Cells, Cell{Key: key, Count: cells[k]})
	}
	return res, nil
}

// Aggregate counts the records (imported ones and the sources') as q asks.
func (s *Service) Aggregate(ctx context.Context, p *auth.Principal, q Query) (*Result, error) {
	if err := p.Require(ReadStatistics); err != nil {
		return nil, err
	}
	return s.aggregate(ctx, s.DB.Read(), q, false)
}

// counted is a set of records to count: an import (read chunk by chunk
// from the store) or a source's records (coded in memory).
type counted struct {
	importID string
	nchunks  int // of an import
	dict     Dictionary
	chunks   []*chunk
}

// aggregate counts q's records; dated keeps the first and last day of the
// counted records' reference periods (plan.dated).
func (s *Service) aggregate(ctx context.Context, rq store.Queryer, q Query, dated bool) (*Result, error) {
	var sets []counted
	years := [2]int{0, 0}
	span := func(first, last string) {
		for _, d := range []string{first, last} {
			if y, _, _, ok := parseDate(d); ok {
				if years[0] == 0 || y < years[0] {
					years[0] = y
				}
				if y > years[1] {
					years[1] = y
				}
			}
		}
	}
	want := func(src string) bool { return len(q.Sources) == 0 || slices.Contains(q.Sources, src) }
	if want(SourceImport) {
		rows, err := rq.Query(ctx, "SELECT id, chunks, dictionary, first_date, last_date FROM stats_imports WHERE withdrawn_at = '' ORDER BY id")
		if err != nil {
			return nil, err
		}
		type imp struct {
			id, dict, first, last string
			chunks                int
		}
		list, err := store.Rows(rows, func(r store.Scanner, x *imp) error { return r.Scan(&x.id, &x.chunks, &x.dict, &x.first, &x.last) })
		if err != nil {
			return nil, err
		}
		for _, im := range list {
			d, err := importDictionary(im.dict)
			if err != nil {
				return nil, fmt.Errorf("import %s: dictionary: %w", im.id, err)
			}
			span(im.first, im.last)
			sets = append(sets, counted{importID: im.id, nchunks: im.chunks, dict: d})
		}
	}
	for _, src := range s.Sources {
		if !want(src.Name) {
			continue
		}
		recs, err := src.Records(ctx, rq)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", src.Name, err)
		}
		set, first, last, err := codeRecords(recs)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", src.Name, err)
		}
		span(first, last)
		sets = append(sets, set)
	}
	dicts := make([]Dictionary, len(sets))
	for i, set := range sets {
		dicts[i] = set.dict
	}
	if years[0] == 0 {
		years = [2]int{2000, 2000}
	}
	pl, err := s.plan(q, dicts, years)
	if err != nil {
		return nil, err
	}
	if dated {
		pl.dated = true
		pl.need[colYear], pl.need[colMonth], pl.need[colDay] = true, true, true
	}
	c, err := s.countSets(ctx, rq, pl, sets)
	if err != nil {
		return nil, err
	}
	return c.result()
}

// chunksPerRead is how many chunks of an import one read asks for: the
// unit of work the readers share (a variable for the tests).
var chunksPerRead = 8

// maxReaders is the most reads of chunks one count runs at once.
const maxReaders = 4

// maxCounting is the most memory, in counts, the counters of one query
// take together: more counters than one only while they fit.
const maxCounting = 1 << 23

// batch is a chunk's columns on their way from a reader to a counter.
type batch struct {
	set  int
	cols [numCols][]byte
	n    int
}

// countSets counts the records of every set. Reading and counting
// overlap: readers (several on their own connections of the read pool,
// one in a snapshot) read ranges of an import's chunks and hand each chunk
// to counters (one per processor while their counts fit in maxCounting),
// each adding into counts of its own, summed at the end. Nothing is kept
// between queries.
func (s *Service) countSets(ctx context.Context, rq store.Queryer, pl *plan, sets []counted) (*counter, error) {
	type job struct{ set, from, to int }
	var jobs []job
	for i, set := range sets {
		if set.importID == "" {
			jobs = append(jobs, job{set: i})
			continue
		}
		for a := 0; a < set.nchunks; a += chunksPerRead {
			jobs = append(jobs, job{i, a, min(a+chunksPerRead, set.nchunks)})
		}
	}
	globals := make([][]uint16, len(sets))
	for k, set := range sets {
		globals[k] = make([]uint16, len(set.dict.Regions))
		for i, r := range set.dict.Regions {
			globals[k][i] = uint16(pl.regionOf[r])
		}
	}
	first := newCounter(pl)
	counters := []*counter{first}
	for len(counters) < runtime.GOMAXPROCS(0) && first.dense != nil && (len(counters)+1)*len(first.dense) <= maxCounting {
		counters = append(counters, newCounter(pl))
	}
	readers := min(maxReaders, s.DB.Readers(ctx), max(1, len(jobs)))

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var once sync.Once
	var failed error
	fail := func(err error) {
		once.Do(func() { failed = err; cancel() })
	}
	batches := make(chan batch, 2*len(counters))
	var next atomic.Int64
	var rwg sync.WaitGroup
	for range readers {
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			for {
				k := int(next.Add(1)) - 1
				if k >= len(jobs) || ctx.Err() != nil {
					return
				}
				j := jobs[k]
				send := func(cols *[numCols][]byte, n int) bool {
					select {
					case batches <- batch{set: j.set, cols: *cols, n: n}:
						return true
					case <-ctx.Done():
						return false
					}
				}
				set := &sets[j.set]
				if set.importID == "" {
					for _, ch := range set.chunks {
						if !send(&ch.cols, ch.n) {
							return
						}
					}
					continue
				}
				if err := readImport(ctx, rq, set.importID, j.from, j.to, &pl.need, send); err != nil {
					fail(err)
					return
				}
			}
		}()
	}
	go func() {
		rwg.Wait()
		close(batches)
	}()
	var cwg sync.WaitGroup
	for _, c := range counters {
		cwg.Add(1)
		go func() {
			defer cwg.Done()
			for b := range batches {
				if ctx.Err() != nil {
					continue // drain: the readers stop
				}
				if pl.need[colRegion] {
					// Make the import's region indexes global (a copy: the
					// stored bytes are not ours).
					src, global := b.cols[colRegion], globals[b.set]
					out := make([]byte, len(src))
					for i := range b.n {
						g := global[get(src, colRegion, i)]
						out[2*i], out[2*i+1] = byte(g), byte(g>>8)
					}
					b.cols[colRegion] = out
				}
				c.count(&b.cols, b.n)
			}
		}()
	}
	cwg.Wait()
	if failed != nil {
		return nil, failed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, c := range counters[1:] {
		first.add(c)
	}
	return first, nil
}

// add adds o's counts to c's.
func (c *counter) add(o *counter) {
	c.records += o.records
	c.notPlaced += o.notPlaced
	if o.first != 0 && (c.first == 0 || o.first < c.first) {
		c.first = o.first
	}
	c.last = max(c.last, o.last)
	for k, n := range o.dense {
		c.dense[k] += n
	}
	for k, n := range o.sparse {
		c.sparse[k] += n
	}
}

// readImport reads the needed columns of chunks [from, to) of an import, in
// order of their keys, and hands each whole chunk to visit, which returns
// false to stop.
func readImport(ctx context.Context, q store.Queryer, id string, from, to int, need *[numCols]bool, visit func(cols *[numCols][]byte, n int) bool) error {
	var names []any
	var marks []string
	for c := range numCols {
		if need[c] {
			names = append(names, colNames[c])
			marks = append(marks, "?")
		}
	}
	args := append([]any{chunkKey(id, from), chunkKey(id, to)}, names...)
	rows, err := q.Query(ctx, "SELECT chunk, col, n, data FROM stats_columns WHERE id >= ? AND id < ? AND col IN ("+strings.Join(marks, ", ")+") ORDER BY id", args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var cols [numCols][]byte
	cur, curN, stop := -1, 0, false
	flush := func() error {
		if cur < 0 {
			return nil
		}
		for c := range numCols {
			if need[c] && c != colCount && len(cols[c]) != curN*width(c) {
				return fmt.Errorf("import %s, chunk %d: column %s holds %d bytes for %d records", id, cur, colNames[c], len(cols[c]), curN)
			}
		}
		stop = !visit(&cols, curN)
		cols = [numCols][]byte{}
		return nil
	}
	for rows.Next() {
		var chunk, n int
		var col string
		var data []byte
		if err := rows.Scan(&chunk, &col, &n, &data); err != nil {
			return err
		}
		if chunk != cur {
			if err := flush(); err != nil || stop {
				return err
			}
			cur, curN = chunk, n
		}
		cols[colIndex[col]] = data
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return flush()
}

// colIndex is a stored column's index by its name.
var colIndex = func() map[string]int {
	m := map[string]int{}
	for c, n := range colNames {
		m[n] = c
	}
	return m
}()

// codeRecords codes a source's records as an import codes a file's rows.
func codeRecords(recs []Record) (counted, string, string, error) {
	set := counted{dict: Dictionary{Regions: []string{""}}}
	regions := map[string]uint16{"": 0}
	c := newChunk()
	var first, last string
	var v [numCols]uint32
	look := func(d Dimension, s string) uint32 {
		if k := slices.Index(codes(d), s); k > 0 {
			return uint32(k)
		}
		return 0
	}
	for _, r := range recs {
		k, ok := ICCS.Lookup(r.ICCS)
		y, m, d, okDate := parseDate(r.Date)
		if !ok || !okDate {
			return set, "", "", fmt.Errorf("record %+v: bad ICCS code or date", r)
		}
		v = [numCols]uint32{colICCS: uint32(ICCS.index[k.Code]) + 1, colYear: uint32(y), colMonth: uint32(m), colDay: uint32(d)}
		if first == "" || r.Date < first {
			first = r.Date
		}
		if r.Date > last {
			last = r.Date
		}
		for name, e := range enumCols {
			v[e.col] = look(e.dim, map[string]string{"stage": r.Stage, "unit": r.Unit, "attempt": r.Attempt, "weapon": r.Weapon, "context": r.Context,
				"cyber": r.Cyber, "victim_sex": r.VictimSex, "victim_citizenship": r.VictimCitizenship, "relationship": r.Relationship,
				"perpetrator_sex": r.PerpetratorSex, "juvenile": r.Juvenile, "perpetrator_citizenship": r.PerpetratorCitizenship, "recidivism": r.Recidivism}[name])
		}
		if r.VictimAge >= 0 && r.VictimAge <= 120 {
			v[colVictimAge] = uint32(r.VictimAge) + 1
		}
		if r.PerpetratorAge >= 0 && r.PerpetratorAge <= 120 {
			v[colPerpetratorAge] = uint32(r.PerpetratorAge) + 1
		}
		if r.Region != "" {
			g, ok := regions[r.Region]
			if !ok {
				g = uint16(len(set.dict.Regions))
				regions[r.Region] = g
				set.dict.Regions = append(set.dict.Regions, r.Region)
			}
			v[colRegion] = uint32(g)
		}
		v[colCount] = uint32(max(r.Count, 1))
		c.add(&v)
		if c.n == chunkSize {
			set.chunks = append(set.chunks, c)
			c = newChunk()
		}
	}
	if c.n > 0 {
		set.chunks = append(set.chunks, c)
	}
	return set, first, last, nil
}
