package stats

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
)

// ImportColumn is a column of a national records file.
type ImportColumn struct {
	Name string `json:"name"`
	// Required: the file must have it; then every row gives a value.
	Required bool   `json:"required,omitempty"`
	Doc      string `json:"doc"`
	// Values are the codes an enumerated column takes (an empty cell and
	// "unknown" are unknown).
	Values []string `json:"values,omitempty"`
}

// ImportColumns are the columns a national records file may have, in any
// order, with a header line naming them. Either offence_code (the
// national code, read with the import's mapping) or iccs (a category
// coded already) is given, not both.
var ImportColumns = func() []ImportColumn {
	cols := []ImportColumn{
		{Name: "offence_code", Doc: "the national offence code, mapped to the ICCS by the import's mapping"},
		{Name: "iccs", Doc: "the ICCS category (any level), for data coded already; instead of offence_code"},
		{Name: "stage", Required: true, Doc: "the stage that counted the record", Values: codes(DimStage)[1:]},
		{Name: "unit", Required: true, Doc: "what the record counts: an offence, a victim (police only) or a person suspected, prosecuted, convicted or held", Values: codes(DimUnit)[1:]},
		{Name: "date", Required: true, Doc: "when the offence took place (police) or the stage counted it: YYYY, YYYY-MM or YYYY-MM-DD"},
		{Name: "region", Doc: "the region (the country's own codes, up to 64 characters)"},
		{Name: "count", Doc: "how many units the row stands for, 1 when absent (1 to 1,000,000,000)"},
		{Name: "victim_age", Doc: "the victim's age in years, 0 to 120"},
		{Name: "perpetrator_age", Doc: "the perpetrator's age in years, 0 to 120; juvenile follows from it (under 18) when not given"},
	}
	for _, d := range []Dimension{DimAttempt, DimWeapon, DimContext, DimCyber, DimVictimSex, DimVictimCitizenship, DimRelationship,
		DimPerpetratorSex, DimJuvenile, DimPerpetratorCitizenship, DimRecidivism} {
		cols = append(cols, ImportColumn{Name: d.ID, Doc: d.Label, Values: codes(d)})
	}
	return cols
}()

func codes(d Dimension) []string {
	out := make([]string, len(d.Values))
	for i, v := range d.Values {
		out[i] = v.Code
	}
	return out
}

// enumCols are the enumerated columns of a file and the stored column
// each fills.
var enumCols = map[string]struct {
	col int
	dim Dimension
}{
	"stage": {colStage, DimStage}, "unit": {colUnit, DimUnit}, "attempt": {colAttempt, DimAttempt}, "weapon": {colWeapon, DimWeapon},
	"context": {colContext, DimContext}, "cyber": {colCyber, DimCyber}, "victim_sex": {colVictimSex, DimVictimSex},
	"victim_citizenship": {colVictimCitizenship, DimVictimCitizenship}, "relationship": {colRelationship, DimRelationship},
	"perpetrator_sex": {colPerpetratorSex, DimPerpetratorSex}, "juvenile": {colJuvenile, DimJuvenile},
	"perpetrator_citizenship": {colPerpetratorCitizenship, DimPerpetratorCitizenship}, "recidivism": {colRecidivism, DimRecidivism},
}

// codeMap is a mapping version as the parser reads it: national code to
// the ICCS category's index plus one, 0 for a code mapped ambiguously.
type codeMap struct {
	id      string
	version int
	codes   map[string]uint16
	targets map[string][]string // of the ambiguous codes
}

// MaxDictionary is the most distinct regions, and national offence codes,
// one file may hold.
const MaxDictionary = 65535

// parsed is what a file held.
type parsed struct {
	records, total      int64
	first, last         string
	dict                Dictionary
	unmapped, ambiguous map[string]int
	// digest is the records' multiset digest: two sums, over every record,
	// of two 64-bit hashes of the record's codes, its region and national
	// offence code taken by their text (a dictionary index depends on the
	// order of the rows). The same records give the same digest whatever
	// the file's line endings, quoting, column order or row order.
	digest [2]uint64
}

