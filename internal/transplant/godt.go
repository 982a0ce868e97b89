package transplant

import (
	"context"
	"fmt"
	"iter"
	"maps"
	"math"
	"net/url"
	"slices"
	"strconv"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/store"
)

// ---- GODT annual report (resolution VI, para 6 j) ----
//
// The quantitative part of the WHO Global Observatory on Donation and
// Transplantation questionnaire for the registry's country and a year, under
// the GODT export's own field names, counted from the registry's tables by
// the GODT's rules:
//
//   - donors are counted in the year of their donation: an actual
//     deceased donor is one (DBD or DCD) from whom at least one organ was
//     recovered for transplantation, counted once in the year of their first
//     procurement, a utilized one a deceased donor from whom at least one
//     organ was transplanted; living donors are those from whom an organ was
//     recovered, in the year of each procurement;
//   - transplants are counted in the year they were performed, one per
//     procedure and organ type: a double kidney, en-bloc kidneys or a double
//     lung is one transplant; a kidney-pancreas counts as one kidney, one
//     pancreas (pancreas_tx includes it) and one kidney_pancreas_tx; a
//     heart-lung counts as one heart, one lung and one heart_lung_tx; a
//     liver-kidney as one liver and one kidney;
//   - by donor type: deceased (dd_), living (ld_), and the domino liver
//     (domino_liver_tx: a liver explanted from a recipient and transplanted
//     into another).

// GODTFields are the report's fields in the order of the export. Three are
// not among the GODT export's own names and say so in the docs:
// living_donors, heart_lung_tx and travel.
var GODTFields = []string{
	"total_actual_dd", "actual_dbd", "actual_dcd",
	"total_utilized_dd", "utilized_dbd", "utilized_dcd",
	"living_donors",
	"dd_kidney_tx", "ld_kidney_tx", "total_kidney_tx",
	"dd_liver_tx", "domino_liver_tx", "ld_liver_tx", "total_liver_tx",
	"total_heart_tx", "heart_lung_tx",
	"dd_lung_tx", "ld_lung_tx", "total_lung_tx",
	"pancreas_tx", "kidney_pancreas_tx", "small_bowel_tx",
	"travel",
}

// GODTFigure is one field of the report: its count and the count per
// million population (two decimals). Value is nil when the registry holds
// no data for the field (travel, until residents' transplants abroad are
// recorded).
type GODTFigure struct {
	Field      string   `json:"field"`
	Value      *int64   `json:"value"`
	PerMillion *float64 `json:"per_million"`
}

// GODTReport is the report for a country and year.
type GODTReport struct {
	Country    string       `json:"country"`
	Year       int          `json:"year"`
	Population int64        `json:"population"`
	Figures    []GODTFigure `json:"figures"`
}

// Value returns the count of field (0 when absent or unknown).
func (r *GODTReport) Value(field string) int64 {
	for _, f := range r.Figures {
		if f.Field == field && f.Value != nil {
			return *f.Value
		}
	}
	return 0
}

// GODTQuery is what a report is asked for: the country (the registry's
// jurisdiction), the year and the population of the country that year.
type GODTQuery struct {
	Country    string
	Year       int
	Population int64
}

// GODTQueryOf reads a report's query parameters: country, year and
// population, each required; any other parameter is refused.
func GODTQueryOf(q url.Values) (GODTQuery, error) {
	for _, name := range slices.Sorted(maps.Keys(q)) {
		switch name {
		case "country", "year", "population":
		default:
			name = errs.Echo(name, errs.MaxEchoed)
			return GODTQuery{}, errs.Invalidf("query", name, "the GODT report takes country, year and population, not %s", name)
		}
	}
	var g GODTQuery
	g.Country = q.Get("country")
	if g.Country == "" {
		return g, errs.Invalidf("required", "country", "%s is required", "country")
	}
	y, err := strconv.Atoi(q.Get("year"))
	if err != nil {
		return g, errs.Invalidf("godt_year", "year", "year is a year from 1990 on, like 2025")
	}
	g.Year = y
	pop, err := strconv.ParseInt(q.Get("population"), 10, 64)
	if err != nil {
		return g, errs.Invalidf("godt_population", "population", "population is the country's population that year, a whole number from 1 to 10,000,000,000")
	}
	g.Population = pop
	return g, nil
}

