package stats

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/module"
)

// DemoStatistician is the name of the demo's statistician, whose token the
// demo prints.
const DemoStatistician = "Statistician, Demoland National Statistics Office"

// DemoMappingID is the demo's mapping of Demoland's penal code to the ICCS.
const DemoMappingID = "xa-penal-code"

// demoOffence is an offence of Demoland's penal code: its national code and
// title, its ICCS category, how many the police record in a year (at scale
// 1), and how its records are tagged.
type demoOffence struct {
	code, title, iccs string
	perYear           float64
	kind              int     // demoAgainstPerson, demoSexual, demoProperty, demoOther
	cleared           float64 // share of offences with a suspect identified
	attempted         float64 // share attempted (the rest completed)
	weapons           []float64
	cyber             float64
	femaleVictims     float64
	ipf               float64 // share committed by an intimate partner or family member
	organised         float64
}

const (
	demoAgainstPerson = iota
	demoSexual
	demoProperty
	demoOther
)

// demoOffences are the few dozen offences of the demo's mapping. The rates
// are Demoland's (about 1.2 million people): invented, of plausible size and
// proportion, not any real country's.
var demoOffences = []demoOffence{
	{"PC-101", "Murder", "0101", 18, demoAgainstPerson, 0.75, 0, []float64{0.1, 0.35, 0.4, 0.1, 0.05}, 0, 0.22, 0.3, 0.15},
	{"PC-102", "Attempted murder", "0102", 25, demoAgainstPerson, 0.6, 0, []float64{0.1, 0.3, 0.45, 0.1, 0.05}, 0, 0.2, 0.25, 0.12},
	{"PC-103", "Causing death by dangerous driving", "010321", 40, demoAgainstPerson, 0.9, 0, []float64{0, 0, 0, 0, 1}, 0, 0.35, 0.02, 0},
	{"PC-104", "Manslaughter by negligence", "010322", 6, demoAgainstPerson, 0.8, 0, []float64{0.2, 0, 0, 0.3, 0.5}, 0, 0.4, 0.3, 0},
	{"PC-111", "Grievous bodily harm", "020111", 420, demoAgainstPerson, 0.55, 0.08, []float64{0.15, 0.05, 0.3, 0.3, 0.2}, 0, 0.3, 0.3, 0.04},
	{"PC-112", "Common assault", "020112", 2600, demoAgainstPerson, 0.45, 0.05, []float64{0.2, 0, 0.05, 0.1, 0.65}, 0, 0.38, 0.35, 0.01},
	{"PC-113", "Threatening to kill or injure", "02012", 900, demoAgainstPerson, 0.4, 0, []float64{0.3, 0.02, 0.08, 0.05, 0.55}, 0.15, 0.45, 0.4, 0.02},
	{"PC-121", "Kidnapping", "02022", 30, demoAgainstPerson, 0.5, 0.1, []float64{0.2, 0.2, 0.2, 0.1, 0.3}, 0, 0.45, 0.3, 0.3},
	{"PC-122", "Child abduction", "02021", 12, demoAgainstPerson, 0.8, 0.2, []float64{0.3, 0, 0, 0, 0.7}, 0, 0.5, 0.8, 0},
	{"PC-131", "Trafficking in persons for sexual exploitation", "02041", 14, demoAgainstPerson, 0.5, 0, []float64{0.5, 0, 0, 0, 0.5}, 0.3, 0.85, 0.05, 0.7},
	{"PC-132", "Trafficking in persons for forced labour", "02042", 9, demoAgainstPerson, 0.45, 0, []float64{0.5, 0, 0, 0, 0.5}, 0.1, 0.35, 0.05, 0.6},
	{"PC-133", "Trafficking in persons for the removal of organs", "02043", 1, demoAgainstPerson, 0.6, 0.2, []float64{0.5, 0, 0, 0, 0.5}, 0.2, 0.4, 0, 0.8},
	{"PC-141", "Extortion", "02051", 150, demoAgainstPerson, 0.35, 0.2, []float64{0.4, 0.05, 0.05, 0.05, 0.45}, 0.4, 0.3, 0.05, 0.3},
	{"PC-142", "Stalking", "02082", 310, demoAgainstPerson, 0.6, 0, []float64{0.6, 0, 0, 0, 0.4}, 0.5, 0.8, 0.55, 0},
	{"PC-151", "Rape", "03011", 160, demoSexual, 0.5, 0.1, []float64{0.3, 0.02, 0.05, 0.05, 0.58}, 0.05, 0.93, 0.45, 0.01},
	{"PC-152", "Sexual assault", "03012", 380, demoSexual, 0.45, 0.05, []float64{0.35, 0, 0.01, 0.02, 0.62}, 0.1, 0.88, 0.35, 0},
	{"PC-153", "Sexual exploitation of a child", "03022", 70, demoSexual, 0.55, 0, []float64{0.3, 0, 0, 0, 0.7}, 0.55, 0.75, 0.3, 0.05},
	{"PC-201", "Robbery with violence", "04011", 520, demoProperty, 0.3, 0.12, []float64{0.15, 0.12, 0.3, 0.13, 0.3}, 0, 0.3, 0.01, 0.08},
	{"PC-202", "Armed robbery of a shop or bank", "04013", 60, demoProperty, 0.45, 0.15, []float64{0.1, 0.45, 0.25, 0.1, 0.1}, 0, 0.4, 0, 0.25},
	{"PC-211", "Burglary of a dwelling", "05012", 2100, demoProperty, 0.12, 0.15, nil, 0, 0.5, 0.02, 0.03},
	{"PC-212", "Burglary of business premises", "05011", 700, demoProperty, 0.15, 0.12, nil, 0, 0.3, 0, 0.05},
	{"PC-221", "Theft of a motor vehicle", "050211", 800, demoProperty, 0.1, 0.1, nil, 0, 0.4, 0, 0.08},
	{"PC-222", "Theft from a person", "05022", 3300, demoProperty, 0.08, 0.05, nil, 0.02, 0.5, 0.01, 0.01},
	{"PC-223", "Shoplifting", "05023", 2900, demoProperty, 0.6, 0.05, nil, 0, 0.4, 0, 0.01},
	{"PC-231", "Criminal damage", "0504", 2400, demoProperty, 0.15, 0, nil, 0, 0.45, 0.05, 0.01},
	{"PC-301", "Possession of drugs for personal use", "06011", 1900, demoOther, 1, 0, nil, 0, 0, 0, 0},
	{"PC-302", "Drug trafficking", "06012", 320, demoOther, 1, 0, nil, 0.1, 0, 0, 0.45},
	{"PC-401", "Fraud", "0701", 2200, demoOther, 0.18, 0.1, nil, 0.55, 0.5, 0.03, 0.05},
	{"PC-402", "Forgery of documents", "07023", 180, demoOther, 0.6, 0, nil, 0.2, 0, 0, 0.15},
	{"PC-411", "Bribery of a public official", "07031", 45, demoOther, 0.85, 0.1, nil, 0.05, 0, 0, 0.2},
	{"PC-412", "Embezzlement of public funds", "07032", 25, demoOther, 0.9, 0, nil, 0.15, 0, 0, 0.1},
	{"PC-421", "Money laundering", "07041", 40, demoOther, 0.9, 0, nil, 0.35, 0, 0, 0.55},
	{"PC-501", "Violent disorder", "08011", 230, demoOther, 0.7, 0, nil, 0, 0, 0, 0.05},
	{"PC-511", "Smuggling of migrants", "08051", 35, demoOther, 0.8, 0.05, nil, 0.05, 0, 0, 0.6},
	{"PC-601", "Unlawful possession of a firearm", "09011", 260, demoOther, 1, 0, nil, 0, 0, 0, 0.1},
	{"PC-611", "Unauthorised access to a computer system", "09031", 140, demoOther, 0.1, 0.2, nil, 1, 0.3, 0.05, 0.15},
	{"PC-701", "Illegal logging", "10041", 55, demoOther, 0.5, 0, nil, 0, 0, 0, 0.2},
	{"PC-702", "Cruelty to animals", "10091", 90, demoOther, 0.55, 0, nil, 0.02, 0, 0.1, 0},
}