// Digest is the records' digest as stored (records_digest): 32 hex digits.
func (p *parsed) Digest() string { return fmt.Sprintf("%016x%016x", p.digest[0], p.digest[1]) }

// addRecord adds a record's hashes to the digest. regionHash and
// offenceHash are the hashes of the dictionary's texts by index.
func (p *parsed) addRecord(v *[numCols]uint32, regionHash, offenceHash []uint64) {
	// The codes two to a word, the texts' hashes a word each: 12 words,
	// each mixed into both lanes.
	var words [(numCols-2+1)/2 + 2]uint64
	n, half := 0, false
	for i, x := range v {
		if i == colRegion || i == colOffence {
			continue
		}
		if half {
			words[n] |= uint64(x) << 32
			n++
		} else {
			words[n] = uint64(x)
		}
		half = !half
	}
	if half {
		n++
	}
	words[n] = regionHash[v[colRegion]]
	if len(offenceHash) > 0 {
		words[n+1] = offenceHash[v[colOffence]]
	}
	a, b := uint64(0x9e3779b97f4a7c15), uint64(0xc2b2ae3d27d4eb4f)
	for _, w := range words {
		a = mix64(a ^ w)
		b = mix64(b + w)
	}
	p.digest[0] += a
	p.digest[1] += b
}

// mix64 is SplitMix64's finalizer: a fixed, well-spread 64-bit mixing.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// textHash is a stable 64-bit hash of a dictionary's text (FNV-1a, mixed).
func textHash(s string) uint64 {
	h := uint64(0xcbf29ce484222325)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 0x100000001b3
	}
	return mix64(h)
}

// parser reads a records file row by row into chunks.
type parser struct {
	m        *codeMap // nil: the file gives iccs
	now      string   // today, YYYY-MM-DD
	report   bool     // CheckCodes: count unmapped and ambiguous codes rather than refuse them
	emit     func(*chunk) error
	progress func(n int64)

	idx     map[string]int // column name -> position
	regions map[string]uint16
	offence map[string]uint16
	// regionHash and offenceHash are textHash of the dictionary's texts,
	// by index, for the records' digest.
	regionHash, offenceHash []uint64
	enums                   [][2]int // (position, stored column) of the enumerated columns given
	lookup                  map[int]map[string]uint8
	out                     parsed
}

func (p *parser) header(h []string) error {
	p.idx = map[string]int{}
	known := map[string]bool{}
	for _, c := range ImportColumns {
		known[c.Name] = true
	}
	for i, name := range h {
		name = strings.TrimSpace(name)
		if i == 0 {
			name = strings.TrimPrefix(name, "\ufeff")
		}
		if !known[name] {
			return errs.Invalidf("column", "header", "\"%s\" is not a column of a records file (docs/stats.md lists them)", errs.Echo(name, errs.MaxEchoed))
		}
		if _, dup := p.idx[name]; dup {
			return errs.Invalidf("column", name, "the column %s is given twice", name)
		}
		p.idx[name] = i
	}
	for _, c := range ImportColumns {
		if _, ok := p.idx[c.Name]; c.Required && !ok {
			return errs.Invalidf("column", c.Name, "the file has no column %s", c.Name)
		}
	}
	_, byCode := p.idx["offence_code"]
	_, byICCS := p.idx["iccs"]
	switch {
	case byCode == byICCS:
		return errs.Invalidf("column", "offence_code", "a records file gives either offence_code (read with a mapping) or iccs, one of them")
	case byCode && p.m == nil:
		return errs.Invalidf("required", "mapping", "the file gives national offence codes: name the mapping to read them with")
	case byICCS && p.m != nil:
		return errs.Invalidf("mapping", "mapping", "the file gives ICCS categories: it is read without a mapping")
	}
	p.lookup = map[int]map[string]uint8{}
	for name, e := range enumCols {
		i, ok := p.idx[name]
		if !ok {
			continue
		}
		p.enums = append(p.enums, [2]int{i, e.col})
		m := map[string]uint8{"": 0}
		for k, v := range e.dim.Values {
			m[v.Code] = uint8(k)
		}
		p.lookup[e.col] = m
	}
	p.regions, p.offence = map[string]uint16{"": 0}, map[string]uint16{}
	p.out.dict = Dictionary{Regions: []string{""}}
	p.regionHash, p.offenceHash = []uint64{textHash("")}, nil
	p.out.unmapped, p.out.ambiguous = map[string]int{}, map[string]int{}
	return nil
}

