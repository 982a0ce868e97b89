package stats

import (
	"github.com/custos-project/custos/internal/i18n"
)

// Value is one value of a dimension: its code in CSV files and the API
// (lower case), its SDMX code, and its label. Index 0 of every enumerated
// dimension is "unknown" (SDMX _U), what an empty cell means.
type Value struct {
	Code  string   `json:"code"`
	SDMX  string   `json:"sdmx"`
	Label i18n.Msg `json:"label"`
}

// Dimension is one way records are broken down: an ICCS disaggregation
// tag (event, victim, perpetrator), the stage of the criminal-justice
// process, the unit counted, the ICCS category, the period or the region.
// ID names it in import files, in queries (Query.By, Query.Filter) and in
// the API; SDMX is its column in SDMX-CSV.
type Dimension struct {
	ID     string   `json:"id"`
	SDMX   string   `json:"sdmx"`
	Label  i18n.Msg `json:"label"`
	Group  string   `json:"group"`            // "event", "victim", "perpetrator", "process", "classification", "time", "place"
	Values []Value  `json:"values,omitempty"` // nil for ICCS, period, region and ages
}

func v(code, sdmx string, label i18n.Msg) Value { return Value{code, sdmx, label} }

var unknown = v("unknown", "_U", i18n.M("Unknown"))

// Stages of the criminal-justice process, as the UN-CTS questionnaire
// counts them.
const (
	StagePolice      = "police"
	StageProsecution = "prosecution"
	StageCourts      = "courts"
	StagePrisons     = "prisons"
)

// Units counted: an offence (an event), a victim, or a person (suspected,
// prosecuted, convicted or held, by the stage).
const (
	UnitOffence = "offence"
	UnitVictim  = "victim"
	UnitPerson  = "person"
)

// The enumerated dimensions, in the order of an import file's columns.
var (
	DimStage = Dimension{ID: "stage", SDMX: "STAGE", Label: i18n.M("Stage"), Group: "process", Values: []Value{unknown,
		v(StagePolice, "POL", i18n.M("Police")), v(StageProsecution, "PRO", i18n.M("Prosecution")),
		v(StageCourts, "COU", i18n.M("Courts")), v(StagePrisons, "PRI", i18n.M("Prisons"))}}
	DimUnit = Dimension{ID: "unit", SDMX: "UNIT_MEASURE", Label: i18n.M("Unit counted"), Group: "process", Values: []Value{unknown,
		v(UnitOffence, "OFF", i18n.M("Offences")), v(UnitVictim, "VIC", i18n.M("Victims")), v(UnitPerson, "PER", i18n.M("Persons"))}}
	DimAttempt = Dimension{ID: "attempt", SDMX: "ATTEMPT", Label: i18n.M("Attempted or completed"), Group: "event", Values: []Value{unknown,
		v("completed", "C", i18n.M("Completed")), v("attempted", "A", i18n.M("Attempted"))}}
	DimWeapon = Dimension{ID: "weapon", SDMX: "WEAPON", Label: i18n.M("Weapon"), Group: "event", Values: []Value{unknown,
		v("firearm", "FIRE", i18n.M("Firearm")), v("sharp_object", "SHARP", i18n.M("Sharp object")),
		v("other_weapon", "OTH", i18n.M("Other weapon")), v("none", "NONE", i18n.M("No weapon"))}}
	DimContext = Dimension{ID: "context", SDMX: "SIT_CONTEXT", Label: i18n.M("Situational context"), Group: "event", Values: []Value{unknown,
		v("intimate_partner_family", "IPFM", i18n.M("Intimate partner or family")), v("organized_crime", "OCG", i18n.M("Organized criminal group or gang")),
		v("terrorism", "TER", i18n.M("Terrorism")), v("socio_political", "SOCPOL", i18n.M("Socio-political")),
		v("other_context", "OTH", i18n.M("Other context"))}}
	DimCyber = Dimension{ID: "cyber", SDMX: "CYBER", Label: i18n.M("Cyber-related"), Group: "event", Values: []Value{unknown,
		v("yes", "Y", i18n.M("Yes")), v("no", "N", i18n.M("No"))}}
	DimVictimSex         = Dimension{ID: "victim_sex", SDMX: "VICTIM_SEX", Label: i18n.M("Victim's sex"), Group: "victim", Values: sexes}
	DimVictimCitizenship = Dimension{ID: "victim_citizenship", SDMX: "VICTIM_CITIZEN", Label: i18n.M("Victim's citizenship"), Group: "victim", Values: citizenships}
	DimRelationship      = Dimension{ID: "relationship", SDMX: "VICTIM_PERP_REL", Label: i18n.M("Relationship of victim to perpetrator"), Group: "victim", Values: []Value{unknown,
		v("intimate_partner", "IP", i18n.M("Intimate partner")), v("family_member", "FM", i18n.M("Family member")),
		v("acquaintance", "ACQ", i18n.M("Other known person")), v("stranger", "STR", i18n.M("Stranger")),
		v("authority", "AUTH", i18n.M("Person in a position of authority"))}}
	DimPerpetratorSex = Dimension{ID: "perpetrator_sex", SDMX: "PERP_SEX", Label: i18n.M("Perpetrator's sex"), Group: "perpetrator", Values: sexes}
	DimJuvenile       = Dimension{ID: "juvenile", SDMX: "PERP_JUVENILE", Label: i18n.M("Juvenile or adult perpetrator"), Group: "perpetrator", Values: []Value{unknown,
		v("adult", "ADULT", i18n.M("Adult")), v("juvenile", "JUV", i18n.M("Juvenile"))}}
	DimPerpetratorCitizenship = Dimension{ID: "perpetrator_citizenship", SDMX: "PERP_CITIZEN", Label: i18n.M("Perpetrator's citizenship"), Group: "perpetrator", Values: citizenships}
	DimRecidivism             = Dimension{ID: "recidivism", SDMX: "RECIDIVISM", Label: i18n.M("Recidivism"), Group: "perpetrator", Values: []Value{unknown,
		v("first_offender", "FIRST", i18n.M("First offender")), v("recidivist", "REC", i18n.M("Recidivist"))}}

	sexes        = []Value{unknown, v("male", "M", i18n.M("Male")), v("female", "F", i18n.M("Female"))}
	citizenships = []Value{unknown, v("national", "NAT", i18n.M("National")), v("foreign", "FOR", i18n.M("Foreign"))}
	ageBands     = []Value{unknown, v("0-14", "Y0T14", "0-14"), v("15-17", "Y15T17", "15-17"), v("18-24", "Y18T24", "18-24"),
		v("25-34", "Y25T34", "25-34"), v("35-44", "Y35T44", "35-44"), v("45-54", "Y45T54", "45-54"),
		v("55-64", "Y55T64", "55-64"), v("65+", "Y_GE65", "65+")}
)