// demoRegions are Demoland's regions and their share of its people.
var demoRegions = []struct {
	name  string
	share float64
}{{"Capital District", 0.34}, {"Aster Coast", 0.22}, {"Riverlands", 0.18}, {"Northern Highlands", 0.14}, {"Eastern Plains", 0.12}}

// DemoMapping is the demo's mapping table as CSV.
func DemoMapping() string {
	var b strings.Builder
	b.WriteString("national_code,national_label,iccs\n")
	for _, o := range demoOffences {
		fmt.Fprintf(&b, "%s,%s,%s\n", o.code, o.title, o.iccs)
	}
	return b.String()
}

// demoHeader is the header of the demo's records files.
const demoHeader = "offence_code,stage,unit,date,region,attempt,weapon,context,cyber,victim_sex,victim_age,relationship,perpetrator_sex,perpetrator_age,perpetrator_citizenship,recidivism"

// DemoRecords is a year of Demoland's national records as the statistics
// office receives them, one file: the offences the police recorded, their
// victims and the persons suspected, then those prosecuted, convicted and
// sent to prison, each a record of one. Deterministic for a seed and a
// scale; dates from from (inclusive) to until (exclusive).
func DemoRecords(seed uint64, year int, from, until time.Time, scale float64) []byte {
	rng := rand.New(rand.NewPCG(seed, uint64(year)))
	var b bytes.Buffer
	b.WriteString(demoHeader + "\n")
	// a gentle trend: violence falls a little each year, fraud and cyber
	// offences rise
	t := float64(year - 2020)
	days := int(until.Sub(from).Hours() / 24)
	if days <= 0 {
		return b.Bytes()
	}
	pick := func(ws []float64) int {
		x, sum := rng.Float64(), 0.0
		for i, w := range ws {
			sum += w
			if x < sum {
				return i
			}
		}
		return len(ws) - 1
	}
	regionWeights := make([]float64, len(demoRegions))
	for i, r := range demoRegions {
		regionWeights[i] = r.share
	}
	for _, o := range demoOffences {
		rate := o.perYear * scale * float64(days) / 365
		switch {
		case o.cyber > 0.3:
			rate *= 1 + 0.08*t
		case o.kind == demoAgainstPerson || o.kind == demoProperty:
			rate *= 1 - 0.025*t
		}
		n := poisson(rng, rate)
		for range n {
			day := from.AddDate(0, 0, rng.IntN(days))
			date := day.Format("2006-01-02")
			region := demoRegions[pick(regionWeights)].name
			attempt := "completed"
			if rng.Float64() < o.attempted {
				attempt = "attempted"
			}
			weapon := ""
			if o.weapons != nil {
				weapon = []string{"unknown", "firearm", "sharp_object", "other_weapon", "none"}[pick(o.weapons)]
				if rng.Float64() < 0.1 {
					weapon = "unknown"
				}
			}
			situation := "other_context"
			switch x := rng.Float64(); {
			case x < o.ipf:
				situation = "intimate_partner_family"
			case x < o.ipf+o.organised:
				situation = "organized_crime"
			case x > 0.92:
				situation = "unknown"
			}
			cyber := "no"
			if rng.Float64() < o.cyber {
				cyber = "yes"
			}
			row := func(stage, unit, date, vsex, vage, rel, psex, page, pcit, rec string) {
				fmt.Fprintf(&b, "%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", o.code, stage, unit, date, region, attempt, weapon, situation, cyber,
					vsex, vage, rel, psex, page, pcit, rec)
			}
			row(StagePolice, UnitOffence, date, "", "", "", "", "", "", "")
			if o.kind != demoOther || o.femaleVictims > 0 {
				victims := 1
				if rng.Float64() < 0.08 {
					victims = 2
				}
				for range victims {
					sex := "male"
					if rng.Float64() < o.femaleVictims {
						sex = "female"
					}
					age := demoAge(rng, o.kind == demoSexual)
					rel := "stranger"
					switch x := rng.Float64(); {
					case situation == "intimate_partner_family" && x < 0.6:
						rel = "intimate_partner"
					case situation == "intimate_partner_family":
						rel = "family_member"
					case x < 0.35:
						rel = "acquaintance"
					case x < 0.45:
						rel = "unknown"
					}
					row(StagePolice, UnitVictim, date, sex, strconv.Itoa(age), rel, "", "", "", "")
				}
			}
			if rng.Float64() >= o.cleared {
				continue
			}
			// the person suspected, and how far the case goes
			psex := "male"
			if rng.Float64() < 0.16 {
				psex = "female"
			}
			page := demoPerpetratorAge(rng)
			pcit := "national"
			if rng.Float64() < 0.11 {
				pcit = "foreign"
			}
			rec := "first_offender"
			if rng.Float64() < 0.32 {
				rec = "recidivist"
			}
			ages := strconv.Itoa(page)
			later := func(months int) (string, bool) {
				d := day.AddDate(0, months+rng.IntN(3), rng.IntN(28))
				return d.Format("2006-01-02"), d.Before(until)
			}
			row(StagePolice, UnitPerson, date, "", "", "", psex, ages, pcit, rec)
			if rng.Float64() > 0.62 {
				continue
			}
			d, ok := later(2)
			if !ok {
				continue
			}
			row(StageProsecution, UnitPerson, d, "", "", "", psex, ages, pcit, rec)
			if rng.Float64() > 0.74 {
				continue
			}
			if d, ok = later(6); !ok {
				continue
			}
			row(StageCourts, UnitPerson, d, "", "", "", psex, ages, pcit, rec)
			serious := o.kind == demoAgainstPerson || o.kind == demoSexual || o.iccs == "06012" || o.iccs == "04013"
			if !serious || rng.Float64() > 0.55 {
				continue
			}
			if d, ok = later(7); ok {
				row(StagePrisons, UnitPerson, d, "", "", "", psex, ages, pcit, rec)
			}
		}
	}
	return b.Bytes()
}