func (p *parser) cell(row []string, name string) (string, bool) {
	i, ok := p.idx[name]
	if !ok {
		return "", false
	}
	return strings.TrimSpace(row[i]), true
}

// parseDate reads YYYY, YYYY-MM or YYYY-MM-DD from 1900 on.
func parseDate(s string) (y, m, d int, ok bool) {
	var t time.Time
	var err error
	switch len(s) {
	case 4:
		t, err = time.Parse("2006", s)
	case 7:
		t, err = time.Parse("2006-01", s)
		m = 1
	case 10:
		t, err = time.Parse(check.DateLayout, s)
		m, d = 1, 1
	default:
		return 0, 0, 0, false
	}
	if err != nil || t.Year() < 1900 || t.Year() > 9999 {
		return 0, 0, 0, false
	}
	if m > 0 {
		m = int(t.Month())
	}
	if d > 0 {
		d = t.Day()
	}
	return t.Year(), m, d, true
}

func age(s string) (uint32, bool) {
	if s == "" || s == "unknown" {
		return 0, true
	}
	n, ok := check.Whole(s, 120) // digits alone: +5 or 0005 is no age
	if !ok {
		return 0, false
	}
	return uint32(n) + 1, true
}

// row validates and codes one row (line n) into v.
func (p *parser) row(n int, row []string, v *[numCols]uint32) error {
	*v = [numCols]uint32{}
	if code, ok := p.cell(row, "offence_code"); ok {
		if code == "" {
			return errs.Invalidf("required", "offence_code", "line %d: offence_code is required", n)
		}
		k, mapped := p.m.codes[code]
		switch {
		case !mapped && p.report:
			p.out.unmapped[code]++
		case !mapped:
			return errs.Invalidf("unmapped_offence", "offence_code", "line %d: offence code %s is not in mapping %s version %d", n, errs.Echo(code, errs.MaxEchoed), p.m.id, p.m.version)
		case k == 0 && p.report:
			p.out.ambiguous[code]++
		case k == 0:
			return errs.Invalidf("ambiguous_offence", "offence_code", "line %d: offence code %s is mapped to several ICCS categories in mapping %s version %d (%s)",
				n, code, p.m.id, p.m.version, strings.Join(p.m.targets[code], ", "))
		}
		v[colICCS] = uint32(k)
		o, seen := p.offence[code]
		if !seen {
			if len(p.offence) >= MaxDictionary {
				return errs.Invalidf("too_many", "offence_code", "line %d: a file holds at most %d distinct offence codes", n, MaxDictionary)
			}
			if _, err := check.Line("offence_code", code, 64, true); err != nil {
				return errs.Invalidf(rule(err), "offence_code", "line %d: offence_code is not a code of one line, up to 64 characters", n)
			}
			o = uint16(len(p.offence))
			p.offence[code] = o
			p.out.dict.Offences = append(p.out.dict.Offences, code)
			p.offenceHash = append(p.offenceHash, textHash(code))
		}
		v[colOffence] = uint32(o)
	} else {
		code, _ := p.cell(row, "iccs")
		if code == "" {
			return errs.Invalidf("required", "iccs", "line %d: iccs is required", n)
		}
		k, ok := ICCS.Lookup(code)
		if !ok {
			return errs.Invalidf("iccs_code", "iccs", "line %d: %s is not an ICCS code (version %s)", n, errs.Echo(code, errs.MaxEchoed), ICCS.Version)
		}
		v[colICCS] = uint32(ICCS.index[k.Code]) + 1
	}
	for _, e := range p.enums {
		s := strings.TrimSpace(row[e[0]])
		k, ok := p.lookup[e[1]][s]
		if !ok {
			name := colNames[e[1]]
			allowed := enumCols[name].dim.Codes()
			if e[1] == colStage || e[1] == colUnit {
				// Required: unknown (the first code) is refused.
				allowed = allowed[1:]
			}
			return errs.Invalidf("enum", name, "line %d: %s must be one of %s", n, name, strings.Join(allowed, ", "))
		}
		v[e[1]] = uint32(k)
	}
	if v[colStage] == 0 {
		return errs.Invalidf("required", "stage", "line %d: stage is required", n)
	}
	if v[colUnit] == 0 {
		return errs.Invalidf("required", "unit", "line %d: unit is required", n)
	}
	if DimUnit.Values[v[colUnit]].Code == UnitVictim && DimStage.Values[v[colStage]].Code != StagePolice {
		return errs.Invalidf("victim_stage", "unit", "line %d: victims are counted at the police stage only", n)
	}
	// Offences too, as the UN-CTS counts them: the stages after count the
	// persons prosecuted, convicted or held.
	if DimUnit.Values[v[colUnit]].Code == UnitOffence && DimStage.Values[v[colStage]].Code != StagePolice {
		return errs.Invalidf("offence_stage", "unit", "line %d: offences are counted at the police stage only; the stages after count persons", n)
	}
	date, _ := p.cell(row, "date")
	y, m, d, ok := parseDate(date)
	if !ok {
		return errs.Invalidf("date_format", "date", "line %d: date must be written YYYY, YYYY-MM or YYYY-MM-DD, from 1900 on", n)
	}
	if date > p.now[:len(date)] {
		return errs.Invalidf("not_future", "date", "line %d: date %s is in the future", n, date)
	}
	v[colYear], v[colMonth], v[colDay] = uint32(y), uint32(m), uint32(d)
	if p.out.first == "" || date < p.out.first {
		p.out.first = date
	}
	if date > p.out.last {
		p.out.last = date
	}
	if region, ok := p.cell(row, "region"); ok && region != "unknown" {
		k, seen := p.regions[region]
		if !seen {
			if len(p.regions) > MaxDictionary {
				return errs.Invalidf("too_many", "region", "line %d: a file holds at most %d distinct regions", n, MaxDictionary)
			}
			if _, err := check.Line("region", region, 64, false); err != nil {
				return errs.Invalidf(rule(err), "region", "line %d: region is not a code of one line, up to 64 characters", n)
			}
			k = uint16(len(p.out.dict.Regions))
			p.regions[region] = k
			p.out.dict.Regions = append(p.out.dict.Regions, region)
			p.regionHash = append(p.regionHash, textHash(region))
		}
		v[colRegion] = uint32(k)
	}
	v[colCount] = 1
	if c, ok := p.cell(row, "count"); ok && c != "" {
		k, ok := check.Whole(c, 1_000_000_000) // digits alone: +5 or " 5" is refused
		if !ok || k < 1 {
			return errs.Invalidf("range", "count", "line %d: count must be a whole number from 1 to 1000000000", n)
		}
		v[colCount] = uint32(k)
	}
	for _, a := range []struct {
		name string
		col  int
	}{{"victim_age", colVictimAge}, {"perpetrator_age", colPerpetratorAge}} {
		s, _ := p.cell(row, a.name)
		k, ok := age(s)
		if !ok {
			return errs.Invalidf("range", a.name, "line %d: %s must be a whole number of years from 0 to 120", n, a.name)
		}
		v[a.col] = k
	}
	if a := v[colPerpetratorAge]; a > 0 {
		juvenile := uint32(1) // adult
		if a-1 < Juvenile {
			juvenile = 2
		}
		if v[colJuvenile] != 0 && v[colJuvenile] != juvenile {
			return errs.Invalidf("juvenile_age", "juvenile", "line %d: juvenile is %s but perpetrator_age is %d", n, DimJuvenile.Values[v[colJuvenile]].Code, a-1)
		}
		v[colJuvenile] = juvenile
	}
	return nil
}