// godtDonorsSQL counts the donors of a year by kind: those with a donation
// in it, and those of them with an organ transplanted. A living donor's
// procurement is a donation of its own; a deceased donor's donation is their
// first procurement (in the log's order, as donationOf and the dashboards
// read it), so a donation whose procurements straddle 31 December counts
// once, in the year of the first, and is utilized there when an organ of any
// of its procurements was transplanted. It reads the year's rows of the
// covering index godt_donations_year (reportrows.go), and for a deceased
// donor's row the donor's other procurements by procurements_donor (one or
// two), and the row's own log index only when there is another: the cost
// grows with the year's procurements, not the registry (joining the
// procurements instead made PostgreSQL read them all, BENCHMARKS.md).
const godtDonorsSQL = `SELECT g.donor_kind, COUNT(DISTINCT g.donor_id), COUNT(DISTINCT CASE WHEN g.utilized = 1 OR (` + godtDeceased + ` AND EXISTS (
		SELECT 1 FROM procurements f JOIN godt_donations u ON u.id = f.id WHERE f.donor_id = g.donor_id AND u.utilized = 1)) THEN g.donor_id END)
	FROM godt_donations g
	WHERE g.year = ? AND NOT (` + godtDeceased + ` AND EXISTS (SELECT 1 FROM procurements f
		WHERE f.donor_id = g.donor_id AND f.id <> g.id AND (f.log_index, f.id) < (SELECT p.log_index, p.id FROM procurements p WHERE p.id = g.id)))
	GROUP BY g.donor_kind`

const godtDeceased = `g.donor_kind IN ('` + DonorBrainDeath + `', '` + DonorCirculatoryDeath + `')`

// godtTransplantsSQL counts the transplants of a year by organ type, donor
// kind and procedure kind, one per procedure and organ type (a row of
// godt_transplants each). It reads the year's rows of the covering index
// godt_transplants_year, in the order it groups them: no sort.
const godtTransplantsSQL = `SELECT organ, donor_kind, procedure_kind, COUNT(*)
	FROM godt_transplants WHERE year = ?
	GROUP BY organ, donor_kind, procedure_kind`