// demoAge is a victim's age: young adults most often, children more often
// for sexual offences.
func demoAge(rng *rand.Rand, sexual bool) int {
	if sexual && rng.Float64() < 0.3 {
		return 6 + rng.IntN(12)
	}
	a := int(18 + rng.ExpFloat64()*16)
	if rng.Float64() < 0.07 {
		a = 10 + rng.IntN(8)
	}
	return min(a, 95)
}

// demoPerpetratorAge: offending peaks in the late teens and early
// twenties.
func demoPerpetratorAge(rng *rand.Rand) int {
	a := int(14 + rng.ExpFloat64()*13)
	return min(a, 85)
}

// poisson draws a count with mean m (normal approximation above 50).
func poisson(rng *rand.Rand, m float64) int {
	if m > 50 {
		return max(0, int(m+rng.NormFloat64()*math.Sqrt(m)+0.5))
	}
	l, k, p := math.Exp(-m), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// Demo adds the statistics registry's part of the Demoland demo: the
// national statistics office and its statistician, the mapping of
// Demoland's penal code to the ICCS, and Demoland's national records of
// every year of the demo (the last one up to the month before the demo is
// made), imported through Import as a statistician would, one file a year.
// The transplant registry's trafficking reports referred to the police are
// counted beside them (ICCS 02043) with no import.
func Demo(ctx context.Context, d *module.Demo) error {
	s, ok := d.Service.(*Service)
	if !ok {
		return fmt.Errorf("the stats demo needs the *stats.Service the server opened, got %T", d.Service)
	}
	office, err := d.Authorities.CreateAuthority(ctx, d.Admin, auth.NewAuthority{Name: "Demoland National Statistics Office", City: "Port Aster", Kind: KindStatisticsOffice})
	if err != nil {
		return err
	}
	p, err := d.Principal(ctx, DemoStatistician, RoleStatistician, office.ID)
	if err != nil {
		return err
	}
	rows, err := ParseMapping(strings.NewReader(DemoMapping()))
	if err != nil {
		return err
	}
	if _, err := s.PublishMapping(ctx, p, NewMapping{ID: DemoMappingID, Name: "Demoland Penal Code 2019", Rows: rows}); err != nil {
		return err
	}
	var imports, records int64
	end := d.Start.AddDate(d.Years, 0, 0)
	end = time.Date(end.Year(), end.Month(), 1, 0, 0, 0, 0, time.UTC)
	// the office imports the records once the last month has ended
	if at := end.Add(9 * time.Hour); d.Clock().Before(at) {
		d.SetClock(at)
	}
	for y := d.Start.Year(); y <= end.Year(); y++ {
		from, until := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(y+1, 1, 1, 0, 0, 0, 0, time.UTC)
		if first := time.Date(d.Start.Year(), d.Start.Month(), 1, 0, 0, 0, 0, time.UTC); from.Before(first) {
			from = first
		}
		if until.After(end) {
			until = end
		}
		if !until.After(from) {
			continue
		}
		file := DemoRecords(d.Seed, y, from, until, d.Scale)
		im, err := s.Import(ctx, p, ImportRequest{Source: fmt.Sprintf("demoland-records-%d.csv", y), Mapping: DemoMappingID}, bytes.NewReader(file), int64(len(file)), nil)
		if err != nil {
			return fmt.Errorf("import the records of %d: %w", y, err)
		}
		imports++
		records += im.Records
	}
	d.Progress(fmt.Sprintf("demo: statistics: %d national offence codes mapped to the ICCS, %d years of national records imported (%d records)", len(demoOffences), imports, records))
	return nil
}