// Codes are the codes of the dimension's values, unknown first.
func (d Dimension) Codes() []string { return codes(d) }

func rule(err error) string {
	if e, ok := errs.As(err); ok {
		return e.Rule
	}
	return "invalid"
}

// MaxRecordBytes is the most one record of a CSV file the registry reads
// (a records file, a mapping) may take: a line, or the lines of a quoted
// field. A record of national statistics is a few hundred bytes.
const MaxRecordBytes = 64 << 10

// countingReader counts the bytes read through it, and refuses to read on
// once more than MaxRecordBytes have come since the end of the last record
// (mark, which the parser moves after each): encoding/csv keeps a record
// whole in memory, so a file with no newline, or a quote never closed,
// would otherwise be held whole, gigabytes of it (rule line_size).
type countingReader struct {
	r    io.Reader
	n    int64
	mark int64 // the offset where the record being read starts
	line int   // the line it starts on
}

func (c *countingReader) Read(b []byte) (int, error) {
	if c.n-c.mark > MaxRecordBytes {
		return 0, errs.Invalidf("line_size", "file", "line %d: a record is over %d bytes: is this a CSV file with one record a line?", c.line, MaxRecordBytes)
	}
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}

// next moves the mark to the end of the record cs read last, rec.
func (c *countingReader) next(cs *csv.Reader, rec []string) {
	c.mark = cs.InputOffset()
	line, _ := cs.FieldPos(max(len(rec)-1, 0))
	c.line = line + 1
}

