// Package statstest makes national records files for the statistics
// registry's tests and benchmarks: deterministic, with every tag used, a
// mapping of national codes to ICCS categories at every level, and counts
// a test can compute back from the file itself.
package statstest

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
)

// Mapping is a national mapping table as CSV: codes N001... mapped to
// categories of every level.
const Mapping = `national_code,national_label,iccs
N001,Murder,0101
N002,Attempted murder,0102
N003,Assault,02011
N004,Serious assault,020111
N005,Threat,02012
N006,Trafficking in persons for organ removal,02043
N007,Trafficking in persons for sexual exploitation,02041
N008,Rape,030111
N009,Robbery,0401
N010,Burglary,0501
N011,Theft of a motor vehicle,050211
N012,Fraud,0701
N013,Drug trafficking,06011
N014,Bribery,0703
N015,Money laundering,07041
N016,Other acts,11
`

// Codes are the national codes of Mapping.
var Codes = []string{"N001", "N002", "N003", "N004", "N005", "N006", "N007", "N008", "N009", "N010", "N011", "N012", "N013", "N014", "N015", "N016"}

// Header is the header of the files Write makes.
const Header = "offence_code,stage,unit,date,region,count,attempt,weapon,context,cyber,victim_sex,victim_age,victim_citizenship,relationship,perpetrator_sex,perpetrator_age,juvenile,perpetrator_citizenship,recidivism"

var (
	stages   = []string{"police", "prosecution", "courts", "prisons"}
	units    = []string{"offence", "victim", "person"}
	attempts = []string{"", "completed", "attempted"}
	weapons  = []string{"", "firearm", "sharp_object", "other_weapon", "none"}
	contexts = []string{"", "intimate_partner_family", "organized_crime", "terrorism", "socio_political", "other_context"}
	yesno    = []string{"", "yes", "no"}
	sexes    = []string{"", "male", "female"}
	cits     = []string{"", "national", "foreign"}
	rels     = []string{"", "intimate_partner", "family_member", "acquaintance", "stranger", "authority"}
	recs     = []string{"", "first_offender", "recidivist"}
	regions  = []string{"", "North", "South", "East", "West", "Capital"}
)

// Options shape a file.
type Options struct {
	Seed uint64
	// Years the dates fall in, from FirstYear.
	FirstYear, Years int
	// Counts: when set, about one row in ten counts 2 to 9 units.
	Counts bool
	// Stage and Unit, when set, are every row's (a benchmark that counts
	// every record it reads).
	Stage, Unit string
}

// Write writes n rows of a records file (with Header) to w.
func Write(w io.Writer, n int, o Options) error {
	if o.Years == 0 {
		o.FirstYear, o.Years = 2021, 3
	}
	r := rand.New(rand.NewPCG(o.Seed, 19))
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.WriteString(Header + "\n")
	pick := func(l []string) string { return l[r.IntN(len(l))] }
	var b []byte
	for range n {
		b = b[:0]
		stage := pick(stages)
		unit := pick(units)
		if o.Stage != "" {
			stage, unit = o.Stage, o.Unit
		}
		if unit != "person" && stage != "police" { // offences and victims are counted by the police alone
			unit = "person"
		}
		y := o.FirstYear + r.IntN(o.Years)
		var date string
		switch r.IntN(10) {
		case 0:
			date = strconv.Itoa(y)
		case 1:
			date = fmt.Sprintf("%04d-%02d", y, 1+r.IntN(12))
		default:
			date = fmt.Sprintf("%04d-%02d-%02d", y, 1+r.IntN(12), 1+r.IntN(28))
		}
		count := ""
		if o.Counts && r.IntN(10) == 0 {
			count = strconv.Itoa(2 + r.IntN(8))
		}
		vage, page, juv := "", "", ""
		if r.IntN(8) > 0 {
			vage = strconv.Itoa(r.IntN(90))
		}
		switch r.IntN(8) {
		case 0:
			juv = pick([]string{"", "adult", "juvenile"})
		default:
			a := 12 + r.IntN(70)
			page = strconv.Itoa(a)
			if r.IntN(4) == 0 {
				juv = "adult"
				if a < 18 {
					juv = "juvenile"
				}
			}
		}
		for i, f := range []string{pick(Codes), stage, unit, date, pick(regions), count, pick(attempts), pick(weapons), pick(contexts), pick(yesno),
			pick(sexes), vage, pick(cits), pick(rels), pick(sexes), page, juv, pick(cits), pick(recs)} {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, f...)
		}
		b = append(b, '\n')
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	return bw.Flush()
}