// GODT counts the report of q, for the regulator and the auditor. It is
// refused for a country other than the registry's jurisdiction
// (godt_country), a year before 1990 or after the current one (godt_year)
// and a population outside 1 to 10,000,000,000 (godt_population).
func (s *Service) GODT(ctx context.Context, p *auth.Principal, q GODTQuery) (*GODTReport, error) {
	if err := p.Require(ReadFigures); err != nil {
		return nil, err
	}
	db := s.DB.Read() // in an export, its snapshot
	jurisdiction, err := s.Jurisdiction(ctx)
	if err != nil {
		return nil, err
	}
	if q.Country != jurisdiction {
		return nil, errs.Invalidf("godt_country", "country", "this registry holds the transplants of %s, not of %s", jurisdiction, q.Country)
	}
	if q.Year < 1990 || q.Year > s.now().Year() {
		return nil, errs.Invalidf("godt_year", "year", "year is a year from 1990 on, like 2025")
	}
	if q.Population < 1 || q.Population > 10_000_000_000 {
		return nil, errs.Invalidf("godt_population", "population", "population is the country's population that year, a whole number from 1 to 10,000,000,000")
	}
	// The reports' rows carry the UTC year of their times.
	c := map[string]int64{}
	rows, err := db.Query(ctx, godtDonorsSQL, q.Year)
	if err != nil {
		return nil, err
	}
	type donorRow struct {
		kind           string
		actual, useful int64
	}
	donors, err := store.Rows(rows, func(r store.Scanner, x *donorRow) error { return r.Scan(&x.kind, &x.actual, &x.useful) })
	if err != nil {
		return nil, err
	}
	for _, d := range donors {
		switch d.kind {
		case DonorBrainDeath:
			c["actual_dbd"] += d.actual
			c["utilized_dbd"] += d.useful
		case DonorCirculatoryDeath:
			c["actual_dcd"] += d.actual
			c["utilized_dcd"] += d.useful
		case DonorLiving:
			c["living_donors"] += d.actual
		}
	}
	c["total_actual_dd"] = c["actual_dbd"] + c["actual_dcd"]
	c["total_utilized_dd"] = c["utilized_dbd"] + c["utilized_dcd"]
	if rows, err = db.Query(ctx, godtTransplantsSQL, q.Year); err != nil {
		return nil, err
	}
	type txRow struct {
		organ, donor, procedure string
		n                       int64
	}
	txs, err := store.Rows(rows, func(r store.Scanner, x *txRow) error { return r.Scan(&x.organ, &x.donor, &x.procedure, &x.n) })
	if err != nil {
		return nil, err
	}
	for _, t := range txs {
		prefix := "dd_"
		switch t.donor {
		case DonorLiving:
			prefix = "ld_"
		case DonorDomino:
			prefix = "domino_"
		}
		switch t.organ {
		case "kidney", "liver", "lung":
			c[prefix+t.organ+"_tx"] += t.n
			c["total_"+t.organ+"_tx"] += t.n
		case "heart":
			c["total_heart_tx"] += t.n
			if t.procedure == ProcedureHeartLung {
				c["heart_lung_tx"] += t.n
			}
		case "pancreas":
			c["pancreas_tx"] += t.n
			if t.procedure == ProcedureKidneyPancreas {
				c["kidney_pancreas_tx"] += t.n
			}
		case "intestine":
			c["small_bowel_tx"] += t.n
		}
	}
	rep := &GODTReport{Country: q.Country, Year: q.Year, Population: q.Population}
	// Travel for transplantation: the residents' transplants abroad in the
	// year, whatever the country of destination (travel.go).
	tv, err := TravelForTransplantation(ctx, db, "", q.Year)
	if err != nil {
		return nil, err
	}
	travel, known := int64(tv.Transplants), true
	for _, f := range GODTFields {
		fig := GODTFigure{Field: f}
		v, ok := c[f], true
		if f == "travel" {
			v, ok = travel, known
		}
		if ok {
			pmp := math.Round(float64(v)*1e6/float64(q.Population)*100) / 100
			fig.Value, fig.PerMillion = &v, &pmp
		}
		rep.Figures = append(rep.Figures, fig)
	}
	return rep, nil
}

// ListGODT is the GODT report as an export names it.
const ListGODT = "godt"

// GODTColumns are the columns of the report's export: a row per field.
var GODTColumns = []string{"country", "year", "population", "field", "value", "per_million"}

// GODTExport reads the export of the report the query asks for (format,
// country, year, population): a row per field, with the header naming the
// log checkpoint it reflects; the export is a log entry (export.Export).
// The report is counted when the export runs, in its snapshot.
func (s *Service) GODTExport(p *auth.Principal, q url.Values) (export.Request, error) {
	if err := p.Require(ReadFigures); err != nil {
		return export.Request{}, err
	}
	format, q, err := export.Query(q)
	if err != nil {
		return export.Request{}, err
	}
	g, err := GODTQueryOf(q)
	if err != nil {
		return export.Request{}, err
	}
	return export.Request{Registry: Module.Name, List: ListGODT, Format: format, Filter: q, Columns: GODTColumns,
		Rows: func(ctx context.Context) iter.Seq2[[]any, error] {
			return func(yield func([]any, error) bool) {
				rep, err := s.GODT(ctx, p, g)
				if err != nil {
					yield(nil, err)
					return
				}
				for _, f := range rep.Figures {
					var v, pmp any
					if f.Value != nil {
						v, pmp = *f.Value, fmt.Sprintf("%.2f", *f.PerMillion)
					}
					if !yield([]any{rep.Country, rep.Year, rep.Population, f.Field, v, pmp}, nil) {
						return
					}
				}
			}
		}}, nil
}