// newCSV reads r as CSV through a countingReader that bounds its records.
func newCSV(r io.Reader) (*csv.Reader, *countingReader) {
	cr := &countingReader{r: r, line: 1}
	return csv.NewReader(cr), cr
}

// parse reads a whole file. It stops at the first bad row, naming its
// line, field and rule.
func (p *parser) parse(r io.Reader) (*parsed, error) {
	cs, cr := newCSV(r)
	cs.ReuseRecord = true
	cs.FieldsPerRecord = 0
	h, err := cs.Read()
	if err == io.EOF {
		return nil, errs.Invalidf("empty_file", "file", "the file is empty: it needs a header line and records")
	}
	if err != nil {
		return nil, csvErr(err)
	}
	cr.next(cs, h)
	if err := p.header(append([]string(nil), h...)); err != nil {
		return nil, err
	}
	c := newChunk()
	var v [numCols]uint32
	for {
		row, err := cs.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvErr(err)
		}
		cr.next(cs, row)
		line, _ := cs.FieldPos(0)
		if len(row) == 1 && row[0] == "" {
			continue
		}
		if err := p.row(line, row, &v); err != nil {
			return nil, err
		}
		c.add(&v)
		if !p.report { // CheckCodes stores nothing: no digest to keep
			p.out.addRecord(&v, p.regionHash, p.offenceHash)
		}
		p.out.records++
		p.out.total += int64(v[colCount])
		if c.n == chunkSize {
			if err := p.flush(c); err != nil {
				return nil, err
			}
			if p.progress != nil {
				p.progress(cr.n)
			}
		}
	}
	if c.n > 0 {
		if err := p.flush(c); err != nil {
			return nil, err
		}
	}
	if p.progress != nil {
		p.progress(cr.n)
	}
	if p.out.records == 0 && !p.report {
		return nil, errs.Invalidf("empty_file", "file", "the file is empty: it needs a header line and records")
	}
	return &p.out, nil
}

func (p *parser) flush(c *chunk) error {
	if p.emit != nil && !p.report {
		if err := p.emit(c); err != nil {
			return err
		}
	}
	c.reset()
	return nil
}

func csvErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return errs.Invalidf("csv", "file", "line %d: the CSV cannot be read: %v", pe.Line, pe.Err)
	}
	return err
}