// Derived dimensions: computed from the stored ones when a query asks for
// them. Sex and age band are those of the person counted: the victim's for
// a victim, the perpetrator's for a person (suspect, prosecuted, convicted,
// prisoner); for an offence they are unknown.
var (
	DimICCS               = Dimension{ID: "iccs", SDMX: "ICCS", Label: i18n.M("ICCS category"), Group: "classification"}
	DimPeriod             = Dimension{ID: "period", SDMX: "TIME_PERIOD", Label: i18n.M("Period"), Group: "time"}
	DimRegion             = Dimension{ID: "region", SDMX: "REF_AREA", Label: i18n.M("Region"), Group: "place"}
	DimSex                = Dimension{ID: "sex", SDMX: "SEX", Label: i18n.M("Sex"), Group: "process", Values: sexes}
	DimAgeBand            = Dimension{ID: "age_band", SDMX: "AGE", Label: i18n.M("Age band"), Group: "process", Values: ageBands}
	DimVictimAgeBand      = Dimension{ID: "victim_age_band", SDMX: "VICTIM_AGE", Label: i18n.M("Victim's age band"), Group: "victim", Values: ageBands}
	DimPerpetratorAgeBand = Dimension{ID: "perpetrator_age_band", SDMX: "PERP_AGE", Label: i18n.M("Perpetrator's age band"), Group: "perpetrator", Values: ageBands}
)

// Dimensions lists every dimension a query may break down or filter by
// (Query.By, Query.Filter), besides iccs and period, which have their own
// fields.
var Dimensions = []Dimension{DimStage, DimUnit, DimRegion, DimSex, DimAgeBand,
	DimAttempt, DimWeapon, DimContext, DimCyber,
	DimVictimSex, DimVictimAgeBand, DimVictimCitizenship, DimRelationship,
	DimPerpetratorSex, DimPerpetratorAgeBand, DimJuvenile, DimPerpetratorCitizenship, DimRecidivism}

// Dim returns the dimension of an id (iccs and period included).
func Dim(id string) (Dimension, bool) {
	switch id {
	case DimICCS.ID:
		return DimICCS, true
	case DimPeriod.ID:
		return DimPeriod, true
	}
	for _, d := range Dimensions {
		if d.ID == id {
			return d, true
		}
	}
	return Dimension{}, false
}

// AgeBand returns the band of an age in years (0 for unknown, a negative age).
func AgeBand(age int) uint8 {
	switch {
	case age < 0:
		return 0
	case age <= 14:
		return 1
	case age <= 17:
		return 2
	case age <= 24:
		return 3
	case age <= 34:
		return 4
	case age <= 44:
		return 5
	case age <= 54:
		return 6
	case age <= 64:
		return 7
	}
	return 8
}

// Juvenile is the age under which a perpetrator is a juvenile when the file
// gives an age and no juvenile column (the UN-CTS's: under 18).
const Juvenile = 18
